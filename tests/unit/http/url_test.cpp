// Pure helpers of the HTTP layer: base URL normalisation, path and header
// validation, Retry-After parsing, method names, header lookup.

#include "http/detail.hpp"
#include "pitool/http/client.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace pitool::http {
namespace {

std::string norm_ok(std::string_view url)
{
    auto r = normalize_base_url(url);
    EXPECT_TRUE(r.ok()) << url << ": " << (r.ok() ? "" : r.error().message);
    return r.ok() ? r.value() : std::string();
}

Errc norm_err(std::string_view url)
{
    auto r = normalize_base_url(url);
    EXPECT_FALSE(r.ok()) << url << " was accepted as " << (r.ok() ? r.value() : "");
    return r.ok() ? Errc::internal : r.error().code;
}

TEST(HttpNormalizeBaseUrl, AcceptsAndNormalises)
{
    EXPECT_EQ(norm_ok("https://services.leadconnectorhq.com"), "https://services.leadconnectorhq.com");
    EXPECT_EQ(norm_ok("https://services.leadconnectorhq.com/"), "https://services.leadconnectorhq.com");
    EXPECT_EQ(norm_ok("HTTPS://API.Hint.COM"), "https://api.hint.com");
    EXPECT_EQ(norm_ok("http://127.0.0.1:8080/"), "http://127.0.0.1:8080");
    EXPECT_EQ(norm_ok("http://localhost:0080"), "http://localhost:80");
    EXPECT_EQ(norm_ok("https://[::1]:8443"), "https://[::1]:8443");
    EXPECT_EQ(norm_ok("https://[FE80::1]"), "https://[fe80::1]");
    EXPECT_EQ(norm_ok("https://sandbox-api.example.co.uk"), "https://sandbox-api.example.co.uk");
}

TEST(HttpNormalizeBaseUrl, RejectsWithUsage)
{
    for (const char* bad : {
             "",
             "services.leadconnectorhq.com",     // no scheme
             "ftp://example.com",                // scheme
             "file:///etc/passwd",               // scheme and path
             "https://",                         // no host
             "https:///",                        // no host
             "https://example.com/v1",           // path
             "https://example.com//",            // path
             "https://example.com?x=1",          // query
             "https://example.com#frag",         // fragment
             "https://user:pass@example.com",    // user info
             "https://example.com@evil.com",     // user info
             "https://exa mple.com",             // space
             "https://example.com\r\nX-Evil: 1", // CR/LF
             "https://example.com:",             // empty port
             "https://example.com:0",            // port range
             "https://example.com:65536",        // port range
             "https://example.com:12ab",         // port digits
             "https://example.com:1:2",          // two ports
             "https://exa..mple.com",            // empty label
             "https://.example.com",             // empty label
             "https://[::1",                     // IPv6 unterminated
             "https://[zz::1]",                  // IPv6 chars
             "https://ex\\ample.com",            // backslash
             "https://\xc3\xa9xample.com",       // non-ASCII
         }) {
        EXPECT_EQ(norm_err(bad), Errc::usage) << bad;
    }
}

TEST(HttpNormalizeBaseUrl, MessageNeverEchoesUserInfo)
{
    auto r = normalize_base_url("https://user:hunter2@example.com");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message.find("hunter2"), std::string::npos);
}

TEST(HttpValidatePath, AcceptsAbsolutePaths)
{
    for (const char* good : {"/", "/locations/abc", "/contacts/?locationId=x&query=a%20b", "/oauth/token",
                             "/api/provider/practices/abc-123"}) {
        EXPECT_TRUE(detail::validate_path(good).ok()) << good;
    }
}

TEST(HttpValidatePath, RejectsWithUsage)
{
    for (const char* bad : {"", "locations", "https://evil.com/x", "/redirect?to=http://evil.com", "/a b",
                            "/a\r\nHost: evil", "/a\tb", "/a\x7f", "/a\x01", "/caf\xc3\xa9", "/a#frag"}) {
        auto s = detail::validate_path(bad);
        ASSERT_FALSE(s.ok()) << bad;
        EXPECT_EQ(s.error().code, Errc::usage) << bad;
    }
}

TEST(HttpValidateHeader, RejectsInjectionAndOwnedHeaders)
{
    EXPECT_TRUE(detail::validate_header({"Accept", "application/json"}).ok());
    EXPECT_TRUE(detail::validate_header({"Version", "2021-07-28"}).ok());
    EXPECT_TRUE(detail::validate_header({"X-Empty", ""}).ok());
    for (const Header& bad : std::initializer_list<Header>{
             {"", "x"},
             {"Bad Name", "x"},
             {"Bad:Name", "x"},
             {"X-Inject", "a\r\nAuthorization: Bearer x"},
             {"X-Nul", std::string("a\0b", 3)},
             {"Authorization", "Bearer x"},
             {"authorization", "Basic x"},
             {"Proxy-Authorization", "x"},
             {"Host", "evil.com"},
             {"Content-Length", "5"},
             {"Transfer-Encoding", "chunked"},
         }) {
        auto s = detail::validate_header(bad);
        ASSERT_FALSE(s.ok()) << bad.name;
        EXPECT_EQ(s.error().code, Errc::usage);
        EXPECT_EQ(s.error().message.find("Bearer x"), std::string::npos);
    }
}

TEST(HttpRetryAfter, Parses)
{
    using namespace std::chrono;
    const auto now = system_clock::from_time_t(784111777); // Sun, 06 Nov 1994 08:49:37 GMT
    EXPECT_EQ(detail::parse_retry_after("3", now), milliseconds(3000));
    EXPECT_EQ(detail::parse_retry_after(" 0 ", now), milliseconds(0));
    EXPECT_EQ(detail::parse_retry_after("99999999999999", now), milliseconds(86'400'000));
    EXPECT_EQ(detail::parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now), milliseconds(10'000));
    EXPECT_EQ(detail::parse_retry_after("Sunday, 06-Nov-94 08:50:37 GMT", now), milliseconds(60'000));
    EXPECT_EQ(detail::parse_retry_after("Sun Nov  6 08:49:39 1994", now), milliseconds(2000));
    EXPECT_EQ(detail::parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now), milliseconds(0));
    EXPECT_FALSE(detail::parse_retry_after("", now));
    EXPECT_FALSE(detail::parse_retry_after("soon", now));
    EXPECT_FALSE(detail::parse_retry_after("-5", now));
}

TEST(HttpMethodName, Names)
{
    EXPECT_EQ(method_name(Method::get), "GET");
    EXPECT_EQ(method_name(Method::post), "POST");
    EXPECT_EQ(method_name(Method::put), "PUT");
    EXPECT_EQ(method_name(Method::patch), "PATCH");
    EXPECT_EQ(method_name(Method::del), "DELETE");
}

TEST(HttpResponseHeader, CaseInsensitiveFirstMatch)
{
    Response r;
    r.headers = {
        {"Content-Type", "application/json"}, {"X-RateLimit-Remaining", "99"}, {"x-ratelimit-remaining", "98"}};
    EXPECT_EQ(r.header("content-type"), "application/json");
    EXPECT_EQ(r.header("X-RATELIMIT-REMAINING"), "99");
    EXPECT_FALSE(r.header("Retry-After"));
    EXPECT_FALSE(r.header("Content-Typ"));
}

} // namespace

TEST(HttpPlaintext, OnlyLoopbackHostsMayUsePlainHttp)
{
    for (const char* host :
         {"localhost", "127.0.0.1", "127.255.255.254", "[::1]", "[0:0:0:0:0:0:0:1]", "[::ffff:127.0.0.1]"})
        EXPECT_TRUE(is_loopback_host(host)) << host;
    for (const char* host :
         {"", "example.com", "localhost.example.com", "127.0.0.1.example.com", "128.0.0.1", "10.0.0.1", "127.1",
          "0x7f.0.0.1", "[::2]", "[::]", "[::ffff:10.0.0.1]", "[::1", "localhostx"})
        EXPECT_FALSE(is_loopback_host(host)) << host;
    EXPECT_EQ(norm_ok("http://127.9.8.7:9"), "http://127.9.8.7:9");
    EXPECT_EQ(norm_ok("HTTP://LOCALHOST"), "http://localhost");
    EXPECT_EQ(norm_ok("http://[::1]:9"), "http://[::1]:9");
    for (const char* url : {"http://example.com", "http://10.0.0.1:8080", "http://[::2]", "http://localhost.evil"}) {
        EXPECT_EQ(norm_err(url), Errc::usage);
        auto r = normalize_base_url(url);
        ASSERT_FALSE(r.ok());
        EXPECT_NE(r.error().message.find("loopback"), std::string::npos) << r.error().message;
    }
    EXPECT_TRUE(check_plaintext_host("etcd", "127.0.0.1").ok());
    EXPECT_FALSE(check_plaintext_host("etcd", "etcd.example.com").ok());
}

} // namespace pitool::http
