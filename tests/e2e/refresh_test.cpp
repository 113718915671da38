// refresh against the sandbox: the new pair is stored and the old refresh
// token is spent exactly once; an access token inside the 5-minute margin
// is refreshed by get, exec and test-call; "Location is not active" keeps the
// refresh token; two processes never spend the same refresh token.

#include "e2e/e2e_support.hpp"
#include "support/vault_snapshot.hpp"

#include <functional>
#include <thread>

namespace pitool::e2e {
namespace {

class Refresh : public E2E {
protected:
    /// An oauth integration whose first access token lives only 120 s (inside
    /// pitool's 5-minute margin); tokens issued afterwards live a day.
    void short_lived_token(const std::string& name, const std::string& location = "LOC1")
    {
        sb().config({{"access_token_ttl_s", 120}});
        oauth_token(name, location);
        sb().config({{"access_token_ttl_s", 86399}});
        sb().clear_requests();
    }

    /// The sandbox's refresh tokens, by state.
    std::map<std::string, int> refresh_token_states()
    {
        std::map<std::string, int> n;
        const json rts = sb().counters()["refresh_tokens"];
        for (const auto& rt : rts) ++n[rt["state"].get<std::string>()];
        return n;
    }
};

TEST_F(Refresh, StoresTheNewPairAndPresentsTheOldRefreshTokenOnce)
{
    oauth_token("crm", "LOC1");
    std::string before = get_token("crm");
    std::string fp_before = show("crm")["token"]["fingerprint"];

    auto r = pit_expect(0, {"refresh", "crm"});
    EXPECT_NE(r.out.find("Refreshed crm"), std::string::npos) << r.out;
    std::string after = get_token("crm");
    EXPECT_NE(after, before);
    auto j = show("crm");
    EXPECT_NE(j["token"]["fingerprint"], fp_before);
    EXPECT_EQ(j["oauth"]["has_refresh_token"], true);

    auto rts = sb().counters()["refresh_tokens"];
    ASSERT_EQ(rts.size(), 2U) << rts.dump();
    EXPECT_EQ(rts[0]["state"], "used");
    EXPECT_EQ(rts[0]["presented"], 1) << "the old refresh token was presented more than once";
    EXPECT_EQ(rts[1]["state"], "active");
    EXPECT_EQ(rts[1]["presented"], 0);
    EXPECT_EQ(sb().grants("refresh_token"), 1);

    // The new pair is the one stored: it works, and refreshes again.
    EXPECT_EQ(sb().admin("POST", "/tokens/inspect", {{"token", after}})["valid"], true);
    pit_expect(0, {"test-call", "crm"});
    pit_expect(0, {"refresh", "crm"});
    EXPECT_EQ(refresh_token_states()["used"], 2);
}

TEST_F(Refresh, IfNeededLeavesAFreshTokenAlone)
{
    oauth_token("crm", "LOC1");
    sb().clear_requests();
    auto r = pit_expect(0, {"refresh", "crm", "--if-needed"});
    EXPECT_NE(r.out.find("Not refreshed"), std::string::npos) << r.out;
    EXPECT_TRUE(sb().requests("/oauth/token").empty());
}

TEST_F(Refresh, TestCallRefreshesATokenInsideTheMargin)
{
    short_lived_token("crm");
    pit_expect(0, {"test-call", "crm"});
    EXPECT_EQ(sb().grants("refresh_token"), 1);
    pit_expect(0, {"test-call", "crm"});
    EXPECT_EQ(sb().grants("refresh_token"), 1) << "a fresh token was refreshed again";
}

TEST_F(Refresh, GetRefreshesATokenInsideTheMargin)
{
    short_lived_token("crm");
    std::string token = get_token("crm");
    EXPECT_EQ(sb().grants("refresh_token"), 1) << "get handed out an access token that expires within 5 minutes";
    auto seen = sb().admin("POST", "/tokens/inspect", {{"token", token}});
    EXPECT_EQ(seen["valid"], true);
    EXPECT_EQ(token, get_token("crm"));
    EXPECT_EQ(sb().grants("refresh_token"), 1);
}

TEST_F(Refresh, ExecRefreshesATokenInsideTheMargin)
{
    short_lived_token("crm");
    auto out = dir() / "token.out";
    pit_expect(0, {"exec", "crm", "--", "/bin/sh", "-c", "printf %s \"$PITOOL_TOKEN\" > \"$0\"", out.string()});
    std::string token = plant(pitool::test::read_file(out));
    ASSERT_FALSE(token.empty());
    EXPECT_EQ(sb().grants("refresh_token"), 1) << "exec handed out an access token that expires within 5 minutes";
    EXPECT_EQ(token, get_token("crm"));
}

TEST_F(Refresh, FailedAutoRefreshPrintsNoTokenAndRunsNothing)
{
    short_lived_token("crm");
    sb().admin("POST", "/locations/LOC1/deactivate");
    How how;
    how.reveals_token = true;
    auto r = pit_expect(7, {"get", "crm"}, how);
    EXPECT_EQ(r.out, "") << "get printed a token although its refresh failed";
    auto ran = dir() / "ran";
    pit_expect(7, {"exec", "crm", "--", "/bin/sh", "-c", ": > \"$0\"", ran.string()});
    EXPECT_FALSE(std::filesystem::exists(ran)) << "exec ran the command although the refresh failed";
    pit_expect(7, {"test-call", "crm"});
    EXPECT_TRUE(sb().requests("/locations/").empty());
    // Nothing was spent: once the location is back, the next get refreshes.
    sb().admin("POST", "/locations/LOC1/activate");
    get_token("crm");
    EXPECT_EQ(refresh_token_states()["used"], 1);
}

TEST_F(Refresh, InactiveLocationKeepsTheRefreshToken)
{
    oauth_token("crm", "LOC1");
    std::string fp = show("crm")["token"]["fingerprint"];
    const pitool::test::VaultSnapshot bytes(vault().parent_path());
    sb().admin("POST", "/locations/LOC1/deactivate");

    auto r = pit_expect(7, {"refresh", "crm"});
    EXPECT_NE(r.err.find("not active"), std::string::npos) << r.err;
    EXPECT_TRUE(bytes.unchanged()) << "a refused refresh changed the vault";
    auto j = show("crm");
    EXPECT_EQ(j["oauth"]["has_refresh_token"], true);
    EXPECT_EQ(j["token"]["fingerprint"], fp);
    auto rts = sb().counters()["refresh_tokens"];
    ASSERT_EQ(rts.size(), 1U);
    EXPECT_EQ(rts[0]["state"], "active");

    sb().admin("POST", "/locations/LOC1/activate");
    pit_expect(0, {"refresh", "crm"});
    pit_expect(0, {"test-call", "crm"});
    EXPECT_EQ(refresh_token_states()["used"], 1);
}

TEST_F(Refresh, MalformedGrantIsUnavailableAndKeepsTheRefreshToken)
{
    oauth_token("crm", "LOC1");
    const pitool::test::VaultSnapshot bytes(vault().parent_path());
    sb().fault({{"kind", "malformed"}, {"path_prefix", "/oauth/token"}});
    pit_expect(8, {"refresh", "crm"});
    EXPECT_TRUE(bytes.unchanged());
    pit_expect(0, {"refresh", "crm"});
    pit_expect(0, {"test-call", "crm"});
}

TEST_F(Refresh, IsNotRetriedAfterA500)
{
    oauth_token("crm", "LOC1");
    sb().clear_requests();
    sb().fault({{"kind", "status"}, {"status", 500}, {"count", 3}, {"path_prefix", "/oauth/token"}});
    pit_expect(8, {"refresh", "crm"});
    EXPECT_EQ(sb().requests("/oauth/token").size(), 1U) << "a refresh was replayed: " << sb().requests().dump();
    sb().admin("DELETE", "/faults");
    pit_expect(0, {"refresh", "crm"});
}

/// Runs `one` in two threads at once (two pitool processes).
void run_twice_at_once(const std::function<pitool::test::RunResult()>& one, pitool::test::RunResult& a,
                       pitool::test::RunResult& b)
{
    std::thread t1([&] { a = one(); });
    std::thread t2([&] { b = one(); });
    t1.join();
    t2.join();
}

TEST_F(Refresh, TwoProcessesRefreshingAtOnceSpendTheRefreshTokenOnce)
{
    short_lived_token("crm");
    // pit() records outputs in the fixture: run the raw processes in the
    // threads and record afterwards.
    auto env = base_env();
    auto launch = [&] {
        pitool::test::RunOptions o;
        o.env = env;
        o.timeout_seconds = 30;
        return pitool::test::run({PITOOL_BIN, "refresh", "crm", "--if-needed"}, o);
    };
    pitool::test::RunResult a, b;
    run_twice_at_once(launch, a, b);
    EXPECT_EQ(a.exit_code, 0) << a.err;
    EXPECT_EQ(b.exit_code, 0) << b.err;
    check_hygiene({{"refresh A stdout", a.out},
                   {"refresh A stderr", a.err},
                   {"refresh B stdout", b.out},
                   {"refresh B stderr", b.err}});

    EXPECT_EQ(sb().grants("refresh_token"), 1) << sb().requests().dump();
    auto rts = sb().counters()["refresh_tokens"];
    ASSERT_EQ(rts.size(), 2U) << rts.dump();
    EXPECT_EQ(rts[0]["presented"], 1) << "the refresh token was presented twice";
    EXPECT_EQ(rts[1]["state"], "active");
    pit_expect(0, {"test-call", "crm"});
}

TEST_F(Refresh, TwoTestCallsAutoRefreshingAtOnceSpendTheRefreshTokenOnce)
{
    short_lived_token("crm");
    auto env = base_env();
    auto launch = [&] {
        pitool::test::RunOptions o;
        o.env = env;
        o.timeout_seconds = 30;
        return pitool::test::run({PITOOL_BIN, "test-call", "crm"}, o);
    };
    pitool::test::RunResult a, b;
    run_twice_at_once(launch, a, b);
    EXPECT_EQ(a.exit_code, 0) << a.err;
    EXPECT_EQ(b.exit_code, 0) << b.err;
    check_hygiene({{"test-call A stdout", a.out},
                   {"test-call A stderr", a.err},
                   {"test-call B stdout", b.out},
                   {"test-call B stderr", b.err}});
    EXPECT_EQ(sb().grants("refresh_token"), 1) << sb().requests().dump();
    auto rts = sb().counters()["refresh_tokens"];
    ASSERT_EQ(rts.size(), 2U) << rts.dump();
    EXPECT_EQ(rts[0]["presented"], 1);
    // Both test calls went out with a working token.
    int ok = 0;
    for (const auto& r : sb().requests("/locations/"))
        if (r["status"] == 200) ++ok;
    EXPECT_EQ(ok, 2);
}

} // namespace
} // namespace pitool::e2e
