// exchange-code against the sandbox: LeadConnector and Hint codes become
// stored integrations; a refused code stores nothing and changes no byte of
// the vault; a code is never replayed.

#include "e2e/e2e_support.hpp"
#include "support/vault_snapshot.hpp"

namespace pitool::e2e {
namespace {

class ExchangeCode : public E2E {};

TEST_F(ExchangeCode, LeadConnectorLocationCodeStoresAnOAuthTokenSet)
{
    std::string cid = store_app("crm-app", {"locations.readonly", "contacts.write"});
    std::string code =
        mint_code(cid, "LOC1", {{"scopes", {"locations.readonly", "contacts.write"}}, {"user_id", "U7"}});
    How how;
    how.in = code + "\n";
    auto r = pit_expect(0,
                        {"--json", "exchange-code", "--provider", "leadconnector", "--app", "crm-app", "--name", "crm",
                         "--code-stdin", "--user-type", "Location"},
                        how);
    auto out = parsed(r);
    EXPECT_EQ(out["name"], "crm");
    EXPECT_EQ(out.dump().find("eyJ"), std::string::npos) << "exchange-code --json printed a token: " << r.out;

    auto j = show("crm");
    EXPECT_EQ(j["kind"], "oauth");
    EXPECT_EQ(j["provider"], "leadconnector");
    EXPECT_EQ(j["level"], "location");
    EXPECT_EQ(j["account_id"], "LOC1");
    EXPECT_EQ(j["scopes"], json({"locations.readonly", "contacts.write"}));
    EXPECT_EQ(j["base_url"], sb().url());
    ASSERT_TRUE(j["oauth"].is_object()) << j.dump();
    EXPECT_EQ(j["oauth"]["has_refresh_token"], true);
    EXPECT_EQ(j["oauth"]["user_type"], "Location");
    EXPECT_EQ(j["oauth"]["user_id"], "U7");
    EXPECT_EQ(j["oauth"]["app"], "crm-app");

    // The stored token is the one the sandbox issued, and it works.
    std::string token = get_token("crm");
    auto seen = sb().admin("POST", "/tokens/inspect", {{"token", token}});
    EXPECT_EQ(seen["kind"], "access_token");
    EXPECT_EQ(seen["valid"], true);
    pit_expect(0, {"test-call", "crm"});

    // One authorization_code grant, the code spent exactly once.
    EXPECT_EQ(sb().grants("authorization_code"), 1);
    auto codes = sb().counters()["oauth_codes"];
    ASSERT_EQ(codes.size(), 1U);
    EXPECT_EQ(codes[0]["used"], true);
    EXPECT_EQ(codes[0]["presented"], 1);
}

TEST_F(ExchangeCode, LeadConnectorCompanyCodeFromEnvironmentStoresAnAgencyToken)
{
    std::string cid = store_app("agency-app", {"companies.readonly", "locations.readonly"});
    auto c = sb().admin("POST", "/oauth/codes", {{"client_id", cid}, {"company_id", "COMP1"}}, 201);
    std::string code = plant(c["code"]);
    How how;
    how.env["PITOOL_AUTH_CODE"] = code;
    pit_expect(0,
               {"exchange-code", "--provider", "leadconnector", "--app", "agency-app", "--name", "agency",
                "--user-type", "Company"},
               how);
    auto j = show("agency");
    EXPECT_EQ(j["kind"], "oauth");
    EXPECT_EQ(j["level"], "agency");
    EXPECT_EQ(j["account_id"], "COMP1");
    EXPECT_EQ(j["oauth"]["user_type"], "Company");
    auto r = pit_expect(0, {"test-call", "agency"});
    EXPECT_NE(r.out.find("/companies/COMP1"), std::string::npos) << r.out;
}

TEST_F(ExchangeCode, CodeInArgvIsRefusedBeforeAnythingIsSent)
{
    std::string cid = store_app("crm-app", {"locations.readonly"});
    // A fake code on purpose: the point is that argv codes are refused.
    pit_expect(2, {"exchange-code", "--provider", "leadconnector", "--app", "crm-app", "--name", "crm", "--code",
                   "not-a-real-code"});
    EXPECT_TRUE(sb().requests().empty());
    pit_expect(3, {"show", "crm"});
}

TEST_F(ExchangeCode, HintCodeStoresAConnectedPracticeKey)
{
    std::string pid = store_partner("acme");
    std::string code = mint_hint_code(pid, "Joe's Practice");
    How how;
    how.in = code + "\n";
    auto r = pit_expect(
        0, {"--json", "exchange-code", "--provider", "hint", "--partner", "acme", "--name", "joes", "--code-stdin"},
        how);
    auto out = parsed(r);
    EXPECT_EQ(out["name"], "joes");

    auto j = show("joes");
    EXPECT_EQ(j["provider"], "hint");
    EXPECT_EQ(j["kind"], "practice-key");
    EXPECT_EQ(j["base_url"], sb().url());
    ASSERT_TRUE(j["account_id"].is_string());
    EXPECT_EQ(j["account_id"].get<std::string>().rfind("pra-", 0), 0U) << j.dump();
    EXPECT_EQ(j["extra"]["hint_status"], "connected");
    EXPECT_EQ(j["extra"]["practice_name"], "Joe's Practice");

    std::string key = get_token("joes");
    EXPECT_EQ(sb().admin("POST", "/tokens/inspect", {{"token", key}})["kind"], "hint_practice_key");
    pit_expect(0, {"test-call", "joes"});
    auto ints = sb().admin("GET", "/hint/integrations")["integrations"];
    ASSERT_EQ(ints.size(), 1U);
    EXPECT_EQ(ints[0]["status"], "connected");
}

TEST_F(ExchangeCode, HintNoActivateLeavesTheIntegrationPending)
{
    std::string pid = store_partner("acme");
    How how;
    how.in = mint_hint_code(pid) + "\n";
    pit_expect(
        0,
        {"exchange-code", "--provider", "hint", "--partner", "acme", "--name", "joes", "--code-stdin", "--no-activate"},
        how);
    EXPECT_EQ(show("joes")["extra"]["hint_status"], "pending");
    auto ints = sb().admin("GET", "/hint/integrations")["integrations"];
    ASSERT_EQ(ints.size(), 1U);
    EXPECT_EQ(ints[0]["status"], "pending");
}

TEST_F(ExchangeCode, ReusedLeadConnectorCodeIsRejectedAndNothingIsStored)
{
    std::string cid = store_app("crm-app", {"locations.readonly"});
    std::string code = mint_code(cid, "LOC1");
    How how;
    how.in = code + "\n";
    std::vector<std::string> args{"exchange-code", "--provider", "leadconnector", "--app",
                                  "crm-app",       "--name",     "first",         "--code-stdin"};
    pit_expect(0, args, how);

    auto list_before = pit_expect(0, {"list", "--json"}).out;
    const pitool::test::VaultSnapshot bytes_before(vault().parent_path());
    args[6] = "second";
    auto r = pit_expect(7, args, how);
    EXPECT_NE(r.err.find("invalid"), std::string::npos) << r.err;
    EXPECT_EQ(pit_expect(0, {"list", "--json"}).out, list_before);
    EXPECT_TRUE(bytes_before.unchanged()) << "a refused code changed the vault";
    pit_expect(3, {"show", "second"});
}

TEST_F(ExchangeCode, ReusedHintCodeIsRejectedAndNothingIsStored)
{
    std::string pid = store_partner("acme");
    How how;
    how.in = mint_hint_code(pid) + "\n";
    pit_expect(0, {"exchange-code", "--provider", "hint", "--partner", "acme", "--name", "one", "--code-stdin"}, how);
    const pitool::test::VaultSnapshot bytes_before(vault().parent_path());
    pit_expect(7, {"exchange-code", "--provider", "hint", "--partner", "acme", "--name", "two", "--code-stdin"}, how);
    EXPECT_TRUE(bytes_before.unchanged());
    pit_expect(3, {"show", "two"});
}

TEST_F(ExchangeCode, HintCodeWithAWrongPartnerKeyIsRejected)
{
    std::string real = store_partner("acme");
    // "bogus" holds a key the sandbox never issued.
    store_partner("bogus", "hint-bogus-partner-key-" + random_hex(24));
    How how;
    how.in = mint_hint_code(real) + "\n";
    const pitool::test::VaultSnapshot bytes_before(vault().parent_path());
    auto r = pit_expect(
        7, {"exchange-code", "--provider", "hint", "--partner", "bogus", "--name", "joes", "--code-stdin"}, how);
    EXPECT_NE(r.err.find("partner key"), std::string::npos) << r.err;
    EXPECT_TRUE(bytes_before.unchanged());
    // The code was not spent: the right partner can still use it.
    pit_expect(0, {"exchange-code", "--provider", "hint", "--partner", "acme", "--name", "joes", "--code-stdin"}, how);
}

TEST_F(ExchangeCode, WrongClientSecretIsRejected)
{
    auto a = sb().admin("POST", "/oauth/apps", {{"scopes", {"locations.readonly"}}}, 201);
    plant(a["client_secret"]);
    How create;
    create.in = plant("wrong-secret-" + random_hex(24)) + "\n";
    pit_expect(0,
               {"create", "app", "--provider", "leadconnector", "--kind", "oauth-app", "--client-id",
                a["client_id"].get<std::string>(), "--base-url", sb().url(), "--token-stdin"},
               create);
    How how;
    how.in = mint_code(a["client_id"], "LOC1") + "\n";
    pit_expect(7, {"exchange-code", "--provider", "leadconnector", "--app", "app", "--name", "crm", "--code-stdin"},
               how);
    pit_expect(3, {"show", "crm"});
}

} // namespace
} // namespace pitool::e2e
