// The pitool-sandbox process itself: command line, startup line, loopback
// only, clean shutdown, stderr hygiene, HTTPS, state file, faketime.

#include "sandbox/sandbox_fixture.hpp"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <memory>
#include <random>
#include <regex>

namespace pitool::sandbox_test {
namespace {

using pitool::test::run;
using pitool::test::TempDir;

pitool::test::RunOptions quick()
{
    pitool::test::RunOptions o;
    o.timeout_seconds = 10;
    return o;
}

pitool::test::RunOptions in_dir(const TempDir& dir)
{
    pitool::test::RunOptions o;
    o.timeout_seconds = 60;
    o.cwd = dir.path();
    return o;
}

/// Starts the sandbox with stderr captured into a file, so a test can stop it
/// itself and look at its exit status and log. Owned like every test process
/// (own process group, killed on every path).
class Captured {
public:
    Captured(const std::vector<std::string>& args, const std::string& stderr_path)
    {
        std::vector<std::string> argv{PITOOL_SANDBOX_BIN};
        argv.insert(argv.end(), args.begin(), args.end());
        pitool::test::Background::Options o;
        o.stderr_file = stderr_path;
        m_bg = std::make_unique<pitool::test::Background>(argv, o);
    }

    [[nodiscard]] const std::string& url() const { return m_bg->first_line(); }

    /// Sends `sig` and returns the exit status (-1 if it did not exit within 30 s).
    int stop(int sig) { return m_bg->stop(sig, std::chrono::seconds(30)); }

private:
    std::unique_ptr<pitool::test::Background> m_bg;
};

/// A loopback port outside the kernel's ephemeral range (so no socket the
/// kernel numbers itself can take it) that is free right now; 0 if none.
int unassigned_port(std::mt19937& rng)
{
    int lo = 32768;
    std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
    range >> lo;
    std::uniform_int_distribution<int> pick(10'000, std::max(10'001, lo - 1));
    for (int i = 0; i < 100; ++i) {
        int port = pick(rng);
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(static_cast<std::uint16_t>(port));
        bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
        ::close(fd);
        if (free) return port;
    }
    return 0;
}

TEST(SandboxServer, PrintsItsBaseUrlFirst)
{
    SandboxProcess sb;
    EXPECT_TRUE(std::regex_match(sb.url(), std::regex(R"(http://127\.0\.0\.1:[0-9]{2,5})"))) << sb.url();
    auto r = sb.client()->Get("/_sandbox/health");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
}

TEST(SandboxServer, RefusesNonLoopbackHosts)
{
    for (const char* host : {"0.0.0.0", "192.168.1.10", "::", "example.com"}) {
        auto r = run({PITOOL_SANDBOX_BIN, "--port", "0", "--host", host}, quick());
        EXPECT_EQ(r.exit_code, 2) << host;
        EXPECT_TRUE(r.out.empty()) << host;
        EXPECT_NE(r.err.find("loopback"), std::string::npos) << r.err;
    }
}

TEST(SandboxServer, BadArgumentsAreUsageErrors)
{
    EXPECT_EQ(run({PITOOL_SANDBOX_BIN, "--port", "99999"}, quick()).exit_code, 2);
    EXPECT_EQ(run({PITOOL_SANDBOX_BIN, "--bogus"}, quick()).exit_code, 2);
    EXPECT_EQ(run({PITOOL_SANDBOX_BIN, "--tls-cert", "x.pem"}, quick()).exit_code, 2);
    auto help = run({PITOOL_SANDBOX_BIN, "--help"}, quick());
    EXPECT_EQ(help.exit_code, 0);
    EXPECT_NE(help.out.find("--tls-cert"), std::string::npos);
}

TEST(SandboxServer, ListensOnAGivenPortAndLocalhost)
{
    // A given port cannot be held for the sandbox (it binds it itself): pick
    // one outside the ephemeral range, and should another process take it
    // between the probe and the start (the sandbox then fails to start), try
    // another. The property checked is unchanged: the given port is the one used.
    std::mt19937 rng{std::random_device{}()};
    std::unique_ptr<SandboxProcess> sb;
    int port = 0;
    for (int attempt = 0; attempt < 5 && !sb; ++attempt) {
        port = unassigned_port(rng);
        ASSERT_NE(port, 0) << "no free loopback port";
        try {
            sb = std::make_unique<SandboxProcess>(
                std::vector<std::string>{"--port", std::to_string(port), "--host", "localhost"});
        } catch (const std::exception&) {
        }
    }
    ASSERT_TRUE(sb) << "the sandbox did not start on a given port";
    EXPECT_EQ(sb->url(), "http://127.0.0.1:" + std::to_string(port));
}

TEST(SandboxServer, SigtermAndSigintExitCleanlyAndStderrHoldsNoSecrets)
{
    TempDir dir;
    for (int sig : {SIGTERM, SIGINT}) {
        const std::string log = (dir / "stderr.log").string();
        std::string secret;
        {
            Captured sb({"--port", "0"}, log);
            ASSERT_FALSE(sb.url().empty());
            httplib::Client c(sb.url());
            auto pit = json::parse(c.Post("/_sandbox/pits",
                                          R"({"level":"location","location_id":"L1","scopes":["locations.readonly"]})",
                                          "application/json")
                                       ->body);
            secret = pit["token"];
            auto r = c.Get("/locations/L1?code=query-secret", lc_headers(secret));
            ASSERT_TRUE(r);
            EXPECT_EQ(r->status, 200);
            EXPECT_EQ(sb.stop(sig), 0) << "signal " << sig;
        }
        const std::string err = pitool::test::read_file(log);
        EXPECT_NE(err.find("GET /locations/L1 200"), std::string::npos) << err;
        EXPECT_EQ(err.find(secret), std::string::npos) << err;
        EXPECT_EQ(err.find("query-secret"), std::string::npos) << err;
    }
}

TEST(SandboxServer, ServesHttpsWithACertificateMadeAtTestTime)
{
    TempDir dir;
    auto ssl = [&](std::vector<std::string> args) {
        args.insert(args.begin(), "/usr/bin/openssl");
        auto r = run(args, in_dir(dir));
        ASSERT_EQ(r.exit_code, 0) << r.err;
    };
    pitool::test::write_file(dir / "server.ext",
                             "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n");
    ssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "ca.key",
         "-out", "ca.pem", "-days", "2", "-subj", "/CN=pitool test CA", "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"});
    ssl({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "server.key", "-out",
         "server.csr", "-subj", "/CN=127.0.0.1"});
    ssl({"x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out",
         "server.pem", "-days", "2", "-extfile", "server.ext"});
    if (HasFatalFailure()) return;

    SandboxProcess sb({"--tls-cert", (dir / "server.pem").string(), "--tls-key", (dir / "server.key").string()});
    ASSERT_TRUE(std::regex_match(sb.url(), std::regex(R"(https://127\.0\.0\.1:[0-9]+)"))) << sb.url();

    httplib::Client trusting(sb.url());
    trusting.set_ca_cert_path((dir / "ca.pem").string());
    trusting.enable_server_certificate_verification(true);
    auto r = trusting.Get("/_sandbox/health");
    ASSERT_TRUE(r) << httplib::to_string(r.error());
    EXPECT_EQ(r->status, 200);

    auto pit = body_of(trusting.Post("/_sandbox/pits",
                                     R"({"level":"location","location_id":"L1","scopes":["locations.readonly"]})",
                                     "application/json"));
    r = trusting.Get("/locations/L1", lc_headers(pit["token"]));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);

    httplib::Client untrusting(sb.url());
    untrusting.set_ca_cert_path((dir / "server.ext").string()); // no usable CA in it
    untrusting.enable_server_certificate_verification(true);
    EXPECT_FALSE(untrusting.Get("/_sandbox/health")) << "a client not trusting the test CA must fail";
}

TEST(SandboxServer, FailsOnAnUnreadableCertificate)
{
    TempDir dir;
    pitool::test::write_file(dir / "bad.pem", "not a certificate\n");
    auto r =
        run({PITOOL_SANDBOX_BIN, "--tls-cert", (dir / "bad.pem").string(), "--tls-key", (dir / "bad.pem").string()},
            quick());
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_TRUE(r.out.empty());
}

TEST(SandboxServer, StateFileSurvivesARestart)
{
    TempDir dir;
    const std::string state = (dir / "state.json").string();
    std::string token;
    {
        SandboxProcess sb({"--state-file", state});
        token = sb.make_pit("location", "LOC1", {"locations.readonly"})["token"];
        sb.advance(3600);
    }
    SandboxProcess sb({"--state-file", state});
    EXPECT_EQ(get_location_status(sb, token, "LOC1"), 200);
    EXPECT_EQ(sb.admin("GET", "/clock")["offset_ms"], 3'600'000);

    pitool::test::write_file(dir / "corrupt.json", "{not json");
    auto r = run({PITOOL_SANDBOX_BIN, "--state-file", (dir / "corrupt.json").string()}, quick());
    EXPECT_EQ(r.exit_code, 1);
}

TEST(SandboxServer, RunsUnderFaketime)
{
    if (::access("/usr/bin/faketime", X_OK) != 0) GTEST_SKIP() << "faketime not installed";
    SandboxProcess sb({}, {"/usr/bin/faketime", "-f", "@2031-05-01 12:00:00"});
    ASSERT_EQ(sb.url().rfind("http://", 0), 0u) << sb.url();
    auto clock = sb.admin("GET", "/clock");
    EXPECT_EQ(clock["now"].get<std::string>().substr(0, 10), "2031-05-01") << clock.dump();
}

} // namespace
} // namespace pitool::sandbox_test
