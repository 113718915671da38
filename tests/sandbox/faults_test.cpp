// Faults queued through /_sandbox/faults, and the request log that lets
// tests see retries without seeing secrets.

#include "sandbox/sandbox_fixture.hpp"

#include <chrono>

namespace pitool::sandbox_test {
namespace {

class Faults : public ::testing::Test {
protected:
    SandboxProcess sb;
    json pit = sb.make_pit("location", "LOC1", {"locations.readonly"});
    std::string token = pit["token"];

    httplib::Result get_location() const { return sb.client()->Get("/locations/LOC1", lc_headers(token)); }
    void fault(const json& spec) const { sb.admin("POST", "/faults", spec, 201); }
};

TEST_F(Faults, RateLimitWithRetryAfterThenNormal)
{
    fault({{"kind", "rate_limit"}, {"retry_after", 7}});
    auto r = get_location();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 429);
    EXPECT_EQ(r->get_header_value("Retry-After"), "7");
    EXPECT_EQ(json::parse(r->body)["statusCode"], 429);
    r = get_location();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
}

TEST_F(Faults, ServerErrorsAreConsumedOneRequestAtATime)
{
    fault({{"kind", "status"}, {"status", 500}, {"count", 2}});
    fault({{"kind", "status"}, {"status", 503}});
    std::vector<int> statuses;
    for (int i = 0; i < 4; ++i) {
        auto r = get_location();
        ASSERT_TRUE(r);
        statuses.push_back(r->status);
    }
    EXPECT_EQ(statuses, (std::vector<int>{500, 500, 503, 200}));
    EXPECT_TRUE(sb.admin("GET", "/faults")["faults"].empty());
}

TEST_F(Faults, DelayThenNormalAnswer)
{
    fault({{"kind", "delay"}, {"delay_ms", 300}});
    auto start = std::chrono::steady_clock::now();
    auto r = get_location();
    auto elapsed = std::chrono::steady_clock::now() - start;
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_GE(elapsed, std::chrono::milliseconds(300));
}

TEST_F(Faults, CountMinusOneAppliesToEveryRequestUntilCleared)
{
    fault({{"kind", "delay"}, {"delay_ms", 20}, {"count", -1}});
    for (int i = 0; i < 3; ++i) {
        auto r = get_location();
        ASSERT_TRUE(r);
        EXPECT_EQ(r->status, 200);
    }
    auto pending = sb.admin("GET", "/faults")["faults"];
    ASSERT_EQ(pending.size(), 1U) << pending.dump();
    EXPECT_EQ(pending[0]["remaining"], -1);
    EXPECT_EQ(sb.admin("DELETE", "/faults")["cleared"], 1);
    auto r = get_location();
    ASSERT_TRUE(r);
    auto log = sb.admin("GET", "/requests")["requests"];
    ASSERT_EQ(log.size(), 4U);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(log[i]["fault"], "delay") << log.dump();
    EXPECT_TRUE(log[3]["fault"].is_null()) << log.dump();
    sb.admin("POST", "/faults", {{"kind", "delay"}, {"count", -2}}, 400);
}

TEST_F(Faults, DelayLongerThanTheClientTimeout)
{
    fault({{"kind", "delay"}, {"delay_ms", 1500}});
    auto c = sb.client();
    c->set_read_timeout(0, 300'000);
    auto r = c->Get("/locations/LOC1", lc_headers(token));
    EXPECT_FALSE(r);
}

TEST_F(Faults, MalformedBody)
{
    fault({{"kind", "malformed"}});
    auto r = get_location();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_TRUE(json::parse(r->body, nullptr, false).is_discarded()) << r->body;
}

TEST_F(Faults, RedirectToAnotherOrigin)
{
    fault({{"kind", "redirect"}});
    auto r = get_location();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 302);
    EXPECT_EQ(r->get_header_value("Location"), "http://localhost:" + std::to_string(sb.port()) + "/locations/LOC1");

    fault({{"kind", "redirect"}, {"location", "https://attacker.example.test/steal"}, {"status", 307}});
    r = get_location();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 307);
    EXPECT_EQ(r->get_header_value("Location"), "https://attacker.example.test/steal");
}

TEST_F(Faults, ConnectionClosedWithoutAnswer)
{
    fault({{"kind", "close"}});
    auto r = get_location();
    EXPECT_FALSE(r);
    r = get_location();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
}

TEST_F(Faults, PathPrefixLimitsTheFault)
{
    fault({{"kind", "status"}, {"status", 500}, {"path_prefix", "/oauth/token"}});
    auto r = get_location();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    auto faults = sb.admin("GET", "/faults")["faults"];
    ASSERT_EQ(faults.size(), 1u);
    EXPECT_EQ(faults[0]["remaining"], 1);
    r = sb.client()->Post("/oauth/token", httplib::Params{{"grant_type", "refresh_token"}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 500);
    sb.admin("DELETE", "/faults");
}

TEST_F(Faults, AfterHandlingSpendsTheRefreshTokenButLosesTheAnswer)
{
    auto app = sb.admin("POST", "/oauth/apps", {{"scopes", {"locations.readonly"}}}, 201);
    auto code = sb.admin("POST", "/oauth/codes", {{"client_id", app["client_id"]}, {"location_id", "LOC1"}}, 201);
    httplib::Params exchange{{"client_id", app["client_id"]},
                             {"client_secret", app["client_secret"]},
                             {"grant_type", "authorization_code"},
                             {"code", code["code"]}};
    auto tokens = body_of(sb.client()->Post("/oauth/token", exchange));
    httplib::Params refresh{{"client_id", app["client_id"]},
                            {"client_secret", app["client_secret"]},
                            {"grant_type", "refresh_token"},
                            {"refresh_token", tokens["refresh_token"]}};
    fault({{"kind", "close"}, {"path_prefix", "/oauth/token"}, {"after_handling", true}});
    auto r = sb.client()->Post("/oauth/token", refresh);
    EXPECT_FALSE(r);
    r = sb.client()->Post("/oauth/token", refresh);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << "the lost answer still spent the refresh token";
}

TEST_F(Faults, HintPathsGetHintShapedFaults)
{
    fault({{"kind", "rate_limit"}, {"path_prefix", "/api/"}, {"retry_after", 2}});
    auto r = sb.client()->Get("/api/provider/practice", {{"Authorization", "Bearer x"}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 429);
    EXPECT_EQ(json::parse(r->body)["status"], 429);
    EXPECT_EQ(r->get_header_value("Retry-After"), "2");
}

TEST_F(Faults, BadFaultSpecsAreRejected)
{
    sb.admin("POST", "/faults", {{"kind", "explode"}}, 400);
    sb.admin("POST", "/faults", {{"kind", "status"}, {"status", 200}}, 400);
    sb.admin("POST", "/faults", {{"kind", "status"}, {"count", 0}}, 400);
}

TEST_F(Faults, RequestLogRecordsRetriesWithoutSecrets)
{
    sb.admin("DELETE", "/requests");
    fault({{"kind", "status"}, {"status", 503}});
    get_location();
    get_location();
    sb.client()->Get("/locations/LOC1", lc_headers(token, ""));
    auto r = sb.client()->Get("/_sandbox/requests?path_prefix=/locations");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body.find(token), std::string::npos) << "the log must not contain tokens";
    auto log = json::parse(r->body)["requests"];
    ASSERT_EQ(log.size(), 3u);
    EXPECT_EQ(log[0]["method"], "GET");
    EXPECT_EQ(log[0]["path"], "/locations/LOC1");
    EXPECT_EQ(log[0]["status"], 503);
    EXPECT_EQ(log[0]["fault"], "status");
    EXPECT_EQ(log[0]["authorization"], true);
    EXPECT_EQ(log[0]["version"], k_version);
    EXPECT_EQ(log[1]["status"], 200);
    EXPECT_TRUE(log[1]["fault"].is_null());
    EXPECT_TRUE(log[2]["version"].is_null());
    EXPECT_EQ(sb.admin("GET", "/counters")["requests_by_path"]["/locations/LOC1"], 3);
}

} // namespace
} // namespace pitool::sandbox_test
