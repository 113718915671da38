// LeadConnector OAuth token endpoint: codes and refresh tokens are single
// use, inactive locations keep the refresh token alive, lifetimes follow the
// sandbox clock.

#include "sandbox/sandbox_fixture.hpp"

#include <regex>

namespace pitool::sandbox_test {
namespace {

class OAuth : public ::testing::Test {
protected:
    SandboxProcess sb;
    json app =
        sb.admin("POST", "/oauth/apps",
                 {{"scopes", {"locations.readonly", "contacts.write", "companies.readonly", "oauth.write"}}}, 201);

    std::string mint_code(json extra = json::object()) const
    {
        extra["client_id"] = app["client_id"];
        if (!extra.contains("company_id") && !extra.contains("location_id")) extra["location_id"] = "LOC1";
        return sb.admin("POST", "/oauth/codes", extra, 201)["code"];
    }

    httplib::Result token(const httplib::Params& fields) const { return sb.client()->Post("/oauth/token", fields); }

    httplib::Result exchange(const std::string& code, const std::string& user_type = "Location") const
    {
        return token({{"client_id", app["client_id"]},
                      {"client_secret", app["client_secret"]},
                      {"grant_type", "authorization_code"},
                      {"code", code},
                      {"user_type", user_type}});
    }

    httplib::Result refresh(const std::string& refresh_token) const
    {
        return token({{"client_id", app["client_id"]},
                      {"client_secret", app["client_secret"]},
                      {"grant_type", "refresh_token"},
                      {"refresh_token", refresh_token},
                      {"user_type", "Location"}});
    }

    json refresh_counter(const std::string& id) const
    {
        const json counters = sb.admin("GET", "/counters");
        for (const auto& rt : counters["refresh_tokens"])
            if (rt["id"] == id) return rt;
        ADD_FAILURE() << "no counter for " << id;
        return {};
    }
};

bool jwt_shaped(const std::string& s)
{
    return std::regex_match(s, std::regex("eyJ[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+"));
}

TEST_F(OAuth, AuthorizationCodeForLocation)
{
    auto r = exchange(mint_code());
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    auto b = json::parse(r->body);
    EXPECT_TRUE(jwt_shaped(b["access_token"])) << b["access_token"];
    EXPECT_EQ(b["token_type"], "Bearer");
    EXPECT_EQ(b["expires_in"], 86399);
    EXPECT_TRUE(b["refresh_token"].is_string());
    EXPECT_EQ(b["scope"], "locations.readonly contacts.write companies.readonly oauth.write");
    EXPECT_EQ(b["userType"], "Location");
    EXPECT_EQ(b["locationId"], "LOC1");
    EXPECT_TRUE(b["companyId"].is_string());
    EXPECT_TRUE(b["userId"].is_string());
    EXPECT_EQ(b["isBulkInstallation"], false);
    EXPECT_TRUE(r->has_header("X-RateLimit-Max"));
    EXPECT_EQ(get_location_status(sb, b["access_token"], "LOC1"), 200);
}

TEST_F(OAuth, CodesAreSingleUse)
{
    const std::string code = mint_code();
    auto first = exchange(code);
    ASSERT_TRUE(first);
    EXPECT_EQ(first->status, 200);
    auto second = exchange(code);
    ASSERT_TRUE(second);
    EXPECT_EQ(second->status, 400);
    EXPECT_EQ(json::parse(second->body)["error"], "invalid_grant");
    auto codes = sb.admin("GET", "/counters")["oauth_codes"];
    ASSERT_EQ(codes.size(), 1u);
    EXPECT_EQ(codes[0]["presented"], 2);
    EXPECT_EQ(codes[0]["used"], true);
}

TEST_F(OAuth, RefreshTokensAreSingleUse)
{
    auto b = body_of(exchange(mint_code()));
    const std::string old_refresh = b["refresh_token"];
    const std::string old_id = b["refreshTokenId"];

    auto r = refresh(old_refresh);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    auto renewed = json::parse(r->body);
    EXPECT_NE(renewed["refresh_token"], old_refresh);
    EXPECT_NE(renewed["access_token"], b["access_token"]);
    EXPECT_EQ(get_location_status(sb, renewed["access_token"], "LOC1"), 200);

    r = refresh(old_refresh);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400);
    auto err = json::parse(r->body);
    EXPECT_EQ(err["error"], "invalid_grant");
    EXPECT_EQ(err["message"], "Invalid grant: refresh token is invalid");

    auto counter = refresh_counter(old_id);
    EXPECT_EQ(counter["presented"], 2);
    EXPECT_EQ(counter["state"], "used");
    auto fresh = refresh_counter(renewed["refreshTokenId"]);
    EXPECT_EQ(fresh["presented"], 0);
    EXPECT_EQ(fresh["state"], "active");

    r = refresh(renewed["refresh_token"]);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
}

TEST_F(OAuth, AccessTokensExpireOnTheSandboxClock)
{
    auto b = body_of(exchange(mint_code()));
    sb.advance(86'398);
    EXPECT_EQ(get_location_status(sb, b["access_token"], "LOC1"), 200);
    sb.advance(2);
    EXPECT_EQ(get_location_status(sb, b["access_token"], "LOC1"), 401);
    // The refresh token still works after the access token expired.
    auto r = refresh(b["refresh_token"]);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
}

TEST_F(OAuth, InactiveLocationDoesNotSpendTheRefreshToken)
{
    auto b = body_of(exchange(mint_code()));
    sb.admin("POST", "/locations/LOC1/deactivate");
    auto r = refresh(b["refresh_token"]);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400);
    EXPECT_EQ(json::parse(r->body)["message"], "Location is not active");
    EXPECT_EQ(refresh_counter(b["refreshTokenId"])["state"], "active");

    sb.admin("POST", "/locations/LOC1/activate");
    r = refresh(b["refresh_token"]);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(refresh_counter(b["refreshTokenId"])["presented"], 2);
}

TEST_F(OAuth, ClientAndRequestErrors)
{
    const std::string code = mint_code();
    auto r = token({{"client_id", app["client_id"]},
                    {"client_secret", "wrong"},
                    {"grant_type", "authorization_code"},
                    {"code", code}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401);
    EXPECT_EQ(json::parse(r->body)["error"], "invalid_client");

    r = token({{"client_id", app["client_id"]}, {"grant_type", "authorization_code"}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 422);
    EXPECT_TRUE(json::parse(r->body)["message"].is_array());

    r = token({{"client_id", app["client_id"]},
               {"client_secret", app["client_secret"]},
               {"grant_type", "password"},
               {"code", code}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 422);

    // JSON instead of a form body is refused.
    json as_json = {{"client_id", app["client_id"]},
                    {"client_secret", app["client_secret"]},
                    {"grant_type", "authorization_code"},
                    {"code", code}};
    r = sb.client()->Post("/oauth/token", as_json.dump(), "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400);

    // None of the failures above spent the code.
    r = exchange(code);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
}

TEST_F(OAuth, RedirectUriMustMatchWhenTheCodeHasOne)
{
    const std::string code = mint_code({{"redirect_uri", "https://app.example.test/cb"}});
    auto r = token({{"client_id", app["client_id"]},
                    {"client_secret", app["client_secret"]},
                    {"grant_type", "authorization_code"},
                    {"code", code},
                    {"redirect_uri", "https://evil.example.test/cb"}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400);
    r = token({{"client_id", app["client_id"]},
               {"client_secret", app["client_secret"]},
               {"grant_type", "authorization_code"},
               {"code", code},
               {"redirect_uri", "https://app.example.test/cb"}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
}

TEST_F(OAuth, CompanyTokenAndLocationTokenMinting)
{
    sb.admin("POST", "/companies", {{"id", "COMPANY1"}}, 201);
    sb.admin("POST", "/locations", {{"id", "LOC9"}, {"company_id", "COMPANY1"}}, 201);
    auto r = exchange(mint_code({{"user_type", "Company"}, {"company_id", "COMPANY1"}}), "Company");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    auto b = json::parse(r->body);
    EXPECT_EQ(b["userType"], "Company");
    EXPECT_EQ(b["companyId"], "COMPANY1");
    EXPECT_FALSE(b.contains("locationId"));

    auto company = sb.client()->Get("/companies/COMPANY1", lc_headers(b["access_token"]));
    ASSERT_TRUE(company);
    EXPECT_EQ(company->status, 200);

    auto minted = sb.client()->Post("/oauth/locationToken", lc_headers(b["access_token"]),
                                    httplib::Params{{"companyId", "COMPANY1"}, {"locationId", "LOC9"}});
    ASSERT_TRUE(minted);
    ASSERT_EQ(minted->status, 200) << minted->body;
    auto loc = json::parse(minted->body);
    EXPECT_EQ(loc["locationId"], "LOC9");
    EXPECT_EQ(loc["userType"], "Location");
    EXPECT_EQ(get_location_status(sb, loc["access_token"], "LOC9"), 200);
    EXPECT_EQ(get_location_status(sb, loc["access_token"], "LOC1"), 403);
}

TEST_F(OAuth, UserTypeMismatchIsRefused)
{
    auto r = exchange(mint_code(), "Company");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400);
}

} // namespace
} // namespace pitool::sandbox_test
