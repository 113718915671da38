// test-call against the sandbox: the seed's calls, every error class with
// its exit code, retries and Retry-After, codes never replayed, and
// credentials never sent to another origin.

#include "e2e/e2e_support.hpp"
#include "support/vault_snapshot.hpp"

#include <algorithm>
#include <atomic>
#include <thread>

namespace pitool::e2e {
namespace {

using Clock = std::chrono::steady_clock;

class TestCall : public E2E {
protected:
    void SetUp() override
    {
        E2E::SetUp();
        if (HasFatalFailure()) return;
        m_pit = store_pit("crm", "LOC1", {"locations.readonly", "contacts.write"});
        sb().clear_requests();
    }
    json m_pit;
};

TEST_F(TestCall, DefaultCallReadsTheLocationWithTheRightVersionHeader)
{
    auto r = pit_expect(0, {"test-call", "crm"});
    EXPECT_NE(r.out.find("GET /locations/LOC1 -> HTTP 200"), std::string::npos) << r.out;
    auto log = sb().requests();
    ASSERT_EQ(log.size(), 1U);
    EXPECT_EQ(log[0]["path"], "/locations/LOC1");
    EXPECT_EQ(log[0]["authorization"], true);
    EXPECT_EQ(log[0]["version"], "2021-07-28");
    // The result is recorded on the integration.
    auto j = show("crm");
    ASSERT_TRUE(j["last_check"].is_object()) << j.dump();
    EXPECT_EQ(j["last_check"]["ok"], true);
    EXPECT_EQ(j["last_check"]["status"], 200);
}

TEST_F(TestCall, SeedContactExampleCreatesAContact)
{
    auto r = pit_expect(0, {"test-call", "crm", "--method", "POST", "--path", "/contacts/", "--data",
                            R"({"firstName":"John","locationId":"LOC1"})"});
    EXPECT_NE(r.out.find("HTTP 201"), std::string::npos) << r.out;

    auto body = dir() / "contact.json";
    pitool::test::write_file(body,
                             R"({"firstName":"Jane","lastName":"Doe","email":"jane@example.com","locationId":"LOC1"})");
    r = pit_expect(0, {"test-call", "crm", "--path", "/contacts/", "--data", "@" + body.string()});
    EXPECT_NE(r.out.find("HTTP 201"), std::string::npos) << r.out;

    auto log = sb().requests("/contacts");
    ASSERT_EQ(log.size(), 2U);
    for (const auto& e : log) {
        EXPECT_EQ(e["method"], "POST");
        EXPECT_EQ(e["status"], 201);
        EXPECT_EQ(e["version"], "2021-07-28");
    }
    EXPECT_EQ(sb().admin("GET", "/locations/LOC1")["contacts"], 2);
}

TEST_F(TestCall, InvalidPathOrDataIsAUsageError)
{
    pit_expect(2, {"test-call", "crm", "--path", sb().url() + "/locations/LOC1"});
    pit_expect(2, {"test-call", "crm", "--path", "https://services.leadconnectorhq.com/locations/LOC1"});
    pit_expect(2, {"test-call", "crm", "--path", "/contacts/", "--data", "{not json"});
    EXPECT_TRUE(sb().requests().empty()) << sb().requests().dump();
}

TEST_F(TestCall, InvalidTokenIsRejected)
{
    sb().admin("DELETE", "/pits/" + m_pit["id"].get<std::string>());
    auto r = pit_expect(7, {"test-call", "crm"});
    EXPECT_NE(r.err.find("invalid token"), std::string::npos) << r.err;
    EXPECT_EQ(sb().requests().size(), 1U) << "a 401 was retried";
    auto j = show("crm");
    ASSERT_TRUE(j["last_check"].is_object());
    EXPECT_EQ(j["last_check"]["ok"], false);
    EXPECT_EQ(j["last_check"]["status"], 401);
}

TEST_F(TestCall, MissingScopeIsRejectedAndNamed)
{
    store_pit("writer", "LOC1", {"contacts.write"});
    auto r = pit_expect(7, {"test-call", "writer"});
    EXPECT_NE(r.err.find("missing scope"), std::string::npos) << r.err;
}

TEST_F(TestCall, WrongLocationIsRejected)
{
    sb().admin("POST", "/locations", {{"id", "LOC2"}}, 201);
    store_pit("misfiled", "LOC1", {"locations.readonly"}, "LOC2");
    auto r = pit_expect(7, {"test-call", "misfiled"});
    EXPECT_NE(r.err.find("wrong location"), std::string::npos) << r.err;
    EXPECT_NE(r.out.find("403"), std::string::npos) << r.out;
}

TEST_F(TestCall, AFailedCallPrintsItsResultAndOneErrorLineOnStderrOnly)
{
    // docs/cli.md#test-call: a call the provider answered prints its result
    // object (ok false) and no error object; the error line goes to stderr.
    sb().admin("POST", "/locations", {{"id", "LOC2"}}, 201);
    store_pit("misfiled", "LOC1", {"locations.readonly"}, "LOC2");
    auto r = pit_expect(7, {"--json", "test-call", "misfiled"});
    ASSERT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << "one document, no error object: " << r.out;
    const auto doc = json::parse(r.out);
    EXPECT_FALSE(doc.contains("error")) << r.out;
    EXPECT_EQ(doc.at("ok"), false);
    EXPECT_EQ(doc.at("status"), 403);
    EXPECT_EQ(doc.at("failure"), "wrong location or account");
    EXPECT_EQ(r.err, "pitool: error: test call failed: HTTP 403, " + doc.at("summary").get<std::string>() + "\n");

    r = pit_expect(7, {"test-call", "misfiled"});
    EXPECT_EQ(r.out.rfind("FAILED misfiled (token ", 0), 0u) << r.out;
    EXPECT_NE(r.out.find(": GET /locations/LOC2 -> HTTP 403 in "), std::string::npos) << r.out;
    EXPECT_EQ(r.err.rfind("pitool: error: test call failed: HTTP 403, wrong location or account: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST_F(TestCall, RateLimitedIsRetriedThenUnavailable)
{
    sb().fault({{"kind", "rate_limit"}, {"count", 20}, {"retry_after", 0}, {"path_prefix", "/locations/"}});
    auto r = pit_expect(8, {"test-call", "crm"});
    EXPECT_NE(r.err.find("rate limited"), std::string::npos) << r.err;
    auto log = sb().requests();
    EXPECT_GE(log.size(), 2U) << "a 429 on a GET was not retried";
    EXPECT_LE(log.size(), 10U);
    for (const auto& e : log) {
        EXPECT_EQ(e["status"], 429);
        EXPECT_EQ(e["fault"], "rate_limit");
    }
}

TEST_F(TestCall, ServerErrorIsRetriedThenUnavailable)
{
    sb().fault({{"kind", "status"}, {"status", 500}, {"count", 20}, {"path_prefix", "/locations/"}});
    auto r = pit_expect(8, {"test-call", "crm"});
    EXPECT_GE(sb().requests().size(), 2U) << "a 500 on a GET was not retried";
    EXPECT_NE(r.err.find("500"), std::string::npos) << r.err;
}

TEST_F(TestCall, OneServerErrorThenSuccessIsOk)
{
    sb().fault({{"kind", "status"}, {"status", 503}, {"count", 1}, {"path_prefix", "/locations/"}});
    pit_expect(0, {"test-call", "crm"});
    EXPECT_EQ(sb().requests().size(), 2U);
}

TEST_F(TestCall, RetryAfterIsHonoured)
{
    sb().fault({{"kind", "rate_limit"}, {"count", 1}, {"retry_after", 1}, {"path_prefix", "/locations/"}});
    auto t0 = Clock::now();
    pit_expect(0, {"test-call", "crm"});
    double took = seconds_since(t0);
    EXPECT_GE(took, 1.0) << "Retry-After: 1 was not waited for";
    EXPECT_LT(took, 8.0);
    auto log = sb().requests();
    ASSERT_EQ(log.size(), 2U);
    EXPECT_EQ(log[0]["status"], 429);
    EXPECT_EQ(log[1]["status"], 200);
}

TEST_F(TestCall, RetryAfterBeyondTheCapIsNotWaitedFor)
{
    sb().fault({{"kind", "rate_limit"}, {"count", 5}, {"retry_after", 30}, {"path_prefix", "/locations/"}});
    auto t0 = Clock::now();
    pit_expect(8, {"test-call", "crm"});
    EXPECT_LT(seconds_since(t0), 5.0) << "waited for a Retry-After above the 8 s cap";
    EXPECT_EQ(sb().requests().size(), 1U);
}

TEST_F(TestCall, PostIsNotRetriedAfterA500)
{
    sb().fault({{"kind", "status"}, {"status", 500}, {"count", 5}, {"path_prefix", "/contacts"}});
    pit_expect(8,
               {"test-call", "crm", "--path", "/contacts/", "--data", R"({"firstName":"John","locationId":"LOC1"})"});
    EXPECT_EQ(sb().requests("/contacts").size(), 1U) << "a POST was replayed";
}

TEST_F(TestCall, SlowProviderTimesOutWithinBound)
{
    sb().fault({{"kind", "delay"}, {"delay_ms", 4000}, {"count", 20}, {"path_prefix", "/locations/"}});
    auto t0 = Clock::now();
    How how;
    how.env["PITOOL_HTTP_TIMEOUT"] = "1";
    pit_expect(8, {"test-call", "crm"}, how);
    EXPECT_LT(seconds_since(t0), 12.0) << "PITOOL_HTTP_TIMEOUT=1 did not bound the call";
}

TEST_F(TestCall, ConnectionRefusedIsUnavailable)
{
    std::string dead = "http://127.0.0.1:" + std::to_string(closed_port());
    How how;
    how.in = plant("pit-" + random_hex(8) + "-" + random_hex(4) + "-" + random_hex(4) + "-" + random_hex(4) + "-" +
                   random_hex(12)) +
             "\n";
    pit_expect(
        0,
        {"create", "nowhere", "--provider", "leadconnector", "--location", "LOC1", "--base-url", dead, "--token-stdin"},
        how);
    auto t0 = Clock::now();
    pit_expect(8, {"test-call", "nowhere"});
    EXPECT_LT(seconds_since(t0), 15.0);
    EXPECT_TRUE(show("nowhere")["last_check"].is_null()) << "a transport failure was recorded as a check";
}

TEST_F(TestCall, DroppedConnectionIsUnavailable)
{
    sb().fault({{"kind", "close"}, {"count", 20}, {"path_prefix", "/locations/"}});
    pit_expect(8, {"test-call", "crm"});
}

TEST_F(TestCall, RedirectToAnotherOriginIsRefusedWithoutSendingTheToken)
{
    // Default target: the same path on http://localhost:PORT, another origin
    // served by the same sandbox, so a followed redirect would be logged.
    sb().fault({{"kind", "redirect"}, {"count", 1}, {"path_prefix", "/locations/"}});
    auto r = pit_expect(8, {"test-call", "crm"});
    EXPECT_NE(r.err.find("redirect"), std::string::npos) << r.err;
    auto log = sb().requests();
    ASSERT_EQ(log.size(), 1U) << "the redirect was followed: " << log.dump();
    EXPECT_EQ(log[0]["fault"], "redirect");
}

TEST_F(TestCall, RedirectToAnotherServerNeverReachesIt)
{
    // The other origin is a listener of our own that records every request.
    httplib::Server other;
    std::atomic<int> hits{0};
    std::atomic<int> with_auth{0};
    other.Get(".*", [&](const httplib::Request& req, httplib::Response& res) {
        ++hits;
        if (req.has_header("Authorization")) ++with_auth;
        res.set_content("{}", "application/json");
    });
    int port = other.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port, 0);
    std::thread serving([&] { other.listen_after_bind(); });
    for (int i = 0; i < 200 && !other.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));

    sb().fault({{"kind", "redirect"},
                {"count", 1},
                {"status", 307},
                {"path_prefix", "/locations/"},
                {"location", "http://127.0.0.1:" + std::to_string(port) + "/locations/LOC1"}});
    pit_expect(8, {"test-call", "crm"});
    other.stop();
    serving.join();
    EXPECT_EQ(with_auth.load(), 0) << "the token was sent to another origin";
    EXPECT_EQ(hits.load(), 0);
}

TEST_F(TestCall, HintPracticeAndPartnerKeysHaveWorkingDefaultCalls)
{
    std::string pid = store_partner("acme");
    How how;
    how.in = mint_hint_code(pid) + "\n";
    pit_expect(0, {"exchange-code", "--provider", "hint", "--partner", "acme", "--name", "joes", "--code-stdin"}, how);
    auto r = pit_expect(0, {"test-call", "joes"});
    EXPECT_NE(r.out.find("/api/provider/practice"), std::string::npos) << r.out;
    pit_expect(0, {"test-call", "acme"});
}

TEST_F(TestCall, RequestBodyIsNeverLogged)
{
    std::string marker = plant("personal-data-" + random_hex(24));
    auto body = dir() / "contact.json";
    pitool::test::write_file(body, R"({"firstName":")" + marker + R"(","locationId":"LOC1"})");
    auto r = pit_expect(0, {"-vv", "test-call", "crm", "--path", "/contacts/", "--data", "@" + body.string()});
    EXPECT_NE(r.err.find("http: >"), std::string::npos) << r.err;
}

TEST_F(TestCall, OnlyCallsThatJudgeTheCredentialAreRecorded)
{
    // A custom path that fails for another reason (404): exit 2, not recorded.
    pit_expect(2, {"test-call", "crm", "--path", "/nope"});
    EXPECT_TRUE(show("crm")["last_check"].is_null());
    pit_expect(0, {"test-call", "crm"});
    EXPECT_EQ(show("crm")["last_check"]["status"], 200);
    sb().fault({{"kind", "status"}, {"status", 500}, {"count", 1}, {"path_prefix", "/contacts"}});
    pit_expect(8, {"test-call", "crm", "--path", "/contacts/", "--data", R"({"locationId":"LOC1"})"});
    EXPECT_EQ(show("crm")["last_check"]["status"], 200) << "a 5xx on a custom path replaced the last check";

    // --old is never recorded, whether the old token works or is rejected.
    auto rotated = sb().admin("POST", "/pits/" + m_pit["id"].get<std::string>() + "/rotate", {{"mode", "later"}});
    How how;
    how.in = plant(rotated["token"].get<std::string>()) + "\n";
    pit_expect(0, {"rotate", "crm", "--token-stdin"}, how);
    pit_expect(0, {"test-call", "crm"}); // the current (new) token's check
    const auto recorded = show("crm")["last_check"];
    ASSERT_TRUE(recorded.is_object()) << "the current token's check was not recorded";
    const pitool::test::VaultSnapshot before_old(vault().parent_path());
    sb().clear_requests();
    auto old_ok = pit_expect(0, {"test-call", "crm", "--old"});
    EXPECT_NE(old_ok.out.find("old token"), std::string::npos) << old_ok.out;
    ASSERT_EQ(sb().requests("/locations/").size(), 1U) << "the --old call did not reach the provider";
    EXPECT_EQ(show("crm")["last_check"], recorded) << "a successful --old call was recorded";
    EXPECT_TRUE(before_old.unchanged()) << "a successful --old call wrote the vault";
    // The provider expires the old token: the --old call is rejected (7), still not recorded.
    sb().admin("POST", "/pits/" + m_pit["id"].get<std::string>() + "/expire-now");
    pit_expect(7, {"test-call", "crm", "--old"});
    EXPECT_EQ(show("crm")["last_check"], recorded) << "a rejected --old call was recorded";
    EXPECT_TRUE(before_old.unchanged()) << "a rejected --old call wrote the vault";
}

TEST_F(TestCall, RateLimitFiguresAreReported)
{
    auto r = pit_expect(0, {"-v", "test-call", "crm"});
    EXPECT_NE(r.err.find("rate limit"), std::string::npos) << r.err;
}

// ---- the token endpoint: never replayed -----------------------------------

class TokenEndpoint : public E2E {};

TEST_F(TokenEndpoint, ExchangeIsNotRetriedAfterA500)
{
    std::string cid = store_app("crm-app", {"locations.readonly"});
    std::string code = mint_code(cid, "LOC1");
    sb().clear_requests();
    sb().fault({{"kind", "status"}, {"status", 500}, {"count", 5}, {"path_prefix", "/oauth/token"}});
    How how;
    how.in = code + "\n";
    std::vector<std::string> args{"exchange-code", "--provider", "leadconnector", "--app",
                                  "crm-app",       "--name",     "crm",           "--code-stdin"};
    const pitool::test::VaultSnapshot bytes(vault().parent_path());
    pit_expect(8, args, how);
    EXPECT_EQ(sb().requests("/oauth/token").size(), 1U) << "the code exchange was replayed";
    EXPECT_TRUE(bytes.unchanged());
    // The faulted request did not spend the code: it still works.
    sb().admin("DELETE", "/faults");
    pit_expect(0, args, how);
}

TEST_F(TokenEndpoint, ExchangeIsNotRetriedAfterA429)
{
    std::string cid = store_app("crm-app", {"locations.readonly"});
    std::string code = mint_code(cid, "LOC1");
    sb().clear_requests();
    sb().fault({{"kind", "rate_limit"}, {"count", 5}, {"retry_after", 0}, {"path_prefix", "/oauth/token"}});
    How how;
    how.in = code + "\n";
    pit_expect(8, {"exchange-code", "--provider", "leadconnector", "--app", "crm-app", "--name", "crm", "--code-stdin"},
               how);
    EXPECT_EQ(sb().requests("/oauth/token").size(), 1U);
}

TEST_F(TokenEndpoint, HintExchangeIsNotRetriedAfterA500OrADroppedConnection)
{
    std::string pid = store_partner("acme");
    How how;
    how.in = mint_hint_code(pid) + "\n";
    sb().clear_requests();
    sb().fault({{"kind", "status"}, {"status", 502}, {"count", 5}, {"path_prefix", "/api/oauth"}});
    pit_expect(8, {"exchange-code", "--provider", "hint", "--partner", "acme", "--name", "joes", "--code-stdin"}, how);
    EXPECT_EQ(sb().requests("/api/oauth").size(), 1U);
    sb().admin("DELETE", "/faults");
    sb().clear_requests();
    sb().fault({{"kind", "close"}, {"count", 5}, {"path_prefix", "/api/oauth"}});
    pit_expect(8, {"exchange-code", "--provider", "hint", "--partner", "acme", "--name", "joes", "--code-stdin"}, how);
    EXPECT_EQ(sb().requests("/api/oauth").size(), 1U) << "a request that may have reached the server was replayed";
}

TEST_F(TokenEndpoint, ExchangeIsNotRedirected)
{
    std::string cid = store_app("crm-app", {"locations.readonly"});
    How how;
    how.in = mint_code(cid, "LOC1") + "\n";
    sb().clear_requests();
    sb().fault({{"kind", "redirect"}, {"status", 307}, {"count", 1}, {"path_prefix", "/oauth/token"}});
    pit_expect(8, {"exchange-code", "--provider", "leadconnector", "--app", "crm-app", "--name", "crm", "--code-stdin"},
               how);
    EXPECT_EQ(sb().requests("/oauth/token").size(), 1U) << "the code (and client secret) followed a redirect";
    pit_expect(0, {"exchange-code", "--provider", "leadconnector", "--app", "crm-app", "--name", "crm", "--code-stdin"},
               how);
}

TEST_F(TokenEndpoint, MalformedTokenGrantIsUnavailable)
{
    std::string cid = store_app("crm-app", {"locations.readonly"});
    How how;
    how.in = mint_code(cid, "LOC1") + "\n";
    sb().fault({{"kind", "malformed"}, {"path_prefix", "/oauth/token"}});
    pit_expect(8, {"exchange-code", "--provider", "leadconnector", "--app", "crm-app", "--name", "crm", "--code-stdin"},
               how);
    pit_expect(3, {"show", "crm"});
}

TEST_F(TokenEndpoint, SlowTokenEndpointTimesOutOnce)
{
    std::string cid = store_app("crm-app", {"locations.readonly"});
    How how;
    how.in = mint_code(cid, "LOC1") + "\n";
    how.env["PITOOL_HTTP_TIMEOUT"] = "1";
    sb().clear_requests();
    sb().fault({{"kind", "delay"}, {"delay_ms", 3000}, {"count", 5}, {"path_prefix", "/oauth/token"}});
    auto t0 = Clock::now();
    pit_expect(8, {"exchange-code", "--provider", "leadconnector", "--app", "crm-app", "--name", "crm", "--code-stdin"},
               how);
    EXPECT_LT(seconds_since(t0), 6.0);
    EXPECT_EQ(sb().requests("/oauth/token").size(), 1U);
}

TEST_F(TokenEndpoint, ExchangeToAClosedPortIsUnavailable)
{
    auto a = sb().admin("POST", "/oauth/apps", {{"scopes", {"locations.readonly"}}}, 201);
    How create;
    create.in = plant(a["client_secret"].get<std::string>()) + "\n";
    pit_expect(0,
               {"create", "app", "--provider", "leadconnector", "--kind", "oauth-app", "--client-id",
                a["client_id"].get<std::string>(), "--base-url", "http://127.0.0.1:" + std::to_string(closed_port()),
                "--token-stdin"},
               create);
    How how;
    how.in = mint_code(a["client_id"], "LOC1") + "\n";
    pit_expect(8, {"exchange-code", "--provider", "leadconnector", "--app", "app", "--name", "crm", "--code-stdin"},
               how);
}

} // namespace
} // namespace pitool::e2e
