// The libcurl client against real loopback servers (cpp-httplib).

#include "http/detail.hpp"
#include "pitool/http/client.hpp"
#include "support/process.hpp"
#include "unit/http/loopback.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

namespace pitool::http {
namespace {

using namespace std::chrono_literals;
using pitool::test::LogCapture;
using pitool::test::Loopback;
using pitool::test::RawSocket;

constexpr std::string_view k_token = "pit-0b1c2d3e-PLANTED-SECRET-TOKEN-a5b6c7d8e9f0";

ClientOptions fast_options()
{
    ClientOptions o;
    o.connect_timeout = 2s;
    o.total_timeout = 5s;
    o.max_attempts = 3;
    o.backoff_base = 1ms;
    o.backoff_max = 20ms;
    o.user_agent = "pitool-test/1";
    return o;
}

/// A client whose waits are recorded, not slept.
struct RecordingClient {
    explicit RecordingClient(const ClientOptions& o = fast_options())
        : client(detail::make_curl_client(o, {[this](std::chrono::milliseconds d) {
                                              const std::lock_guard lock(mutex);
                                              waits.push_back(d);
                                          }}))
    {
    }
    std::mutex mutex;
    std::vector<std::chrono::milliseconds> waits;
    std::unique_ptr<Client> client;
};

Request get(const std::string& base, std::string path)
{
    Request r;
    r.base_url = base;
    r.path = std::move(path);
    return r;
}

TEST(HttpClient, GetRoundTripWithHeaders)
{
    Loopback srv;
    std::string seen_ua, seen_version, seen_accept, seen_query, seen_auth = "<none>";
    srv.server().Get("/locations/abc", [&](const httplib::Request& rq, httplib::Response& rs) {
        seen_ua = rq.get_header_value("User-Agent");
        seen_version = rq.get_header_value("Version");
        seen_accept = rq.get_header_value("Accept");
        seen_query = rq.get_param_value("locationId");
        if (rq.has_header("Authorization")) seen_auth = rq.get_header_value("Authorization");
        rs.set_header("X-RateLimit-Remaining", "99");
        rs.set_content(R"({"location":{"id":"abc"}})", "application/json");
    });
    srv.start();

    auto client = make_curl_client(fast_options());
    Request rq = get(srv.origin() + "/", "/locations/abc?locationId=L1");
    rq.headers = {{"Accept", "application/json"}, {"Version", "2021-07-28"}};
    auto r = client->send(rq);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->attempts, 1);
    EXPECT_EQ(r->body.view(), R"({"location":{"id":"abc"}})");
    EXPECT_EQ(r->header("x-ratelimit-remaining"), "99");
    EXPECT_EQ(r->header("CONTENT-TYPE"), "application/json");
    EXPECT_EQ(seen_ua, "pitool-test/1");
    EXPECT_EQ(seen_version, "2021-07-28");
    EXPECT_EQ(seen_accept, "application/json");
    EXPECT_EQ(seen_query, "L1");
    EXPECT_EQ(seen_auth, "<none>");
}

TEST(HttpClient, PostRoundTripWithBody)
{
    Loopback srv;
    std::string seen_type, seen_body, seen_method;
    srv.server().Post("/oauth/token", [&](const httplib::Request& rq, httplib::Response& rs) {
        seen_method = rq.method;
        seen_type = rq.get_header_value("Content-Type");
        seen_body = rq.body;
        rs.status = 201;
        rs.set_content("echo:" + rq.body, "text/plain");
    });
    srv.start();

    auto client = make_curl_client(fast_options());
    Request rq = get(srv.origin(), "/oauth/token");
    rq.method = Method::post;
    rq.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
    rq.body = Secret::from("grant_type=refresh_token&refresh_token=abc");
    auto r = client->send(rq);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->status, 201);
    EXPECT_EQ(r->body.view(), "echo:grant_type=refresh_token&refresh_token=abc");
    EXPECT_EQ(seen_method, "POST");
    EXPECT_EQ(seen_type, "application/x-www-form-urlencoded");
    EXPECT_EQ(seen_body, "grant_type=refresh_token&refresh_token=abc");
}

TEST(HttpClient, PutPatchDeleteAndEmptyBodies)
{
    Loopback srv;
    std::vector<std::string> seen;
    auto record = [&](const httplib::Request& rq, httplib::Response& rs) {
        seen.push_back(rq.method + " " + rq.path + " [" + rq.body + "]");
        rs.status = 204;
    };
    srv.server().Put("/x", record);
    srv.server().Patch("/x", record);
    srv.server().Delete("/x", record);
    srv.server().Post("/x", record);
    srv.start();

    auto client = make_curl_client(fast_options());
    for (auto [m, body] : std::initializer_list<std::pair<Method, const char*>>{
             {Method::put, "p"}, {Method::patch, "q"}, {Method::del, ""}, {Method::del, "d"}, {Method::post, ""}}) {
        Request rq = get(srv.origin(), "/x");
        rq.method = m;
        rq.body = Secret::from(body);
        auto r = client->send(rq);
        ASSERT_TRUE(r.ok()) << r.error().message;
        EXPECT_EQ(r->status, 204);
        EXPECT_TRUE(r->body.empty());
    }
    EXPECT_EQ(seen,
              (std::vector<std::string>{"PUT /x [p]", "PATCH /x [q]", "DELETE /x []", "DELETE /x [d]", "POST /x []"}));
}

TEST(HttpClient, ReusesTheConnection)
{
    Loopback srv;
    std::vector<int> ports;
    srv.server().Get("/ping", [&](const httplib::Request& rq, httplib::Response& rs) {
        ports.push_back(rq.remote_port);
        rs.set_content("pong", "text/plain");
    });
    srv.start();

    auto client = make_curl_client(fast_options());
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(client->send(get(srv.origin(), "/ping")).ok());
    ASSERT_EQ(ports.size(), 3U);
    EXPECT_EQ(ports[0], ports[1]);
    EXPECT_EQ(ports[1], ports[2]);
}

TEST(HttpClient, BearerIsSentButNeverLogged)
{
    Loopback srv;
    std::string seen_auth;
    srv.server().Post("/oauth/locationToken", [&](const httplib::Request& rq, httplib::Response& rs) {
        seen_auth = rq.get_header_value("Authorization");
        rs.set_header("X-RateLimit-Daily-Remaining", "199998");
        rs.set_header("Set-Cookie", "session=COOKIE-SECRET");
        rs.set_content(R"({"access_token":"RESPONSE-SECRET-TOKEN"})", "application/json");
    });
    srv.start();

    LogCapture logs;
    auto client = make_curl_client(logs.attach(fast_options()));
    Request rq = get(srv.origin(), "/oauth/locationToken");
    rq.method = Method::post;
    rq.bearer = Secret::from(k_token);
    rq.body = Secret::from("companyId=c&locationId=l&client_secret=BODY-SECRET");
    auto r = client->send(rq);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(seen_auth, "Bearer " + std::string(k_token));

    const std::string text = logs.text();
    EXPECT_NE(text.find("Authorization: Bearer [redacted]"), std::string::npos) << text;
    EXPECT_NE(text.find("<50 bytes>"), std::string::npos) << text;
    EXPECT_NE(text.find("X-RateLimit-Daily-Remaining: 199998"), std::string::npos) << text;
    EXPECT_NE(text.find("POST " + srv.origin() + "/oauth/locationToken"), std::string::npos) << text;
    EXPECT_EQ(text.find(k_token), std::string::npos) << text;
    EXPECT_EQ(text.find("PLANTED"), std::string::npos) << text;
    EXPECT_EQ(text.find("BODY-SECRET"), std::string::npos) << text;
    EXPECT_EQ(text.find("RESPONSE-SECRET-TOKEN"), std::string::npos) << text;
    EXPECT_EQ(text.find("COOKIE-SECRET"), std::string::npos) << text;
}

TEST(HttpClient, LoggableBodyIsLogged)
{
    Loopback srv;
    srv.server().Post("/search", [](const httplib::Request&, httplib::Response& rs) { rs.status = 200; });
    srv.start();
    LogCapture logs;
    auto client = make_curl_client(logs.attach(fast_options()));
    Request rq = get(srv.origin(), "/search");
    rq.method = Method::post;
    rq.body = Secret::from(R"({"query":"public"})");
    rq.body_loggable = true;
    ASSERT_TRUE(client->send(rq).ok());
    EXPECT_NE(logs.text().find(R"({"query":"public"})"), std::string::npos);
}

TEST(HttpClient, RejectsBadInputWithUsage)
{
    auto client = make_curl_client(fast_options());
    auto expect_usage = [&](const Request& rq) {
        auto r = client->send(rq);
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.error().code, Errc::usage) << r.error().message;
    };
    expect_usage(get("https://example.com/v1", "/x"));
    expect_usage(get("https://example.com", "x"));
    expect_usage(get("https://example.com", "//evil.com/x?u=https://evil.com"));
    expect_usage(get("https://example.com", "/a\r\nHost: evil.com"));
    Request with_auth = get("https://example.com", "/x");
    with_auth.headers = {{"Authorization", "Bearer abc"}};
    expect_usage(with_auth);
    Request bad_token = get("https://example.com", "/x");
    bad_token.bearer = Secret::from("abc\r\nX-Evil: 1");
    expect_usage(bad_token);
}

TEST(HttpClient, RetriesOn503ThenSucceeds)
{
    Loopback srv;
    std::atomic<int> calls{0};
    srv.server().Get("/flaky", [&](const httplib::Request&, httplib::Response& rs) {
        if (++calls < 3) {
            rs.status = 503;
            rs.set_content("busy", "text/plain");
            return;
        }
        rs.set_content("ok", "text/plain");
    });
    srv.start();

    RecordingClient rc;
    auto r = rc.client->send(get(srv.origin(), "/flaky"));
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->attempts, 3);
    EXPECT_EQ(r->body.view(), "ok");
    EXPECT_EQ(calls.load(), 3);
    ASSERT_EQ(rc.waits.size(), 2U);
    EXPECT_LE(rc.waits[0], 1ms); // full jitter within base * 2^0
    EXPECT_LE(rc.waits[1], 2ms); // and base * 2^1
}

TEST(HttpClient, ExhaustedRetriesReturnTheLastResponse)
{
    Loopback srv;
    std::atomic<int> calls{0};
    srv.server().Get("/down", [&](const httplib::Request&, httplib::Response& rs) {
        ++calls;
        rs.status = 502;
    });
    srv.start();

    RecordingClient rc;
    auto r = rc.client->send(get(srv.origin(), "/down"));
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->status, 502);
    EXPECT_EQ(r->attempts, 3);
    EXPECT_EQ(calls.load(), 3);
    EXPECT_EQ(rc.waits.size(), 2U);
}

TEST(HttpClient, BackoffWaitsAreCappedAtBackoffMax)
{
    Loopback srv;
    srv.server().Get("/down", [&](const httplib::Request&, httplib::Response& rs) { rs.status = 500; });
    srv.start();

    ClientOptions o = fast_options();
    o.max_attempts = 8;
    o.backoff_base = 5ms;
    o.backoff_max = 12ms;
    RecordingClient rc(o);
    auto r = rc.client->send(get(srv.origin(), "/down"));
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(rc.waits.size(), 7U);
    for (auto w : rc.waits) EXPECT_LE(w, 12ms);
}

TEST(HttpClient, RetryAfterSecondsIsHonoured)
{
    Loopback srv;
    std::atomic<int> calls{0};
    std::vector<std::chrono::steady_clock::time_point> served_at; // one request at a time
    srv.server().Get("/limited", [&](const httplib::Request&, httplib::Response& rs) {
        served_at.push_back(std::chrono::steady_clock::now());
        if (++calls == 1) {
            rs.status = 429;
            rs.set_header("Retry-After", "1");
            return;
        }
        rs.set_content("ok", "text/plain");
    });
    srv.start();

    ClientOptions o = fast_options();
    o.backoff_max = 3s;
    // The wait the client asks for is exactly the Retry-After, not a backoff.
    {
        RecordingClient rc(o);
        calls = 0;
        auto r = rc.client->send(get(srv.origin(), "/limited"));
        ASSERT_TRUE(r.ok()) << r.error().message;
        EXPECT_EQ(r->attempts, 2);
        EXPECT_EQ(rc.waits, (std::vector<std::chrono::milliseconds>{1000ms}));
    }
    // And with real sleeps, the server sees the retry at least that long
    // after the 429 (order from the server's own clock; an upper bound only
    // as a loose guard against a hang).
    calls = 0;
    served_at.clear();
    auto client = make_curl_client(o);
    auto r = client->send(get(srv.origin(), "/limited"));
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->attempts, 2);
    ASSERT_EQ(served_at.size(), 2u);
    EXPECT_GE(served_at[1] - served_at[0], 1s);
    EXPECT_LT(served_at[1] - served_at[0], 30s);
}

TEST(HttpClient, RetryAfterBeyondTheCapReturnsThe429)
{
    Loopback srv;
    std::atomic<int> calls{0};
    srv.server().Get("/limited", [&](const httplib::Request&, httplib::Response& rs) {
        ++calls;
        rs.status = 429;
        rs.set_header("Retry-After", "120");
    });
    srv.start();

    RecordingClient rc;
    auto r = rc.client->send(get(srv.origin(), "/limited"));
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->status, 429);
    EXPECT_EQ(r->header("retry-after"), "120");
    EXPECT_EQ(calls.load(), 1);
    EXPECT_TRUE(rc.waits.empty());
}

TEST(HttpClient, NonIdempotentRequestIsNotRetriedOn500Or429)
{
    for (int status : {500, 503, 429}) {
        Loopback srv;
        std::atomic<int> calls{0};
        srv.server().Post("/oauth/token", [&](const httplib::Request&, httplib::Response& rs) {
            ++calls;
            rs.status = status;
            rs.set_header("Retry-After", "0");
        });
        srv.start();

        RecordingClient rc;
        Request rq = get(srv.origin(), "/oauth/token");
        rq.method = Method::post;
        rq.idempotent = false;
        rq.body = Secret::from("code=once");
        auto r = rc.client->send(rq);
        ASSERT_TRUE(r.ok()) << r.error().message;
        EXPECT_EQ(r->status, status);
        EXPECT_EQ(r->attempts, 1);
        EXPECT_EQ(calls.load(), 1) << status;
        EXPECT_TRUE(rc.waits.empty());
    }
}

TEST(HttpClient, ConnectionRefusedIsUnavailableAfterRetries)
{
    RawSocket closed(/*listening=*/false);
    RecordingClient rc;
    auto r = rc.client->send(get(closed.origin(), "/x"));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::unavailable);
    EXPECT_NE(
        r.error().message.find("cannot connect to 127.0.0.1:" + std::to_string(closed.port()) + ": Connection refused"),
        std::string::npos)
        << r.error().message;
    EXPECT_NE(r.error().message.find("after 3 attempts"), std::string::npos) << r.error().message;
    EXPECT_EQ(rc.waits.size(), 2U);
}

TEST(HttpClient, ConnectionRefusedIsRetriedEvenForNonIdempotent)
{
    RawSocket closed(/*listening=*/false);
    RecordingClient rc;
    Request rq = get(closed.origin(), "/oauth/token");
    rq.method = Method::post;
    rq.idempotent = false;
    auto r = rc.client->send(rq);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::unavailable);
    EXPECT_EQ(rc.waits.size(), 2U); // never connected: a replay is harmless
}

TEST(HttpClient, UnresolvableHostIsUnavailable)
{
    // Tests send nothing beyond loopback, and a lookup of any name not in
    // /etc/hosts is a query to the system's DNS server. So the lookup runs in
    // a forked child in a private network namespace, which has only a loopback
    // that is down: the query cannot leave (sendto fails), the name does not
    // resolve, which is the failure under test.
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root for a private network namespace (unshare CLONE_NEWNET); "
                        "outside one the lookup would query the system resolver";
    int msg[2];
    ASSERT_EQ(::pipe2(msg, O_CLOEXEC), 0);
    auto child = pitool::test::Child::fork([&] {
        ::close(msg[0]);
        if (::unshare(CLONE_NEWNET) != 0) return 90;
        ClientOptions o = fast_options();
        o.max_attempts = 1;
        auto client = make_curl_client(o);
        auto r = client->send(get("https://pitool-test.invalid", "/x"));
        if (r.ok()) return 91;
        (void)!::write(msg[1], r.error().message.data(), r.error().message.size());
        return r.error().code == Errc::unavailable ? 0 : 92;
    });
    ::close(msg[1]);
    std::string message;
    char buf[4096];
    for (ssize_t n; (n = ::read(msg[0], buf, sizeof buf)) > 0;) message.append(buf, static_cast<std::size_t>(n));
    ::close(msg[0]);
    const int status = child.wait();
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "90 unshare, 91 it resolved, 92 not 'unavailable': " << message;
    EXPECT_NE(message.find("pitool-test.invalid"), std::string::npos) << message;
}

TEST(HttpClient, TotalTimeoutWithAServerThatNeverAnswers)
{
    RawSocket silent(/*listening=*/true);
    ClientOptions o = fast_options();
    o.total_timeout = 300ms;
    o.max_attempts = 1;
    auto client = make_curl_client(o);
    const auto start = std::chrono::steady_clock::now();
    auto r = client->send(get(silent.origin(), "/x"));
    const auto took = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::unavailable);
    EXPECT_NE(r.error().message.find("timed out"), std::string::npos) << r.error().message;
    EXPECT_GE(took, 250ms); // it waited for the answer until its limit...
    EXPECT_LT(took, 30s);   // ...and gave up (a loose guard against a hang)
}

TEST(HttpClient, TimeoutAfterSendIsNotRetriedForNonIdempotent)
{
    RawSocket silent(/*listening=*/true);
    ClientOptions o = fast_options();
    o.total_timeout = 200ms;
    RecordingClient rc(o);
    Request rq = get(silent.origin(), "/oauth/token");
    rq.method = Method::post;
    rq.idempotent = false;
    rq.body = Secret::from("code=once");
    auto r = rc.client->send(rq);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::unavailable);
    EXPECT_TRUE(rc.waits.empty());

    // The same failure on an idempotent request is retried.
    RecordingClient rc2(o);
    auto r2 = rc2.client->send(get(silent.origin(), "/x"));
    ASSERT_FALSE(r2.ok());
    EXPECT_EQ(rc2.waits.size(), 2U);
}

TEST(HttpClient, SameOriginRedirectsAreFollowed)
{
    Loopback srv;
    std::vector<std::string> seen;
    std::mutex m;
    auto record = [&](const httplib::Request& rq) {
        const std::lock_guard lock(m);
        seen.push_back(rq.method + " " + rq.path + " [" + rq.body + "] " + rq.get_header_value("Authorization"));
    };
    srv.server().Get("/old", [&](const httplib::Request& rq, httplib::Response& rs) {
        record(rq);
        rs.set_redirect("/new?x=1", 302);
    });
    srv.server().Get("/new", [&](const httplib::Request& rq, httplib::Response& rs) {
        record(rq);
        rs.set_content("moved:" + rq.get_param_value("x"), "text/plain");
    });
    srv.server().Post("/p307", [&](const httplib::Request& rq, httplib::Response& rs) {
        record(rq);
        rs.set_redirect(srv.origin() + "/p307b", 307); // absolute, same origin
    });
    srv.server().Post("/p307b", [&](const httplib::Request& rq, httplib::Response& rs) {
        record(rq);
        rs.set_content("posted", "text/plain");
    });
    srv.server().Post("/p303", [&](const httplib::Request& rq, httplib::Response& rs) {
        record(rq);
        rs.set_redirect("/new?x=2", 303);
    });
    srv.start();

    auto client = make_curl_client(fast_options());
    Request rq = get(srv.origin(), "/old");
    rq.bearer = Secret::from("tok");
    auto r = client->send(rq);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body.view(), "moved:1");

    Request post = get(srv.origin(), "/p307");
    post.method = Method::post;
    post.body = Secret::from("b=1");
    auto r2 = client->send(post);
    ASSERT_TRUE(r2.ok()) << r2.error().message;
    EXPECT_EQ(r2->body.view(), "posted");

    post.path = "/p303";
    auto r3 = client->send(post);
    ASSERT_TRUE(r3.ok()) << r3.error().message;
    EXPECT_EQ(r3->body.view(), "moved:2");

    EXPECT_EQ(seen, (std::vector<std::string>{"GET /old [] Bearer tok", "GET /new [] Bearer tok", "POST /p307 [b=1] ",
                                              "POST /p307b [b=1] ", "POST /p303 [b=1] ", "GET /new [] "}));
}

TEST(HttpClient, RedirectLoopIsCut)
{
    Loopback srv;
    std::atomic<int> calls{0};
    srv.server().Get("/loop", [&](const httplib::Request&, httplib::Response& rs) {
        ++calls;
        rs.set_redirect("/loop", 302);
    });
    srv.start();
    auto client = make_curl_client(fast_options());
    auto r = client->send(get(srv.origin(), "/loop"));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::unavailable);
    EXPECT_NE(r.error().message.find("too many redirects"), std::string::npos) << r.error().message;
    EXPECT_EQ(calls.load(), 6); // the request and 5 hops
}

TEST(HttpClient, CrossOriginRedirectIsRefusedAndTheTokenStaysHome)
{
    Loopback other;
    std::atomic<int> other_calls{0};
    std::string other_auth;
    other.server().Get(".*", [&](const httplib::Request& rq, httplib::Response& rs) {
        ++other_calls;
        other_auth += rq.get_header_value("Authorization");
        rs.set_content("stolen", "text/plain");
    });
    other.start();

    Loopback home;
    home.server().Get("/me", [&](const httplib::Request&, httplib::Response& rs) {
        rs.set_redirect(other.origin() + "/steal", 302);
    });
    home.server().Get("/scheme", [&](const httplib::Request&, httplib::Response& rs) {
        rs.set_redirect("https://127.0.0.1:" + std::to_string(home.port()) + "/me", 301);
    });
    home.start();

    LogCapture logs;
    auto client = make_curl_client(logs.attach(fast_options()));
    Request rq = get(home.origin(), "/me");
    rq.bearer = Secret::from(k_token);
    auto r = client->send(rq);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::unavailable);
    EXPECT_NE(r.error().message.find("127.0.0.1:" + std::to_string(other.port())), std::string::npos)
        << r.error().message;
    EXPECT_EQ(r.error().message.find(k_token), std::string::npos);

    rq.path = "/scheme"; // same host and port, other scheme: another origin too
    auto r2 = client->send(rq);
    ASSERT_FALSE(r2.ok());
    EXPECT_EQ(r2.error().code, Errc::unavailable);
    EXPECT_NE(r2.error().message.find("https://127.0.0.1"), std::string::npos) << r2.error().message;

    EXPECT_EQ(other_calls.load(), 0);
    EXPECT_EQ(other_auth, "");
    EXPECT_EQ(logs.text().find(k_token), std::string::npos);
}

TEST(HttpClient, ResponseOverTheCapIsUnavailable)
{
    Loopback srv;
    srv.server().Get("/big", [](const httplib::Request&, httplib::Response& rs) {
        rs.set_content(std::string(4096, 'x'), "text/plain");
    });
    srv.server().Get("/chunked", [](const httplib::Request&, httplib::Response& rs) {
        rs.set_chunked_content_provider("text/plain", [](size_t, httplib::DataSink& sink) {
            const std::string chunk(700, 'y');
            for (int i = 0; i < 4; ++i) sink.write(chunk.data(), chunk.size());
            sink.done();
            return true;
        });
    });
    srv.server().Get("/fits", [](const httplib::Request&, httplib::Response& rs) {
        rs.set_content(std::string(1024, 'z'), "text/plain");
    });
    srv.start();

    ClientOptions o = fast_options();
    o.max_response_bytes = 1024;
    RecordingClient rc(o);
    for (const char* path : {"/big", "/chunked"}) {
        auto r = rc.client->send(get(srv.origin(), path));
        ASSERT_FALSE(r.ok()) << path;
        EXPECT_EQ(r.error().code, Errc::unavailable);
        EXPECT_NE(r.error().message.find("larger than 1024 bytes"), std::string::npos) << r.error().message;
    }
    EXPECT_TRUE(rc.waits.empty()); // not retried

    auto ok = rc.client->send(get(srv.origin(), "/fits"));
    ASSERT_TRUE(ok.ok()) << ok.error().message;
    EXPECT_EQ(ok->body.size(), 1024U);
}

TEST(HttpClient, LargeBodyIsCollectedWhole)
{
    Loopback srv;
    std::string payload;
    for (int i = 0; payload.size() < 300'000; ++i) payload += std::to_string(i) + ',';
    srv.server().Get("/large", [&](const httplib::Request&, httplib::Response& rs) {
        rs.set_chunked_content_provider("text/plain", [&](size_t, httplib::DataSink& sink) {
            for (std::size_t at = 0; at < payload.size(); at += 10'000) {
                sink.write(payload.data() + at, std::min<std::size_t>(10'000, payload.size() - at));
            }
            sink.done();
            return true;
        });
    });
    srv.start();
    auto client = make_curl_client(fast_options());
    auto r = client->send(get(srv.origin(), "/large"));
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->body.size(), payload.size());
    EXPECT_TRUE(r->body.equals(payload));
}

} // namespace
} // namespace pitool::http

namespace pitool::http {
namespace {

// perform_all: the batch call on curl_multi.

TEST(HttpClientBatch, ResultsComeBackInOrderWithPerRequestRetries)
{
    Loopback srv;
    std::atomic<int> flaky{0};
    std::mutex mutex;
    std::vector<std::string> seen_auth;
    srv.server().Get(R"(/item/(\d+))", [&](const httplib::Request& rq, httplib::Response& rs) {
        {
            const std::lock_guard lock(mutex);
            seen_auth.push_back(rq.get_header_value("Authorization"));
        }
        rs.set_content("item " + rq.matches[1].str(), "text/plain");
    });
    srv.server().Get("/flaky", [&](const httplib::Request&, httplib::Response& rs) {
        if (++flaky <= 2) {
            rs.status = 503;
            return;
        }
        rs.set_content("finally", "text/plain");
    });
    srv.server().Get("/gone", [](const httplib::Request&, httplib::Response& rs) { rs.status = 401; });
    srv.server().Get("/hop", [](const httplib::Request&, httplib::Response& rs) { rs.set_redirect("/item/99", 302); });
    srv.start();

    std::vector<Request> batch;
    for (int i = 0; i < 6; ++i) {
        batch.push_back(get(srv.origin(), "/item/" + std::to_string(i)));
        batch.back().bearer = Secret::from(std::string(k_token) + std::to_string(i));
    }
    batch.push_back(get(srv.origin(), "/flaky"));
    batch.push_back(get(srv.origin(), "/gone"));
    batch.push_back(get(srv.origin(), "/hop"));
    batch.push_back(get(srv.origin(), "https://elsewhere.test/x")); // refused before sending

    BatchOptions opts;
    opts.max_in_flight = 3;
    std::vector<std::size_t> progress;
    opts.progress = [&](std::size_t done, std::size_t total) {
        EXPECT_EQ(total, batch.size());
        progress.push_back(done);
    };
    auto client = make_curl_client(fast_options());
    auto results = client->perform_all(batch, opts);

    ASSERT_EQ(results.size(), batch.size());
    for (int i = 0; i < 6; ++i) {
        ASSERT_TRUE(results[i].ok()) << results[i].error().message;
        EXPECT_EQ(results[i]->status, 200);
        EXPECT_EQ(results[i]->body.view(), "item " + std::to_string(i));
        EXPECT_EQ(results[i]->attempts, 1);
    }
    ASSERT_TRUE(results[6].ok()) << results[6].error().message;
    EXPECT_EQ(results[6]->status, 200);
    EXPECT_EQ(results[6]->attempts, 3);
    ASSERT_TRUE(results[7].ok());
    EXPECT_EQ(results[7]->status, 401);
    EXPECT_EQ(results[7]->attempts, 1);
    ASSERT_TRUE(results[8].ok());
    EXPECT_EQ(results[8]->body.view(), "item 99");
    ASSERT_FALSE(results[9].ok());
    EXPECT_EQ(results[9].error().code, Errc::usage);

    std::vector<std::size_t> expected(batch.size());
    for (std::size_t i = 0; i < expected.size(); ++i) expected[i] = i + 1;
    EXPECT_EQ(progress, expected);
    // Every request carried its own token.
    std::vector<std::string> want;
    for (int i = 0; i < 6; ++i) want.push_back("Bearer " + std::string(k_token) + std::to_string(i));
    std::sort(seen_auth.begin(), seen_auth.end());
    want.emplace_back(""); // the redirect target, reached without a token in this request
    std::sort(want.begin(), want.end());
    EXPECT_EQ(seen_auth, want);
}

TEST(HttpClientBatch, A429PausesItsPoolOnlyAndKeepsTheOrderOfOthers)
{
    Loopback srv;
    std::atomic<int> limited{0};
    std::mutex mutex;
    std::vector<std::string> order;
    srv.server().Get(R"(/(a|b)/(\d+))", [&](const httplib::Request& rq, httplib::Response& rs) {
        {
            const std::lock_guard lock(mutex);
            order.push_back(rq.path);
        }
        if (rq.path == "/a/0" && ++limited == 1) {
            rs.status = 429;
            rs.set_header("Retry-After", "2");
            return;
        }
        rs.set_content("ok", "text/plain");
    });
    srv.start();

    // One request at a time overall: pool 0 ("a") is paused by the 429 for
    // two seconds, so every "b" request is served before any further "a".
    std::vector<Request> batch;
    BatchOptions opts;
    opts.max_in_flight = 1;
    opts.pools = {{1, 0}, {1, 0}};
    for (int i = 0; i < 3; ++i) {
        batch.push_back(get(srv.origin(), "/a/" + std::to_string(i)));
        opts.pool_of.push_back(0);
    }
    for (int i = 0; i < 3; ++i) {
        batch.push_back(get(srv.origin(), "/b/" + std::to_string(i)));
        opts.pool_of.push_back(1);
    }
    ClientOptions o = fast_options();
    o.backoff_max = 3s;
    auto client = make_curl_client(o);
    auto results = client->perform_all(batch, opts);
    for (const auto& r : results) {
        ASSERT_TRUE(r.ok()) << r.error().message;
        EXPECT_EQ(r->status, 200);
    }
    EXPECT_EQ(results[0]->attempts, 2);
    const std::vector<std::string> want{"/a/0", "/b/0", "/b/1", "/b/2", "/a/1", "/a/2", "/a/0"};
    EXPECT_EQ(order, want);
}

TEST(HttpClientBatch, DefaultImplementationSendsOneAtATime)
{
    struct Counting final : Client {
        Result<Response> send(const Request& req) override
        {
            Response r;
            r.status = req.path == "/x" ? 200 : 404;
            ++sent;
            return r;
        }
        int sent = 0;
    } c;
    std::vector<Request> batch;
    batch.push_back(get("http://127.0.0.1:1", "/x"));
    batch.push_back(get("http://127.0.0.1:1", "/y"));
    auto results = c.perform_all(batch, {});
    ASSERT_EQ(results.size(), 2U);
    EXPECT_EQ(results[0]->status, 200);
    EXPECT_EQ(results[1]->status, 404);
    EXPECT_EQ(c.sent, 2);
}

} // namespace
} // namespace pitool::http
