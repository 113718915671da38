// HTTPS: a CA and a server certificate for 127.0.0.1 made at test time with
// openssl; pitool trusts the sandbox only through --cacert or
// PITOOL_CA_BUNDLE, and a missing or different CA is exit 8.

#include "e2e/e2e_support.hpp"

namespace pitool::e2e {
namespace {

class Https : public E2E {
protected:
    void SetUp() override
    {
        E2E::SetUp();
        if (HasFatalFailure()) return;
        make_ca("ca");
        make_ca("other-ca");
        pitool::test::write_file(dir() / "server.ext", "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                                                       "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n");
        openssl({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "server.key",
                 "-out", "server.csr", "-subj", "/CN=127.0.0.1"});
        openssl({"x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out",
                 "server.pem", "-days", "2", "-extfile", "server.ext"});
        if (HasFatalFailure()) return;
        Sandbox::Options o;
        o.args = {"--tls-cert", (dir() / "server.pem").string(), "--tls-key", (dir() / "server.key").string(),
                  "--quiet"};
        o.ca_file = ca();
        start_sandbox(o);
        ASSERT_EQ(sb().url().rfind("https://127.0.0.1:", 0), 0U) << sb().url();
    }

    void openssl(std::vector<std::string> args)
    {
        args.insert(args.begin(), k_openssl);
        RunOptions o;
        o.cwd = dir().path();
        o.timeout_seconds = 30;
        auto r = pitool::test::run(args, o);
        ASSERT_EQ(r.exit_code, 0) << r.err;
    }

    void make_ca(const std::string& name)
    {
        openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                 name + ".key", "-out", name + ".pem", "-days", "2", "-subj", "/CN=pitool e2e " + name, "-addext",
                 "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"});
    }

    [[nodiscard]] std::string ca() const { return (dir() / "ca.pem").string(); }
    [[nodiscard]] std::string other_ca() const { return (dir() / "other-ca.pem").string(); }
};

TEST_F(Https, TestCallTrustsTheSandboxOnlyThroughTheGivenCa)
{
    store_pit("crm", "LOC1", {"locations.readonly"});
    sb().clear_requests();
    pit_expect(0, {"--cacert", ca(), "test-call", "crm"});
    How env_ca;
    env_ca.env["PITOOL_CA_BUNDLE"] = ca();
    pit_expect(0, {"test-call", "crm"}, env_ca);
    EXPECT_EQ(sb().requests().size(), 2U);

    // No extra CA, or another one: the handshake fails, nothing is sent.
    pit_expect(8, {"test-call", "crm"});
    pit_expect(8, {"--cacert", other_ca(), "test-call", "crm"});
    How env_other;
    env_other.env["PITOOL_CA_BUNDLE"] = other_ca();
    pit_expect(8, {"test-call", "crm"}, env_other);
    EXPECT_EQ(sb().requests().size(), 2U) << "a request got through without a trusted certificate";
}

TEST_F(Https, ExchangeCodeAndRefreshOverHttps)
{
    std::string cid = store_app("crm-app", {"locations.readonly"});
    std::string code = mint_code(cid, "LOC1");
    How how;
    how.in = code + "\n";
    std::vector<std::string> exchange{"exchange-code", "--provider", "leadconnector", "--app",
                                      "crm-app",       "--name",     "crm",           "--code-stdin"};

    // A wrong CA fails before anything reaches the server: the code is intact.
    std::vector<std::string> wrong{"--cacert", other_ca()};
    wrong.insert(wrong.end(), exchange.begin(), exchange.end());
    pit_expect(8, wrong, how);
    pit_expect(8, exchange, how);
    EXPECT_TRUE(sb().requests("/oauth/token").empty());

    std::vector<std::string> right{"--cacert", ca()};
    right.insert(right.end(), exchange.begin(), exchange.end());
    pit_expect(0, right, how);
    EXPECT_EQ(show("crm")["base_url"], sb().url());
    pit_expect(0, {"--cacert", ca(), "test-call", "crm"});
    pit_expect(0, {"--cacert", ca(), "refresh", "crm"});
    pit_expect(8, {"refresh", "crm"});

    // Hint over HTTPS too.
    std::string pid = store_partner("acme");
    How hint;
    hint.in = mint_hint_code(pid) + "\n";
    hint.env["PITOOL_CA_BUNDLE"] = ca();
    pit_expect(0, {"exchange-code", "--provider", "hint", "--partner", "acme", "--name", "joes", "--code-stdin"}, hint);
    pit_expect(0, {"--cacert", ca(), "test-call", "joes"});
}

TEST_F(Https, UnreadableCaBundleIsAUsageError)
{
    store_pit("crm", "LOC1", {"locations.readonly"});
    pit_expect(2, {"--cacert", (dir() / "missing.pem").string(), "test-call", "crm"});
    EXPECT_TRUE(sb().requests().empty());
}

} // namespace
} // namespace pitool::e2e
