// Hint InstantOn exchange and the practice/partner read calls.

#include "sandbox/sandbox_fixture.hpp"

namespace pitool::sandbox_test {
namespace {

class Hint : public ::testing::Test {
protected:
    SandboxProcess sb;
    json partner = sb.admin("POST", "/hint/partners", {{"name", "Acme Partner"}}, 201);
    std::string partner_key = partner["partner_key"];

    json mint(json extra = json::object()) const
    {
        extra["partner_id"] = partner["id"];
        return sb.admin("POST", "/hint/codes", extra, 201);
    }

    httplib::Result exchange(const std::string& key, const json& body) const
    {
        return sb.client()->Post("/api/oauth/tokens", {{"Authorization", "Bearer " + key}}, body.dump(),
                                 "application/json");
    }

    httplib::Result get(const std::string& path, const std::string& key) const
    {
        return sb.client()->Get(path, {{"Authorization", "Bearer " + key}});
    }
};

TEST_F(Hint, ExchangeCodeForPracticeKey)
{
    auto minted = mint({{"practice_name", "Sunrise Clinic"}, {"practice_email", "front@sunrise.test"}});
    const std::string code = minted["code"];
    const std::string practice_id = minted["practice"]["id"];
    EXPECT_EQ(practice_id.rfind("pra-", 0), 0u);

    auto r = exchange(partner_key, {{"grant_type", "authorization_code"}, {"code", code}, {"activate", true}});
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    auto b = json::parse(r->body);
    EXPECT_EQ(b["id"].get<std::string>().rfind("int-", 0), 0u);
    EXPECT_EQ(b["status"], "connected");
    EXPECT_EQ(b["token_type"], "bearer");
    EXPECT_TRUE(b["access_token"].is_string());
    EXPECT_TRUE(b["refresh_token"].is_null());
    EXPECT_TRUE(b["expires_in"].is_null());
    EXPECT_EQ(b["practice"], (json{{"id", practice_id}, {"name", "Sunrise Clinic"}}));
    ASSERT_EQ(b["api_keys"].size(), 1u);
    EXPECT_EQ(b["api_keys"][0]["token"], b["access_token"]);

    auto p = get("/api/provider/practice", b["access_token"]);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->status, 200);
    EXPECT_EQ(json::parse(p->body),
              (json{{"id", practice_id}, {"name", "Sunrise Clinic"}, {"email", "front@sunrise.test"}}));
}

TEST_F(Hint, ActivateFalseLeavesTheIntegrationPending)
{
    auto r =
        exchange(partner_key, {{"grant_type", "authorization_code"}, {"code", mint()["code"]}, {"activate", false}});
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200);
    EXPECT_EQ(json::parse(r->body)["status"], "pending");
}

TEST_F(Hint, CodesAreSingleUse)
{
    const std::string code = mint()["code"];
    auto r = exchange(partner_key, {{"grant_type", "authorization_code"}, {"code", code}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    r = exchange(partner_key, {{"grant_type", "authorization_code"}, {"code", code}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 422);
    auto b = json::parse(r->body);
    EXPECT_EQ(b["status"], 422);
    EXPECT_TRUE(b["message"].is_string());
    auto counters = sb.admin("GET", "/counters")["hint_codes"];
    ASSERT_EQ(counters.size(), 1u);
    EXPECT_EQ(counters[0]["presented"], 2);
}

TEST_F(Hint, ExchangeErrors)
{
    const std::string code = mint()["code"];
    auto r = exchange("not-a-partner-key", {{"grant_type", "authorization_code"}, {"code", code}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401);
    auto b = json::parse(r->body);
    EXPECT_EQ(b["status"], 401);
    EXPECT_TRUE(b["message"].is_string());

    r = exchange(partner_key, {{"grant_type", "client_credentials"}, {"code", code}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 422);
    EXPECT_EQ(json::parse(r->body)["status"], 422);

    auto other = sb.admin("POST", "/hint/partners", {{"name", "Other"}}, 201);
    r = exchange(other["partner_key"], {{"grant_type", "authorization_code"}, {"code", code}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 422) << "a code minted for another partner is invalid";

    // None of the failures spent the code.
    r = exchange(partner_key, {{"grant_type", "authorization_code"}, {"code", code}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
}

TEST_F(Hint, ProviderCallsRefusePartnerAndUnknownKeys)
{
    auto b = body_of(exchange(partner_key, {{"grant_type", "authorization_code"}, {"code", mint()["code"]}}));
    auto r = get("/api/provider/practice", partner_key);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401);
    EXPECT_EQ(json::parse(r->body)["status"], 401);
    r = get("/api/provider/practice", "unknown");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401);
    r = sb.client()->Get("/api/provider/practice");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401);
}

TEST_F(Hint, PartnerListsItsPractices)
{
    auto minted = mint();
    auto b = body_of(exchange(partner_key, {{"grant_type", "authorization_code"}, {"code", minted["code"]}}));
    mint(); // a practice with a code but no integration is not listed
    auto r = get("/api/partner/practices", partner_key);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200);
    auto list = json::parse(r->body);
    ASSERT_TRUE(list.is_array());
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0]["id"], minted["practice"]["id"]);
    EXPECT_EQ(list[0]["integration"]["id"], b["id"]);
    r = get("/api/partner/practices", b["access_token"]);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401);
}

TEST_F(Hint, PracticeKeyRotationThroughAdmin)
{
    auto b = body_of(exchange(partner_key, {{"grant_type", "authorization_code"}, {"code", mint()["code"]}}));
    const std::string integration = b["id"];
    auto view = sb.admin("GET", "/hint/integrations/" + integration);
    ASSERT_EQ(view["api_keys"].size(), 1u);
    const std::string old_key_id = view["api_keys"][0]["id"];

    auto added = sb.admin("POST", "/hint/integrations/" + integration + "/api-keys", {{"description", "new"}}, 201);
    auto r = get("/api/provider/practice", added["token"]);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    sb.admin("DELETE", "/hint/integrations/" + integration + "/api-keys/" + old_key_id);
    r = get("/api/provider/practice", b["access_token"]);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401);
    r = get("/api/provider/practice", added["token"]);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
}

TEST_F(Hint, UnknownPathIs404InHintShape)
{
    auto r = get("/api/nothing", partner_key);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 404);
    EXPECT_EQ(json::parse(r->body)["status"], 404);
}

} // namespace
} // namespace pitool::sandbox_test
