// No token, refresh token, client secret, code, key or passphrase in any
// output: verbose (-v) runs of test-call, exchange-code and refresh, their
// error paths, --json output, and the sandbox's own request log on stderr.
// (Every other test checks its own pitool runs the same way in TearDown.)

#include "e2e/e2e_support.hpp"

#include <thread>

namespace pitool::e2e {
namespace {

class SecretHygiene : public E2E {
protected:
    void SetUp() override
    {
        E2E::SetUp();
        if (HasFatalFailure()) return;
        Sandbox::Options o;
        o.stderr_file = (dir() / "sandbox.err").string();
        start_sandbox(o);
    }

    /// The sandbox's stderr so far (it writes one line per request).
    [[nodiscard]] std::string sandbox_log() const { return pitool::test::read_file(dir() / "sandbox.err"); }

    /// A JWT-shaped fake token, planted.
    std::string fake_jwt() { return plant("eyJhbGciOiJIUzI1NiJ9." + random_hex(40) + "." + random_hex(43)); }
};

TEST_F(SecretHygiene, VerboseRunsAndTheSandboxLogNeverShowASecret)
{
    // A PIT: verbose test-calls, good and refused, GET and POST.
    auto p = store_pit("crm", "LOC1", {"locations.readonly", "contacts.write"});
    auto r = pit_expect(0, {"-vv", "test-call", "crm"});
    EXPECT_NE(r.err.find("http: >"), std::string::npos) << "-vv printed no request trace: " << r.err;
    EXPECT_NE(r.err.find("Authorization"), std::string::npos) << r.err;
    pit_expect(
        0, {"-v", "test-call", "crm", "--path", "/contacts/", "--data", R"({"firstName":"John","locationId":"LOC1"})"});
    pit_expect(0, {"-v", "--json", "test-call", "crm"});

    // OAuth: verbose exchange, a verbose refused exchange (reused code), refresh.
    std::string cid = store_app("crm-app", {"locations.readonly"});
    How how;
    how.in = mint_code(cid, "LOC1") + "\n";
    r = pit_expect(0,
                   {"-vv", "--json", "exchange-code", "--provider", "leadconnector", "--app", "crm-app", "--name",
                    "oauth", "--code-stdin"},
                   how);
    EXPECT_NE(r.err.find("/oauth/token"), std::string::npos) << r.err;
    pit_expect(
        7,
        {"-v", "exchange-code", "--provider", "leadconnector", "--app", "crm-app", "--name", "again", "--code-stdin"},
        how);
    How env_code;
    env_code.env["PITOOL_AUTH_CODE"] = mint_code(cid, "LOC1");
    pit_expect(0, {"-v", "exchange-code", "--provider", "leadconnector", "--app", "crm-app", "--name", "oauth2"},
               env_code);
    plant(get_token("oauth"));
    pit_expect(0, {"-v", "refresh", "oauth"});
    pit_expect(0, {"-v", "--json", "refresh", "oauth"});
    plant(get_token("oauth"));
    pit_expect(0, {"-v", "test-call", "oauth"});
    pit_expect(0, {"-v", "show", "oauth"});
    pit_expect(0, {"-v", "--json", "show", "oauth"});
    pit_expect(0, {"-v", "--json", "list"});
    pit_expect(0, {"-v", "audit"});
    pit_expect(0, {"-v", "history"});

    // A token pair we know (delivered through a "malformed" fault whose body is
    // a well-formed grant): refreshing with it is refused, verbosely.
    std::string planted_access = fake_jwt();
    std::string planted_refresh = fake_jwt();
    json grant = {{"access_token", planted_access},
                  {"token_type", "Bearer"},
                  {"expires_in", 86399},
                  {"refresh_token", planted_refresh},
                  {"scope", "locations.readonly"},
                  {"userType", "Location"},
                  {"locationId", "LOC1"},
                  {"companyId", "COMP1"},
                  {"userId", "U1"}};
    sb().fault({{"kind", "malformed"}, {"path_prefix", "/oauth/token"}, {"body", grant.dump()}});
    how.in = mint_code(cid, "LOC1") + "\n";
    pit_expect(
        0,
        {"-v", "exchange-code", "--provider", "leadconnector", "--app", "crm-app", "--name", "known", "--code-stdin"},
        how);
    EXPECT_EQ(get_token("known"), planted_access);
    pit_expect(7, {"-v", "refresh", "known"});
    pit_expect(7, {"-v", "test-call", "known"});
    pit_expect(7, {"-v", "--json", "test-call", "known"});

    // Hint: partner and practice keys, verbose exchange and test-calls.
    std::string pid = store_partner("acme");
    How hint;
    hint.in = mint_hint_code(pid) + "\n";
    pit_expect(0, {"-v", "exchange-code", "--provider", "hint", "--partner", "acme", "--name", "joes", "--code-stdin"},
               hint);
    pit_expect(7, {"-v", "exchange-code", "--provider", "hint", "--partner", "acme", "--name", "joes2", "--code-stdin"},
               hint);
    plant(get_token("joes"));
    pit_expect(0, {"-v", "test-call", "joes"});
    pit_expect(0, {"-v", "test-call", "acme"});

    // Faulted and failing paths, verbosely.
    sb().fault({{"kind", "status"}, {"status", 500}, {"count", 2}, {"path_prefix", "/locations/"}});
    pit_expect(0, {"-v", "test-call", "crm"});
    sb().fault({{"kind", "redirect"}, {"count", 1}, {"path_prefix", "/locations/"}});
    pit_expect(8, {"-v", "test-call", "crm"});
    sb().admin("DELETE", "/pits/" + p["id"].get<std::string>());
    pit_expect(7, {"-v", "test-call", "crm"});

    // The sandbox's own log: one line per request, no secret.
    std::string log;
    for (int i = 0; i < 50; ++i) {
        log = sandbox_log();
        if (log.find("/oauth/token") != std::string::npos) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_NE(log.find("POST /oauth/token"), std::string::npos) << "sandbox stderr not captured: " << log;
    EXPECT_NE(log.find("/api/oauth/tokens"), std::string::npos) << log;
    check_hygiene({{"pitool-sandbox stderr", log}});
}

} // namespace
} // namespace pitool::e2e
