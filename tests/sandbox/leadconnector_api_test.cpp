// LeadConnector API v2 endpoints of pitool-sandbox: success shapes and every
// error shape pitool has to tell apart.

#include "sandbox/sandbox_fixture.hpp"

#include <regex>

namespace pitool::sandbox_test {
namespace {

class LeadConnectorApi : public ::testing::Test {
protected:
    SandboxProcess sb;
    json company = sb.admin("POST", "/companies", {{"id", "COMPANY1"}, {"name", "Agency One"}}, 201);
    json location =
        sb.admin("POST", "/locations", {{"id", "LOC1"}, {"company_id", "COMPANY1"}, {"name", "Main Street"}}, 201);
    json other = sb.admin("POST", "/locations", {{"id", "LOC2"}}, 201); // under an auto-created company
};

TEST_F(LeadConnectorApi, LocationPitReadsItsLocation)
{
    auto pit = sb.make_pit("location", "LOC1", {"locations.readonly"});
    EXPECT_TRUE(
        std::regex_match(pit["token"].get<std::string>(),
                         std::regex("pit-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")));
    auto r = sb.client()->Get("/locations/LOC1", lc_headers(pit["token"]));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    auto b = json::parse(r->body);
    EXPECT_EQ(b["location"]["id"], "LOC1");
    EXPECT_EQ(b["location"]["companyId"], "COMPANY1");
    EXPECT_EQ(b["location"]["name"], "Main Street");
    EXPECT_TRUE(b["location"]["timezone"].is_string());
    EXPECT_TRUE(b["location"]["email"].is_string());
    for (const char* h : {"X-RateLimit-Max", "X-RateLimit-Remaining", "X-RateLimit-Interval-Milliseconds",
                          "X-RateLimit-Limit-Daily", "X-RateLimit-Daily-Remaining"})
        EXPECT_TRUE(r->has_header(h)) << h;
    EXPECT_EQ(r->get_header_value("X-RateLimit-Max"), "100");
    EXPECT_EQ(r->get_header_value("X-RateLimit-Remaining"), "99");
}

TEST_F(LeadConnectorApi, MissingVersionHeaderIs400)
{
    auto pit = sb.make_pit("location", "LOC1", {"locations.readonly"});
    auto r = sb.client()->Get("/locations/LOC1", lc_headers(pit["token"], ""));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400);
    auto b = json::parse(r->body);
    EXPECT_EQ(b["statusCode"], 400);
    EXPECT_EQ(b["error"], "Bad Request");
    EXPECT_TRUE(b["message"].is_string());
    EXPECT_TRUE(r->has_header("X-RateLimit-Remaining"));
}

TEST_F(LeadConnectorApi, UnknownOrMissingTokenIs401)
{
    const json expected = {
        {"statusCode", 401}, {"message", "Invalid token: access token is invalid"}, {"error", "Unauthorized"}};
    auto r = sb.client()->Get("/locations/LOC1", lc_headers("pit-00000000-0000-4000-8000-000000000000"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401);
    EXPECT_EQ(json::parse(r->body), expected);
    r = sb.client()->Get("/locations/LOC1", lc_headers(""));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401);
    EXPECT_EQ(json::parse(r->body), expected);
}

TEST_F(LeadConnectorApi, MissingScopeIs401WithScopeMessage)
{
    auto pit = sb.make_pit("location", "LOC1", {"contacts.write"});
    auto r = sb.client()->Get("/locations/LOC1", lc_headers(pit["token"]));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401);
    auto b = json::parse(r->body);
    EXPECT_EQ(b["statusCode"], 401);
    EXPECT_EQ(b["message"], "The token is not authorized for this scope.");
}

TEST_F(LeadConnectorApi, LocationTokenForAnotherLocationIs403)
{
    auto pit = sb.make_pit("location", "LOC1", {"locations.readonly"});
    auto r = sb.client()->Get("/locations/LOC2", lc_headers(pit["token"]));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 403);
    auto b = json::parse(r->body);
    EXPECT_EQ(b["statusCode"], 403);
    EXPECT_EQ(b["error"], "Forbidden");
    EXPECT_EQ(b["message"], "The token does not have access to this location.");
}

TEST_F(LeadConnectorApi, AgencyPitReadsOwnedLocationsOnly)
{
    auto pit = sb.make_pit("agency", "COMPANY1", {"locations.readonly"});
    EXPECT_EQ(get_location_status(sb, pit["token"], "LOC1"), 200);
    EXPECT_EQ(get_location_status(sb, pit["token"], "LOC2"), 403);
    auto r = sb.client()->Get("/locations/NOPE", lc_headers(pit["token"]));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 404);
    EXPECT_EQ(json::parse(r->body)["statusCode"], 404);
}

TEST_F(LeadConnectorApi, CreateContact)
{
    auto pit = sb.make_pit("location", "LOC1", {"contacts.write"});
    json contact = {{"locationId", "LOC1"},
                    {"firstName", "John"},
                    {"lastName", "Doe"},
                    {"email", "john@example.test"},
                    {"phone", "+1234567890"}};
    auto r = sb.client()->Post("/contacts/", lc_headers(pit["token"]), contact.dump(), "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 201);
    auto b = json::parse(r->body);
    EXPECT_TRUE(b["contact"]["id"].is_string());
    EXPECT_EQ(b["contact"]["locationId"], "LOC1");
    EXPECT_EQ(b["contact"]["firstName"], "John");
    EXPECT_EQ(sb.admin("GET", "/locations/LOC1")["contacts"], 1);
}

TEST_F(LeadConnectorApi, CreateContactErrors)
{
    auto pit = sb.make_pit("location", "LOC1", {"contacts.write"});
    auto c = sb.client();
    auto r = c->Post("/contacts/", lc_headers(pit["token"]), R"({"firstName":"John"})", "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 422);
    auto b = json::parse(r->body);
    EXPECT_EQ(b["statusCode"], 422);
    EXPECT_EQ(b["error"], "Unprocessable Entity");
    ASSERT_TRUE(b["message"].is_array());
    EXPECT_FALSE(b["message"].empty());
    EXPECT_TRUE(b["message"][0].is_string());

    r = c->Post("/contacts/", lc_headers(pit["token"]), R"({"locationId":"LOC2"})", "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 403);

    auto readonly = sb.make_pit("location", "LOC1", {"locations.readonly"});
    r = c->Post("/contacts/", lc_headers(readonly["token"]), R"({"locationId":"LOC1"})", "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401);
    EXPECT_EQ(json::parse(r->body)["message"], "The token is not authorized for this scope.");
}

TEST_F(LeadConnectorApi, GetCompanyWithAgencyToken)
{
    auto agency = sb.make_pit("agency", "COMPANY1", {"companies.readonly"});
    auto r = sb.client()->Get("/companies/COMPANY1", lc_headers(agency["token"]));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    auto b = json::parse(r->body);
    EXPECT_EQ(b["company"]["id"], "COMPANY1");
    EXPECT_EQ(b["company"]["name"], "Agency One");

    r = sb.client()->Get("/companies/" + other["company_id"].get<std::string>(), lc_headers(agency["token"]));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 403);

    auto loc = sb.make_pit("location", "LOC1", {"locations.readonly"});
    r = sb.client()->Get("/companies/COMPANY1", lc_headers(loc["token"]));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401);
}

TEST_F(LeadConnectorApi, EditingScopesKeepsTheToken)
{
    auto pit = sb.make_pit("location", "LOC1", {"contacts.write"});
    EXPECT_EQ(get_location_status(sb, pit["token"], "LOC1"), 401);
    auto edited = sb.admin("PATCH", "/pits/" + pit["id"].get<std::string>(),
                           {{"name", "renamed"}, {"scopes", {"locations.readonly"}}});
    EXPECT_EQ(edited["name"], "renamed");
    EXPECT_EQ(edited["token_last4"], pit["token_last4"]);
    EXPECT_FALSE(edited.contains("token"));
    EXPECT_EQ(get_location_status(sb, pit["token"], "LOC1"), 200);
}

TEST_F(LeadConnectorApi, DeletedPitStopsWorking)
{
    auto pit = sb.make_pit("location", "LOC1", {"locations.readonly"});
    const std::string id = pit["id"];
    EXPECT_EQ(get_location_status(sb, pit["token"], "LOC1"), 200);
    sb.admin("DELETE", "/pits/" + id);
    EXPECT_EQ(get_location_status(sb, pit["token"], "LOC1"), 401);
    sb.admin("GET", "/pits/" + id, {}, 404);
}

TEST_F(LeadConnectorApi, BurstLimitReturns429UntilTheWindowPasses)
{
    sb.admin("POST", "/config", {{"burst_max", 3}, {"burst_interval_ms", 10'000}});
    auto pit = sb.make_pit("location", "LOC1", {"locations.readonly"});
    auto c = sb.client();
    for (int i = 0; i < 3; ++i) {
        auto r = c->Get("/locations/LOC1", lc_headers(pit["token"]));
        ASSERT_TRUE(r);
        EXPECT_EQ(r->status, 200);
        EXPECT_EQ(r->get_header_value("X-RateLimit-Remaining"), std::to_string(2 - i));
    }
    auto r = c->Get("/locations/LOC1", lc_headers(pit["token"]));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 429);
    EXPECT_EQ(json::parse(r->body)["statusCode"], 429);
    EXPECT_EQ(r->get_header_value("X-RateLimit-Remaining"), "0");
    // Another token has its own bucket.
    auto second = sb.make_pit("location", "LOC1", {"locations.readonly"});
    EXPECT_EQ(get_location_status(sb, second["token"], "LOC1"), 200);
    sb.advance(10);
    EXPECT_EQ(get_location_status(sb, pit["token"], "LOC1"), 200);
}

TEST_F(LeadConnectorApi, UnknownRouteIs404InLcShape)
{
    auto r = sb.client()->Get("/nothing/here", lc_headers("x"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 404);
    auto b = json::parse(r->body);
    EXPECT_EQ(b["statusCode"], 404);
    EXPECT_EQ(b["error"], "Not Found");
}

} // namespace
} // namespace pitool::sandbox_test
