// test-call --all against the sandbox: one concurrent batch over every
// stored token, per-item results, filters, the exit code, one vault write,
// and a 429 that pauses only its own provider.

#include "e2e/e2e_support.hpp"

#include <set>

namespace pitool::e2e {
namespace {

class TestCallAll : public E2E {
protected:
    void SetUp() override
    {
        E2E::SetUp();
        if (HasFatalFailure()) return;
        store_pit("lc-a", "LOC1", {"locations.readonly"});
        store_pit("lc-b", "LOC2", {"locations.readonly"});
        m_dead = store_pit("lc-dead", "LOC3", {"locations.readonly"});
        store_app("lc-app", {"locations.readonly"}); // no bearer token: never tested
        std::string pid = store_partner("hint-partner");
        How how;
        how.in = mint_hint_code(pid) + "\n";
        pit_expect(0,
                   {"exchange-code", "--provider", "hint", "--partner", "hint-partner", "--name", "hint-practice",
                    "--code-stdin"},
                   how);
        sb().clear_requests();
    }

    void kill_dead_token() const { sb().admin("DELETE", "/pits/" + m_dead["id"].get<std::string>()); }

    static json by_name(const json& report, const std::string& name)
    {
        for (const auto& it : report["results"])
            if (it["name"] == name) return it;
        ADD_FAILURE() << "no result for " << name << " in " << report.dump();
        return json::object();
    }

    json m_dead;
};

TEST_F(TestCallAll, ChecksEveryTokenOfBothProvidersAndReportsEach)
{
    kill_dead_token();
    auto r = pit_expect(7, {"test-call", "--all", "--json"});
    EXPECT_NE(r.err.find("pitool: error: 1 of 5 test calls failed"), std::string::npos) << r.err;
    auto report = parsed(r);
    ASSERT_EQ(report["results"].size(), 5U) << report.dump(); // the OAuth app is not a bearer token
    EXPECT_EQ(report["summary"], (json{{"total", 5}, {"ok", 4}, {"failed", 1}}));
    for (const char* name : {"lc-a", "lc-b", "hint-partner", "hint-practice"}) {
        auto it = by_name(report, name);
        EXPECT_EQ(it["ok"], true) << it.dump();
        EXPECT_EQ(it["status"], 200) << it.dump();
    }
    auto dead = by_name(report, "lc-dead");
    EXPECT_EQ(dead["ok"], false);
    EXPECT_EQ(dead["status"], 401);
    EXPECT_EQ(dead["failure"], "invalid token");
    EXPECT_EQ(dead["attempts"], 1);

    // One request per credential (the 401 is not retried), each with its own headers.
    auto log = sb().requests();
    EXPECT_EQ(log.size(), 5U) << log.dump();
    for (const auto& e : log) {
        EXPECT_EQ(e["authorization"], true);
        if (e["api"] == "leadconnector") {
            EXPECT_EQ(e["version"], "2021-07-28");
        }
    }
    // Every verdict is recorded, the refusal too.
    EXPECT_EQ(show("lc-a")["last_check"]["ok"], true);
    EXPECT_EQ(show("hint-practice")["last_check"]["status"], 200);
    EXPECT_EQ(show("lc-dead")["last_check"]["ok"], false);
    EXPECT_TRUE(show("lc-app")["last_check"].is_null());
}

TEST_F(TestCallAll, JsonItemsHaveTheSingleTestCallShape)
{
    auto single = parsed(pit_expect(0, {"test-call", "lc-a", "--json"}));
    auto report = parsed(pit_expect(0, {"test-call", "--all", "--json", "--provider", "leadconnector"}));
    std::set<std::string> single_keys;
    for (const auto& [k, v] : single.items()) single_keys.insert(k);
    single_keys.insert("error");
    single_keys.erase("schema_version"); // a document's, not an item's
    ASSERT_EQ(report["results"].size(), 3U);
    for (const auto& it : report["results"]) {
        std::set<std::string> keys;
        for (const auto& [k, v] : it.items()) keys.insert(k);
        EXPECT_EQ(keys, single_keys) << it.dump();
        EXPECT_TRUE(it["error"].is_null());
        EXPECT_EQ(it["token"], "current");
        EXPECT_EQ(it["method"], "GET");
    }
    auto a = by_name(report, "lc-a");
    for (const char* k : {"fingerprint", "path", "status", "ok", "summary"}) EXPECT_EQ(a[k], single[k]) << k;
    EXPECT_EQ(report["summary"], (json{{"total", 3}, {"ok", 3}, {"failed", 0}}));
}

TEST_F(TestCallAll, FiltersAndTable)
{
    auto r = pit_expect(0, {"test-call", "--all", "--provider", "hint"});
    EXPECT_NE(r.out.find("hint-partner"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("hint-practice"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("lc-"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("2 checked: 2 ok, 0 failed"), std::string::npos) << r.out;
    EXPECT_EQ(r.err, "");

    kill_dead_token();
    r = pit_expect(7, {"test-call", "--all", "--kind", "pit", "--parallel", "1"});
    EXPECT_NE(r.out.find("NAME"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("FAILED"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("3 checked: 2 ok, 1 failed"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("hint"), std::string::npos) << r.out;

    r = pit_expect(0, {"test-call", "--all", "--kind", "practice-key", "--json"});
    EXPECT_EQ(parsed(r)["summary"]["total"], 1);
    EXPECT_EQ(sb().requests().size(), 2U + 3U + 1U);
}

TEST_F(TestCallAll, UsageErrors)
{
    pit_expect(2, {"test-call"});
    pit_expect(2, {"test-call", "lc-a", "--all"});
    pit_expect(2, {"test-call", "--all", "--parallel", "0"});
    pit_expect(2, {"test-call", "--all", "--parallel", "65"});
    pit_expect(2, {"test-call", "--all", "--kind", "oauth-app"});
    pit_expect(2, {"test-call", "--all", "--path", "/locations/LOC1"});
    pit_expect(2, {"test-call", "--all", "--old"});
    pit_expect(2, {"test-call", "lc-a", "--parallel", "4"});
    pit_expect(2, {"test-call", "--all", "--provider", "nope"});
    EXPECT_TRUE(sb().requests().empty());
}

TEST_F(TestCallAll, ProviderDownIsUnavailable)
{
    sb().fault({{"kind", "status"}, {"status", 503}, {"count", -1}, {"path_prefix", "/api/"}});
    auto r = pit_expect(8, {"test-call", "--all", "--json"});
    auto report = parsed(r);
    EXPECT_EQ(report["summary"]["failed"], 2);
    EXPECT_EQ(by_name(report, "hint-practice")["failure"], "provider error");
    EXPECT_EQ(by_name(report, "hint-practice")["attempts"], 4);
    EXPECT_EQ(by_name(report, "lc-a")["ok"], true);
    // A rejected token outranks an unavailable provider in the exit code.
    kill_dead_token();
    pit_expect(7, {"test-call", "--all"});
}

TEST_F(TestCallAll, RetryAfterPausesOnlyThatProvider)
{
    // One request at a time so the order in the sandbox's log tells the
    // story: LOC1 gets a 429 asking for 1 s; LeadConnector starts nothing
    // more until then, while Hint goes on.
    sb().fault({{"kind", "rate_limit"}, {"retry_after", 1}, {"path_prefix", "/locations/LOC1"}});
    auto report = parsed(pit_expect(0, {"test-call", "--all", "--json", "--parallel", "1"}));
    EXPECT_EQ(report["summary"], (json{{"total", 5}, {"ok", 5}, {"failed", 0}}));
    EXPECT_EQ(by_name(report, "lc-a")["attempts"], 2);
    EXPECT_EQ(by_name(report, "lc-b")["attempts"], 1);

    // Credentials are checked in name order (hint-* before lc-*): after the
    // 429 the remaining Hint request goes out, and LeadConnector resumes only
    // after it.
    auto log = sb().requests();
    ASSERT_EQ(log.size(), 6U) << log.dump();
    std::size_t k = 0;
    while (k < log.size() && log[k]["status"] != 429) ++k;
    ASSERT_LT(k, log.size()) << log.dump();
    EXPECT_EQ(log[k]["path"], "/locations/LOC1");
    ASSERT_LT(k + 1, log.size());
    EXPECT_EQ(log[k + 1]["api"], "hint") << log.dump();
    bool lc_resumed = false;
    for (std::size_t i = k + 1; i < log.size(); ++i) {
        if (log[i]["api"] == "leadconnector")
            lc_resumed = true;
        else
            EXPECT_FALSE(lc_resumed) << "Hint waited for LeadConnector's pause: " << log.dump();
    }
    EXPECT_TRUE(lc_resumed);
}

} // namespace
} // namespace pitool::e2e
