// HTTPS against a loopback httplib::SSLServer whose CA and certificate are
// made at test time with the openssl CLI.

#include "pitool/http/client.hpp"
#include "support/process.hpp"
#include "unit/http/loopback.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

namespace pitool::http {
namespace {

using namespace std::chrono_literals;
using pitool::test::Loopback;

constexpr const char* k_openssl = "/usr/bin/openssl";

/// A throwaway CA and a server certificate for 127.0.0.1 signed by it.
class TestPki {
public:
    TestPki()
    {
        const auto d = m_dir.path();
        pitool::test::write_file(d / "server.ext", "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                                                   "basicConstraints=CA:FALSE\n"
                                                   "keyUsage=digitalSignature,keyEncipherment\n"
                                                   "extendedKeyUsage=serverAuth\n");
        const std::string ec = "ec:" + (d / "params.pem").string();
        m_ok = ssl({"genpkey", "-genparam", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out",
                    (d / "params.pem").string()}) &&
               ssl({"req", "-x509", "-newkey", ec, "-nodes", "-keyout", (d / "ca.key").string(), "-out",
                    (d / "ca.pem").string(), "-days", "2", "-subj", "/CN=pitool test CA", "-addext",
                    "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"}) &&
               ssl({"req", "-newkey", ec, "-nodes", "-keyout", (d / "server.key").string(), "-out",
                    (d / "server.csr").string(), "-subj", "/CN=127.0.0.1"}) &&
               ssl({"x509", "-req", "-in", (d / "server.csr").string(), "-CA", (d / "ca.pem").string(), "-CAkey",
                    (d / "ca.key").string(), "-set_serial", "1", "-days", "2", "-out", (d / "server.pem").string(),
                    "-extfile", (d / "server.ext").string()});
    }

    [[nodiscard]] bool ok() const { return m_ok; }
    [[nodiscard]] std::string path(const char* name) const { return (m_dir.path() / name).string(); }

private:
    bool ssl(std::vector<std::string> args)
    {
        args.insert(args.begin(), k_openssl);
        const auto r = pitool::test::run(args);
        if (r.exit_code != 0) ADD_FAILURE() << "openssl " << args[1] << ": " << r.err;
        return r.exit_code == 0;
    }

    pitool::test::TempDir m_dir;
    bool m_ok = false;
};

class HttpTls : public ::testing::Test {
protected:
    void SetUp() override
    {
        if (!std::filesystem::exists(k_openssl)) GTEST_SKIP() << "no openssl CLI";
        m_pki = std::make_unique<TestPki>();
        ASSERT_TRUE(m_pki->ok());
        m_server = std::make_unique<Loopback<httplib::SSLServer>>(m_pki->path("server.pem").c_str(),
                                                                  m_pki->path("server.key").c_str());
        ASSERT_TRUE(m_server->server().is_valid());
        m_server->server().Get("/secure", [](const httplib::Request& rq, httplib::Response& rs) {
            rs.set_content("tls:" + rq.get_header_value("Authorization"), "text/plain");
        });
        m_server->start();
    }

    static ClientOptions options()
    {
        ClientOptions o;
        o.connect_timeout = 5s;
        o.total_timeout = 10s;
        o.max_attempts = 2;
        o.backoff_base = 1ms;
        o.backoff_max = 5ms;
        return o;
    }

    Request request() const
    {
        Request rq;
        rq.base_url = m_server->origin("https");
        rq.path = "/secure";
        rq.bearer = Secret::from("tls-token");
        return rq;
    }

    std::unique_ptr<TestPki> m_pki;
    std::unique_ptr<Loopback<httplib::SSLServer>> m_server;
};

TEST_F(HttpTls, SucceedsWithTheExtraCa)
{
    ClientOptions o = options();
    o.ca_bundle = m_pki->path("ca.pem");
    auto client = make_curl_client(o);
    for (int i = 0; i < 2; ++i) { // the second request on a reused connection
        auto r = client->send(request());
        ASSERT_TRUE(r.ok()) << r.error().message;
        EXPECT_EQ(r->status, 200);
        EXPECT_EQ(r->body.view(), "tls:Bearer tls-token");
    }
}

TEST_F(HttpTls, FailsWithoutTheCa)
{
    auto client = make_curl_client(options());
    auto r = client->send(request());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::unavailable);
    EXPECT_NE(r.error().message.find("TLS certificate verification failed for host 127.0.0.1"), std::string::npos)
        << r.error().message;
}

TEST_F(HttpTls, WrongCaFails)
{
    // A CA file holding only the server certificate's sibling: a different CA.
    TestPki other;
    ASSERT_TRUE(other.ok());
    ClientOptions o = options();
    o.ca_bundle = other.path("ca.pem");
    auto client = make_curl_client(o);
    auto r = client->send(request());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::unavailable);
}

TEST_F(HttpTls, UnreadableOrEmptyCaBundleIsReported)
{
    ClientOptions o = options();
    o.ca_bundle = m_pki->path("missing.pem");
    auto r = make_curl_client(o)->send(request());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::io);

    o.ca_bundle = m_pki->path("server.ext"); // a file with no certificate
    auto r2 = make_curl_client(o)->send(request());
    ASSERT_FALSE(r2.ok());
    EXPECT_EQ(r2.error().code, Errc::usage);
}

} // namespace
} // namespace pitool::http
