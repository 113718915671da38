// The 7-day rotation window, end to end: a PIT rotated "later" in the
// sandbox and in pitool keeps the old token working inside the window; once
// both clocks (the sandbox's own, and pitool's through faketime) pass 7 days
// the provider refuses it and pitool no longer hands it out.

#include "e2e/e2e_support.hpp"
#include "support/vault_snapshot.hpp"

namespace pitool::e2e {
namespace {

class Rotation : public E2E {
protected:
    /// pitool run with its clock shifted by `offset` (faketime syntax, e.g. "+7d").
    static How shifted(const std::string& offset)
    {
        How how;
        how.prefix = {k_faketime, "-f", offset};
        return how;
    }
};

TEST_F(Rotation, OldTokenWorksInsideTheWindowAndFailsAfterIt)
{
    auto p = store_pit("crm", "LOC1", {"locations.readonly", "contacts.write"});
    std::string old_token = p["token"];
    std::string pit_id = p["id"];

    auto rotated = sb().admin("POST", "/pits/" + pit_id + "/rotate", {{"mode", "later"}});
    std::string new_token = plant(rotated["token"].get<std::string>());
    How how;
    how.in = new_token + "\n";
    pit_expect(0, {"rotate", "crm", "--token-stdin"}, how);

    EXPECT_EQ(get_token("crm"), new_token);
    EXPECT_EQ(get_token("crm", {"--old"}), old_token);
    pit_expect(0, {"test-call", "crm"});
    pit_expect(0, {"test-call", "crm", "--old"});

    // Six days later, both clocks: still inside the window.
    sb().advance(6 * k_day_s);
    pit_expect(0, {"test-call", "crm", "--old"}, shifted("+6d"));
    pit_expect(0, {"test-call", "crm"}, shifted("+6d"));
    EXPECT_EQ(get_token("crm", {"--old"}, 0), old_token);

    // Seven days after the rotation: the provider refuses the old token...
    sb().advance(k_day_s);
    EXPECT_EQ(sb().lc_get("/locations/LOC1", old_token), 401);
    EXPECT_EQ(sb().lc_get("/locations/LOC1", new_token), 200);
    // ...and pitool (under faketime +7d) no longer has one to give.
    How later = shifted("+7d");
    later.reveals_token = true;
    auto r = pit_expect(4, {"get", "crm", "--old"}, later);
    EXPECT_EQ(r.out, "") << "get --old printed a token after the window";
    pit_expect(4, {"test-call", "crm", "--old"}, shifted("+7d"));
    pit_expect(0, {"test-call", "crm"}, shifted("+7d"));
    auto j = parsed(pit_expect(0, {"show", "crm", "--json"}, shifted("+7d")));
    EXPECT_TRUE(j["rotation"].is_null()) << j.dump();
}

TEST_F(Rotation, WithoutFaketimePitoolStillOffersTheOldTokenTheProviderRefuses)
{
    // The provider's window closed early (expire-now in its UI): pitool's own
    // window is still open, and test-call --old reports the refusal as 7.
    auto p = store_pit("crm", "LOC1", {"locations.readonly"});
    std::string pit_id = p["id"];
    auto rotated = sb().admin("POST", "/pits/" + pit_id + "/rotate", {{"mode", "later"}});
    How how;
    how.in = plant(rotated["token"].get<std::string>()) + "\n";
    pit_expect(0, {"rotate", "crm", "--token-stdin"}, how);
    sb().admin("POST", "/pits/" + pit_id + "/expire-now");
    auto r = pit_expect(7, {"test-call", "crm", "--old"});
    EXPECT_NE(r.err.find("invalid token"), std::string::npos) << r.err;
    pit_expect(0, {"test-call", "crm"});
    pit_expect(0, {"expire-old", "crm"});
    pit_expect(4, {"test-call", "crm", "--old"});
}

TEST_F(Rotation, RotateNowKillsTheOldTokenAtOnce)
{
    auto p = store_pit("crm", "LOC1", {"locations.readonly"});
    std::string old_token = p["token"];
    auto rotated = sb().admin("POST", "/pits/" + p["id"].get<std::string>() + "/rotate", {{"mode", "now"}});
    How how;
    how.in = plant(rotated["token"].get<std::string>()) + "\n";
    pit_expect(0, {"rotate", "crm", "--now", "--token-stdin"}, how);
    EXPECT_EQ(sb().lc_get("/locations/LOC1", old_token), 401);
    pit_expect(0, {"test-call", "crm"});
    pit_expect(4, {"get", "crm", "--old"});
}

TEST_F(Rotation, VerifyStoresATokenTheProviderAcceptsAndRefusesOneItRejects)
{
    auto p = store_pit("crm", "LOC1", {"locations.readonly"});
    std::string pit_id = p["id"];

    // A token the provider never issued: refused, nothing stored.
    const pitool::test::VaultSnapshot bytes(vault().parent_path());
    How bogus;
    bogus.in = plant("pit-" + random_hex(8) + "-" + random_hex(4) + "-" + random_hex(4) + "-" + random_hex(4) + "-" +
                     random_hex(12)) +
               "\n";
    sb().clear_requests();
    auto r = pit_expect(7, {"rotate", "crm", "--verify", "--token-stdin"}, bogus);
    EXPECT_NE(r.err.find("nothing was stored"), std::string::npos) << r.err;
    EXPECT_TRUE(bytes.unchanged());
    EXPECT_EQ(sb().requests("/locations/").size(), 1U);

    // The provider unreachable: 8, nothing stored.
    auto rotated = sb().admin("POST", "/pits/" + pit_id + "/rotate", {{"mode", "later"}});
    How good;
    good.in = plant(rotated["token"].get<std::string>()) + "\n";
    sb().fault({{"kind", "status"}, {"status", 503}, {"count", 10}, {"path_prefix", "/locations/"}});
    pit_expect(8, {"rotate", "crm", "--verify", "--token-stdin"}, good);
    EXPECT_TRUE(bytes.unchanged());
    sb().admin("DELETE", "/faults");

    // The real new token: verified, then stored with the window open.
    r = pit_expect(0, {"rotate", "crm", "--verify", "--token-stdin"}, good);
    EXPECT_NE(r.err.find("verified the new token"), std::string::npos) << r.err;
    EXPECT_EQ(get_token("crm"), rotated["token"]);
    pit_expect(0, {"test-call", "crm", "--old"});
}

TEST_F(Rotation, CreateVerifyStoresOnlyATokenTheProviderAccepts)
{
    auto p = sb().admin(
        "POST", "/pits",
        {{"level", "location"}, {"location_id", "LOC1"}, {"name", "crm"}, {"scopes", {"locations.readonly"}}}, 201);
    const std::vector<std::string> create = {"create", "crm",        "--provider", "leadconnector", "--location",
                                             "LOC1",   "--base-url", sb().url(),   "--verify",      "--token-stdin"};
    // The right token for another location: the provider refuses it (7), nothing stored.
    sb().admin("POST", "/locations", {{"id", "LOC2"}}, 201);
    std::vector<std::string> wrong = create;
    wrong[5] = "LOC2";
    How how;
    how.in = plant(p["token"].get<std::string>()) + "\n";
    const pitool::test::VaultSnapshot bytes(vault().parent_path());
    sb().clear_requests();
    auto r = pit_expect(7, wrong, how);
    EXPECT_NE(r.err.find("nothing was stored"), std::string::npos) << r.err;
    EXPECT_TRUE(bytes.unchanged());
    EXPECT_EQ(sb().requests("/locations/").size(), 1U);

    // Verified, then stored.
    r = pit_expect(0, create, how);
    EXPECT_NE(r.err.find("verified the new token"), std::string::npos) << r.err;
    EXPECT_EQ(get_token("crm"), p["token"]);
    // A taken name is refused before any call is made.
    sb().clear_requests();
    pit_expect(4, create, how);
    EXPECT_EQ(sb().requests("/locations/").size(), 0U);
}

TEST_F(Rotation, HintPracticeKeyRotationWithVerify)
{
    std::string pid = store_partner("acme");
    How how;
    how.in = mint_hint_code(pid) + "\n";
    pit_expect(0, {"exchange-code", "--provider", "hint", "--partner", "acme", "--name", "joes", "--code-stdin"}, how);
    std::string int_id = show("joes")["extra"]["hint_integration_id"];
    auto integration = sb().admin("GET", "/hint/integrations/" + int_id);
    std::string old_key_id = integration["api_keys"][0]["id"];
    auto fresh = sb().admin("POST", "/hint/integrations/" + int_id + "/api-keys", {{"description", "rotated"}}, 201);
    How rotate;
    rotate.in = plant(fresh["token"].get<std::string>()) + "\n";
    pit_expect(0, {"rotate", "joes", "--verify", "--token-stdin"}, rotate);
    pit_expect(0, {"test-call", "joes", "--old"});
    sb().admin("DELETE", "/hint/integrations/" + int_id + "/api-keys/" + old_key_id);
    auto r = pit_expect(7, {"test-call", "joes", "--old"});
    EXPECT_NE(r.err.find("invalid token"), std::string::npos) << r.err;
    pit_expect(0, {"test-call", "joes"});
}

} // namespace
} // namespace pitool::e2e
