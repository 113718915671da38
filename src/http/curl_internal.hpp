#pragma once
// Internal to the libcurl client (src/http/curl_*.cpp): its handles, the
// buffers a transfer writes into, one request's state, and the client.
//   curl_setup.cpp    handle setup: libcurl options, TLS context, CA loading
//   curl_request.cpp  one request: checks, the state machine (next_step,
//                     finish), errors, `send`
//   curl_multi.cpp    batches: the multi loop behind `perform_all`
//   curl_client.cpp   the factories

#include "http/detail.hpp"
#include "pitool/http/client.hpp"
#include "pitool/util/sanitize.hpp"

#include <curl/curl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace pitool::http::curl {

using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

constexpr int k_max_redirects = 5;

// ---------------------------------------------------------------------------
// libcurl global state and RAII handles

/// curl_global_init, once per process.
Status global_init();

struct EasyDeleter {
    void operator()(CURL* h) const noexcept { curl_easy_cleanup(h); }
};
using EasyHandle = std::unique_ptr<CURL, EasyDeleter>;

struct SlistDeleter {
    void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

struct UrlDeleter {
    void operator()(CURLU* u) const noexcept { curl_url_cleanup(u); }
};
using UrlHandle = std::unique_ptr<CURLU, UrlDeleter>;

struct X509Deleter {
    void operator()(X509* c) const noexcept { X509_free(c); }
};
using X509Ptr = std::unique_ptr<X509, X509Deleter>;

struct MultiDeleter {
    void operator()(CURLM* m) const noexcept { curl_multi_cleanup(m); }
};
using MultiHandle = std::unique_ptr<CURLM, MultiDeleter>;

struct BioDeleter {
    void operator()(BIO* b) const noexcept { BIO_free(b); }
};

// ---------------------------------------------------------------------------
// Small text helpers

inline char lower(char c) noexcept
{
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

inline bool iequals(std::string_view a, std::string_view b) noexcept
{
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

inline std::string_view trim(std::string_view s) noexcept
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
        s.remove_suffix(1);
    }
    return s;
}

/// Headers whose values are never logged even though they are not ours.
inline bool is_sensitive_header(std::string_view name) noexcept
{
    return iequals(name, "authorization") || iequals(name, "proxy-authorization") || iequals(name, "cookie") ||
           iequals(name, "set-cookie");
}

// ---------------------------------------------------------------------------
// URL origins

struct Origin {
    std::string scheme;
    std::string host;
    std::string port;
    bool operator==(const Origin&) const = default;

    [[nodiscard]] std::string host_port() const { return host + ':' + port; }
    [[nodiscard]] std::string text() const { return scheme + "://" + host_port(); }
};

/// scheme, lower-case host and port (the default one filled in) of an absolute URL.
std::optional<Origin> origin_of(const std::string& url);
/// The path and query of an absolute URL, as sent on the request line.
std::optional<std::string> path_and_query(const std::string& url);

inline bool is_followed_redirect(long status) noexcept
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

inline bool is_retryable_status(long status) noexcept
{
    return status == 429 || (status >= 500 && status <= 599);
}

// ---------------------------------------------------------------------------
// Response collection

/// A growing buffer in guarded memory that refuses to grow past a cap.
class SecureSink {
public:
    explicit SecureSink(std::size_t cap) : m_cap(cap) {}

    void reserve(std::size_t n)
    {
        n = std::min(n, m_cap);
        if (n > m_buf.size()) regrow(n);
    }

    /// False (and nothing appended) when the cap would be exceeded.
    bool append(const char* p, std::size_t n)
    {
        if (n > m_cap - m_used) return false;
        if (n > m_buf.size() - m_used) {
            std::size_t want = std::max<std::size_t>(4096, m_buf.size() * 2);
            want = std::max(want, m_used + n);
            regrow(std::min(want, m_cap));
        }
        std::memcpy(m_buf.data() + m_used, p, n);
        m_used += n;
        return true;
    }

    [[nodiscard]] std::size_t size() const noexcept { return m_used; }

    Secret take()
    {
        m_buf.truncate(m_used); // wipes the unused tail
        m_used = 0;
        return std::move(m_buf);
    }

private:
    void regrow(std::size_t capacity)
    {
        Secret next(capacity);
        if (m_used != 0) std::memcpy(next.data(), m_buf.data(), m_used);
        m_buf = std::move(next); // the old buffer is wiped by sodium_free
    }

    Secret m_buf;
    std::size_t m_used = 0;
    std::size_t m_cap;
};

/// What one libcurl transfer (one request, one response) produced.
struct Exchange {
    CURLcode code = CURLE_OK;
    long status = 0;
    std::vector<Header> headers;
    Secret body;
    bool too_large = false;
    long os_errno = 0;
    bool request_started = false; ///< the request may have reached the server
    std::string curl_error;       ///< libcurl's error buffer (never holds secrets we gave it)
    std::optional<std::string> redirect_url;
};

struct TransferState {
    explicit TransferState(std::size_t limit) : sink(limit), cap(limit) {}
    SecureSink sink;
    std::vector<Header> headers;
    std::size_t cap;
    bool too_large = false;
};

/// libcurl's write and header callbacks; `user` is the TransferState.
size_t on_body(char* data, size_t size, size_t count, void* user);
size_t on_header(char* data, size_t size, size_t count, void* user);

/// Adds the extra CA certificates (`user`: a std::vector<X509Ptr>) to the
/// store of each new TLS context, on top of the system store libcurl loaded.
CURLcode on_ssl_ctx(CURL*, void* ssl_ctx, void* user);
/// The PEM certificates of a CA bundle (Errc::io, Errc::usage, Errc::internal).
Result<std::vector<X509Ptr>> load_ca_bundle(const std::string& path);

// ---------------------------------------------------------------------------
// Errors

Error describe_failure(const Exchange& ex, const Origin& origin, const ClientOptions& opts);
/// True when the failure happened before anything could reach the server.
bool never_connected(const Exchange& ex) noexcept;
/// Network failures worth another attempt when a replay is harmless.
bool transient_failure(CURLcode code) noexcept;

// ---------------------------------------------------------------------------
// One request's way through attempts and redirects

/// A checked request: its normalised base URL and origin.
struct Target {
    std::string base;
    Origin origin;
};

/// Validation shared by `send` and `perform_all` (Errc::usage).
Result<Target> check_request(const Request& req);

/// Where one request is: which attempt, which hop of which redirect chain.
struct Flight {
    Flight(const Request& r, Target t) : req(&r), target(std::move(t)), method(r.method), path(r.path) {}
    const Request* req;
    Target target;
    int attempt = 1;
    int hops = 0;
    Method method;
    bool with_body = true;
    std::string path;
    SteadyClock::time_point attempt_started{};

    /// Back to the request as given, for the next attempt.
    void restart()
    {
        ++attempt;
        hops = 0;
        method = req->method;
        with_body = true;
        path = req->path;
    }
};

/// What the state machine says after a transfer.
struct Step {
    enum class Kind { done, redirect, retry } kind = Kind::done;
    std::optional<Result<Response>> result; ///< set when done
    milliseconds wait{0};                   ///< retry: wait this long first
    bool pause_pool = false;                ///< retry asked for by the server (429 or Retry-After)
};

/// One configured transfer: the buffers an easy handle points into.
struct Transfer {
    explicit Transfer(std::size_t cap) : state(cap) {}
    TransferState state;
    char errbuf[CURL_ERROR_SIZE] = {};
    std::string url;
    Slist headers;
    Secret token; ///< NUL-terminated copy of the bearer token
    bool sends_body = false;
    SteadyClock::time_point started{};
};

// ---------------------------------------------------------------------------
// The client

class CurlClient final : public Client {
public:
    CurlClient(const ClientOptions& options, detail::CurlClientHooks hooks);
    Result<Response> send(const Request& req) override;
    std::vector<Result<Response>> perform_all(const std::vector<Request>& requests,
                                              const BatchOptions& options) override;

private:
    class Batch;
    void debug(const std::string& line) const
    {
        // Header values and redirect targets come from the server: no raw controls.
        if (m_opts.debug_log) m_opts.debug_log(util::sanitize(line));
    }
    [[nodiscard]] bool debugging() const noexcept { return static_cast<bool>(m_opts.debug_log); }
    void trace(const std::string& line) const
    {
        if (m_opts.trace_log) m_opts.trace_log(util::sanitize(line));
    }
    [[nodiscard]] bool tracing() const noexcept { return static_cast<bool>(m_opts.trace_log); }

    /// Full jitter: uniform in [0, min(backoff_max, backoff_base * 2^(attempt-1))].
    milliseconds backoff(int attempt);
    /// Decides what follows a transfer of `f`: the final result, a
    /// same-origin redirect to follow at once, or a retry after a wait.
    Step next_step(Flight& f, Result<Exchange> outcome);
    /// The redirect part of next_step.
    Step follow_redirect(Flight& f, Exchange& ex);
    /// Sets every option of the transfer `f` is at on `h` (reset first).
    /// `t` must outlive the transfer: the handle points into it.
    Status configure(CURL* h, const Flight& f, Transfer& t);
    /// Collects what the transfer on `h` produced (libcurl result `code`)
    /// and resets `h`, dropping libcurl's copy of the token at once.
    Result<Exchange> finish(CURL* h, CURLcode code, const Flight& f, Transfer& t);
    void log_request(const Request& req, const std::string& url, Method method, bool sends_body) const;
    void log_response(const Exchange& ex, const Origin& origin, milliseconds elapsed) const;

    ClientOptions m_opts;
    detail::SleepFn m_sleep;
    std::mt19937_64 m_rng;
    std::mutex m_mutex;
    EasyHandle m_easy;
    std::vector<X509Ptr> m_ca_certs;
    std::optional<Error> m_setup_error;
};

} // namespace pitool::http::curl
