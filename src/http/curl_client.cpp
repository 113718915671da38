// The libcurl implementation of pitool::http::Client.
//
// One Client owns one curl easy handle. curl_easy_reset() between transfers
// clears every option but keeps the connection cache, the DNS cache and the
// TLS session cache, so connections to a provider stay alive across calls
// while no option from a previous request can leak into the next one.
//
// The bearer token is handed to libcurl with CURLOPT_XOAUTH2_BEARER and
// CURLAUTH_BEARER rather than as an "Authorization:" line in the header list:
//  - the token never sits in a curl_slist (whose nodes we could not wipe);
//  - libcurl itself refuses to send it to any host but the one of the URL
//    (Curl_auth_allowed_to_host), a second line of defence behind our own
//    no-cross-origin-redirect rule;
//  - with a single auth method libcurl sends it pre-emptively, like a header.
// Limitation, documented rather than hidden: libcurl strdup()s the string and
// later free()s its copy (and the request buffer it built the header line in)
// without wiping. We shorten that window by clearing the option right after
// the transfer; our own NUL-terminated copy lives in guarded memory.
//
// `send` runs one request on the client's easy handle; `perform_all` runs a
// batch on a curl multi handle with one easy handle per request in flight.
// Both drive the same per-request state machine (`Flight` + `next_step`), so
// the retry, Retry-After and redirect rules are the same; in a batch a wait
// is a "not before" time in the multi loop, never a sleep.

#include "http/detail.hpp"
#include "pitool/http/client.hpp"
#include "pitool/util/sanitize.hpp"

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <deque>
#include <mutex>
#include <random>
#include <system_error>
#include <thread>
#include <utility>

namespace pitool::http {
namespace {

using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

constexpr int k_max_redirects = 5;

// ---------------------------------------------------------------------------
// libcurl global state and RAII handles

Status global_init()
{
    static std::once_flag once;
    static CURLcode rc = CURLE_OK;
    std::call_once(once, [] { rc = curl_global_init(CURL_GLOBAL_DEFAULT); });
    if (rc != CURLE_OK) {
        return make_error(Errc::internal, std::string("cannot initialise libcurl: ") + curl_easy_strerror(rc));
    }
    return {};
}

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

char lower(char c) noexcept
{
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept
{
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

std::string_view trim(std::string_view s) noexcept
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
        s.remove_suffix(1);
    }
    return s;
}

/// Headers whose values are never logged even though they are not ours.
bool is_sensitive_header(std::string_view name) noexcept
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

std::optional<std::string> url_part(CURLU* u, CURLUPart part, unsigned flags)
{
    char* out = nullptr;
    if (curl_url_get(u, part, &out, flags) != CURLUE_OK || out == nullptr) return std::nullopt;
    std::string s(out);
    curl_free(out);
    return s;
}

/// scheme, lower-case host and port (the default one filled in) of an absolute URL.
std::optional<Origin> origin_of(const std::string& url)
{
    UrlHandle u(curl_url());
    if (!u || curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return std::nullopt;
    auto scheme = url_part(u.get(), CURLUPART_SCHEME, 0);
    auto host = url_part(u.get(), CURLUPART_HOST, 0);
    auto port = url_part(u.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT);
    if (!scheme || !host || !port) return std::nullopt;
    std::transform(scheme->begin(), scheme->end(), scheme->begin(), lower);
    std::transform(host->begin(), host->end(), host->begin(), lower);
    return Origin{std::move(*scheme), std::move(*host), std::move(*port)};
}

/// The path and query of an absolute URL, as sent on the request line.
std::optional<std::string> path_and_query(const std::string& url)
{
    UrlHandle u(curl_url());
    if (!u || curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return std::nullopt;
    auto path = url_part(u.get(), CURLUPART_PATH, 0);
    if (!path) return std::nullopt;
    if (auto query = url_part(u.get(), CURLUPART_QUERY, 0); query && !query->empty()) {
        *path += '?' + *query;
    }
    return path;
}

bool is_followed_redirect(long status) noexcept
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

bool is_retryable_status(long status) noexcept
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

size_t on_body(char* data, size_t size, size_t count, void* user)
{
    auto* st = static_cast<TransferState*>(user);
    const std::size_t n = size * count;
    try {
        if (!st->sink.append(data, n)) {
            st->too_large = true;
            return 0; // aborts the transfer with CURLE_WRITE_ERROR
        }
    } catch (...) {
        return 0;
    }
    return n;
}

size_t on_header(char* data, size_t size, size_t count, void* user)
{
    auto* st = static_cast<TransferState*>(user);
    const std::size_t n = size * count;
    try {
        const std::string_view line = trim(std::string_view(data, n));
        if (line.rfind("HTTP/", 0) == 0) {
            st->headers.clear(); // a new response (after 1xx or a proxy CONNECT)
            return n;
        }
        if (line.empty()) return n;
        if ((data[0] == ' ' || data[0] == '\t') && !st->headers.empty()) {
            st->headers.back().value += ' ';
            st->headers.back().value += line; // obsolete line folding
            return n;
        }
        const auto colon = line.find(':');
        if (colon == std::string_view::npos) return n;
        Header h{std::string(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1)))};
        if (iequals(h.name, "content-length")) {
            std::size_t length = 0;
            const auto [end, ec] = std::from_chars(h.value.data(), h.value.data() + h.value.size(), length);
            if (ec == std::errc::result_out_of_range || (ec == std::errc{} && length > st->cap)) {
                st->too_large = true;
                return 0; // refuse before reading the body
            }
            if (ec == std::errc{}) st->sink.reserve(length);
        }
        st->headers.push_back(std::move(h));
    } catch (...) {
        return 0;
    }
    return n;
}

/// Adds the extra CA certificates to the store of each new TLS context, on
/// top of the system store libcurl loaded.
CURLcode on_ssl_ctx(CURL*, void* ssl_ctx, void* user)
{
    const auto* certs = static_cast<const std::vector<X509Ptr>*>(user);
    X509_STORE* store = SSL_CTX_get_cert_store(static_cast<SSL_CTX*>(ssl_ctx));
    if (store == nullptr) return CURLE_SSL_CACERT_BADFILE;
    for (const auto& cert : *certs) {
        if (X509_STORE_add_cert(store, cert.get()) != 1) {
            ERR_clear_error(); // a duplicate is fine; anything else shows up as a verify failure
        }
    }
    return CURLE_OK;
}

int no_passphrase(char*, int, int, void*)
{
    return 0;
}

Result<std::vector<X509Ptr>> load_ca_bundle(const std::string& path)
{
    const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
    if (info == nullptr || info->ssl_version == nullptr ||
        std::string_view(info->ssl_version).rfind("OpenSSL", 0) != 0) {
        return make_error(Errc::internal, "an extra CA bundle needs libcurl built with OpenSSL");
    }
    std::unique_ptr<BIO, BioDeleter> bio(BIO_new_file(path.c_str(), "r"));
    if (!bio) {
        ERR_clear_error();
        return make_error(Errc::io, "cannot read CA bundle " + path);
    }
    std::vector<X509Ptr> certs;
    while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr)) {
        certs.emplace_back(cert);
    }
    ERR_clear_error(); // the end of the file reads as a "no start line" error
    if (certs.empty()) {
        return make_error(Errc::usage, "CA bundle " + path + " holds no PEM certificate");
    }
    return certs;
}

// ---------------------------------------------------------------------------
// Errors

Error describe_failure(const Exchange& ex, const Origin& origin, const ClientOptions& opts)
{
    const std::string detail = ex.curl_error.empty() ? curl_easy_strerror(ex.code) : ex.curl_error;
    std::string msg;
    switch (ex.code) {
    case CURLE_COULDNT_RESOLVE_HOST:
        msg = "cannot resolve host " + origin.host;
        break;
    case CURLE_COULDNT_RESOLVE_PROXY:
        msg = "cannot resolve the proxy host: " + detail;
        break;
    case CURLE_COULDNT_CONNECT:
        msg = "cannot connect to " + origin.host_port() + ": " +
              (ex.os_errno != 0 ? std::error_code(static_cast<int>(ex.os_errno), std::generic_category()).message()
                                : detail);
        break;
    case CURLE_OPERATION_TIMEDOUT:
        msg = ex.request_started ? "request to " + origin.host_port() + " timed out after " +
                                       std::to_string(opts.total_timeout.count()) + " ms"
                                 : "connection to " + origin.host_port() + " timed out";
        break;
    case CURLE_PEER_FAILED_VERIFICATION:
        msg = "TLS certificate verification failed for host " + origin.host + ": " + detail;
        break;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
        msg = "TLS error with host " + origin.host + ": " + detail;
        break;
    case CURLE_WRITE_ERROR:
    case CURLE_FILESIZE_EXCEEDED:
        if (ex.too_large) {
            msg = "response from " + origin.host_port() + " larger than " + std::to_string(opts.max_response_bytes) +
                  " bytes";
            break;
        }
        [[fallthrough]];
    default:
        msg = "request to " + origin.host_port() + " failed: " + detail;
        break;
    }
    return make_error(Errc::unavailable, std::move(msg));
}

/// True when the failure happened before anything could reach the server.
bool never_connected(const Exchange& ex) noexcept
{
    switch (ex.code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
        return true;
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SSL_CONNECT_ERROR:
        return !ex.request_started;
    default:
        return false;
    }
}

/// Network failures worth another attempt when a replay is harmless.
bool transient_failure(CURLcode code) noexcept
{
    switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return true;
    default:
        return false;
    }
}

// ---------------------------------------------------------------------------
// One request's way through attempts and redirects

/// A checked request: its normalised base URL and origin.
struct Target {
    std::string base;
    Origin origin;
};

/// Validation shared by `send` and `perform_all` (Errc::usage).
Result<Target> check_request(const Request& req)
{
    auto base = normalize_base_url(req.base_url);
    if (!base) return std::move(base).error();
    PITOOL_TRY(detail::validate_path(req.path));
    for (const auto& h : req.headers) PITOOL_TRY(detail::validate_header(h));
    if (req.bearer) {
        const auto token = req.bearer->view();
        if (token.empty() || !std::all_of(token.begin(), token.end(), [](char c) {
                const auto u = static_cast<unsigned char>(c);
                return u > 0x20 && u < 0x7f;
            })) {
            return make_error(Errc::usage, "the bearer token is empty or holds characters "
                                           "not allowed in an HTTP header");
        }
    }
    auto origin = origin_of(base.value() + "/");
    if (!origin) return make_error(Errc::usage, "invalid base URL");
    return Target{std::move(base).value(), std::move(*origin)};
}

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
    CurlClient(const ClientOptions& options, detail::CurlClientHooks hooks)
        : m_opts(options), m_sleep(std::move(hooks.sleep)), m_rng(std::random_device{}())
    {
        if (!m_sleep) m_sleep = [](milliseconds d) { std::this_thread::sleep_for(d); };
        if (auto init = global_init(); !init) {
            m_setup_error = init.error();
            return;
        }
        m_easy.reset(curl_easy_init());
        if (!m_easy) {
            m_setup_error = make_error(Errc::internal, "cannot create a libcurl handle");
            return;
        }
        if (!m_opts.ca_bundle.empty()) {
            auto certs = load_ca_bundle(m_opts.ca_bundle);
            if (!certs) {
                m_setup_error = certs.error();
                return;
            }
            m_ca_certs = std::move(certs).value();
        }
    }

    Result<Response> send(const Request& req) override
    {
        const std::lock_guard lock(m_mutex); // one easy handle: one transfer at a time
        if (m_setup_error) return *m_setup_error;
        auto target = check_request(req);
        if (!target) return std::move(target).error();

        Flight f(req, std::move(target).value());
        CURL* h = m_easy.get();
        for (;;) {
            if (f.hops == 0) f.attempt_started = SteadyClock::now();
            Transfer t(m_opts.max_response_bytes);
            auto ex = [&]() -> Result<Exchange> {
                PITOOL_TRY(configure(h, f, t));
                return finish(h, curl_easy_perform(h), f, t);
            }();
            Step step = next_step(f, std::move(ex));
            if (step.kind == Step::Kind::done) return std::move(*step.result);
            if (step.kind == Step::Kind::retry) m_sleep(step.wait);
        }
    }

    std::vector<Result<Response>> perform_all(const std::vector<Request>& requests,
                                              const BatchOptions& options) override;

private:
    void debug(const std::string& line) const
    {
        // Header values and redirect targets come from the server: no raw controls.
        if (m_opts.debug_log) m_opts.debug_log(util::sanitize(line));
    }
    [[nodiscard]] bool tracing() const noexcept { return static_cast<bool>(m_opts.debug_log); }

    /// Full jitter: uniform in [0, min(backoff_max, backoff_base * 2^(attempt-1))].
    milliseconds backoff(int attempt)
    {
        const long long base = std::max<long long>(0, m_opts.backoff_base.count());
        const long long cap = std::max<long long>(0, m_opts.backoff_max.count());
        const int shift = std::clamp(attempt - 1, 0, 30);
        const long long ceiling = base > (cap >> shift) ? cap : std::min(cap, base << shift);
        std::uniform_int_distribution<long long> dist(0, ceiling);
        return milliseconds(dist(m_rng));
    }

    /// Decides what follows a transfer of `f`: the final result, a
    /// same-origin redirect to follow at once, or a retry after a wait.
    Step next_step(Flight& f, Result<Exchange> outcome)
    {
        Step step;
        const Request& req = *f.req;
        const Origin& origin = f.target.origin;
        const int max_attempts = std::max(1, m_opts.max_attempts);
        if (!outcome) {
            step.result = std::move(outcome).error();
            return step;
        }
        Exchange& ex = outcome.value();

        if (ex.code == CURLE_OK && is_followed_redirect(ex.status) && ex.redirect_url) {
            const auto target = origin_of(*ex.redirect_url);
            if (!target) {
                step.result = make_error(Errc::unavailable, "invalid redirect location from " + origin.host_port());
                return step;
            }
            if (!(*target == origin)) {
                step.result = make_error(Errc::unavailable, "refusing redirect from " + origin.text() +
                                                                " to another origin: " + target->text());
                return step;
            }
            if (f.hops + 1 > k_max_redirects) {
                step.result = make_error(Errc::unavailable, "too many redirects from " + origin.host_port());
                return step;
            }
            auto next = path_and_query(*ex.redirect_url);
            if (!next || !detail::validate_path(*next)) {
                step.result = make_error(Errc::unavailable, "invalid redirect location from " + origin.host_port());
                return step;
            }
            if (ex.status != 307 && ex.status != 308) {
                f.method = Method::get;
                f.with_body = false;
            }
            if (tracing()) debug("http: " + std::to_string(ex.status) + " redirect to " + *next);
            f.path = std::move(*next);
            ++f.hops;
            step.kind = Step::Kind::redirect;
            return step;
        }

        const auto elapsed = std::chrono::duration_cast<milliseconds>(SteadyClock::now() - f.attempt_started);
        const int attempt = f.attempt;
        if (ex.code != CURLE_OK) {
            Error err = describe_failure(ex, origin, m_opts);
            const bool retry = req.idempotent ? transient_failure(ex.code) : never_connected(ex);
            if (!retry || attempt >= max_attempts) {
                if (attempt > 1) err.message += " (after " + std::to_string(attempt) + " attempts)";
                step.result = std::move(err);
                return step;
            }
            step.wait = backoff(attempt);
            if (tracing())
                debug("http: " + err.message + " (attempt " + std::to_string(attempt) + "/" +
                      std::to_string(max_attempts) + "), retrying in " + std::to_string(step.wait.count()) + " ms");
        } else {
            Response resp;
            resp.status = ex.status;
            resp.headers = std::move(ex.headers);
            resp.body = std::move(ex.body);
            resp.elapsed = elapsed;
            resp.attempts = attempt;
            if (!is_retryable_status(resp.status) || !req.idempotent || attempt >= max_attempts) {
                step.result = std::move(resp);
                return step;
            }
            step.pause_pool = resp.status == 429;
            if (const auto ra = resp.header("Retry-After")) {
                const auto asked = detail::parse_retry_after(*ra, std::chrono::system_clock::now());
                if (asked && *asked > m_opts.backoff_max) {
                    // Waiting less than the server asked would only burn an
                    // attempt on another refusal: hand the response back.
                    if (tracing())
                        debug("http: " + origin.host + " asks to retry after " + std::to_string(asked->count()) +
                              " ms, beyond the " + std::to_string(m_opts.backoff_max.count()) +
                              " ms cap; not retrying");
                    step.result = std::move(resp);
                    return step;
                }
                step.wait = asked ? *asked : backoff(attempt);
                step.pause_pool = step.pause_pool || asked.has_value();
            } else {
                step.wait = backoff(attempt);
            }
            if (tracing())
                debug("http: status " + std::to_string(resp.status) + " from " + origin.host + " (attempt " +
                      std::to_string(attempt) + "/" + std::to_string(max_attempts) + "), retrying in " +
                      std::to_string(step.wait.count()) + " ms");
        }
        f.restart();
        step.kind = Step::Kind::retry;
        return step;
    }

    template <typename T> static void set(CURLcode& rc, CURL* h, CURLoption option, T value)
    {
        if (rc == CURLE_OK) rc = curl_easy_setopt(h, option, value);
    }

    /// Sets every option of the transfer `f` is at on `h` (reset first).
    /// `t` must outlive the transfer: the handle points into it.
    Status configure(CURL* h, const Flight& f, Transfer& t)
    {
        const Request& req = *f.req;
        curl_easy_reset(h);
        CURLcode rc = CURLE_OK;
        t.url = f.target.base + f.path;

        set(rc, h, CURLOPT_ERRORBUFFER, t.errbuf);
        set(rc, h, CURLOPT_URL, t.url.c_str());
        set(rc, h, CURLOPT_PROTOCOLS_STR, "http,https");
        set(rc, h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        set(rc, h, CURLOPT_FOLLOWLOCATION, 0L);
        set(rc, h, CURLOPT_NOSIGNAL, 1L);
        set(rc, h, CURLOPT_TCP_KEEPALIVE, 1L);
        set(rc, h, CURLOPT_SSL_VERIFYPEER, 1L);
        set(rc, h, CURLOPT_SSL_VERIFYHOST, 2L);
        set(rc, h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(m_opts.connect_timeout.count()));
        set(rc, h, CURLOPT_TIMEOUT_MS, static_cast<long>(m_opts.total_timeout.count()));
        set(rc, h, CURLOPT_USERAGENT, m_opts.user_agent.c_str());
        set(rc, h, CURLOPT_WRITEFUNCTION, on_body);
        set(rc, h, CURLOPT_WRITEDATA, static_cast<void*>(&t.state));
        set(rc, h, CURLOPT_HEADERFUNCTION, on_header);
        set(rc, h, CURLOPT_HEADERDATA, static_cast<void*>(&t.state));
        if (!m_ca_certs.empty()) {
            set(rc, h, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
            set(rc, h, CURLOPT_SSL_CTX_DATA, static_cast<void*>(&m_ca_certs));
        }

        auto add_header = [&](const std::string& line) {
            curl_slist* head = curl_slist_append(t.headers.get(), line.c_str());
            if (head == nullptr) throw std::bad_alloc();
            (void)t.headers.release();
            t.headers.reset(head);
        };
        for (const auto& hdr : req.headers) {
            // "Name;" is libcurl's syntax for a header with an empty value.
            add_header(hdr.value.empty() ? hdr.name + ';' : hdr.name + ": " + hdr.value);
        }
        add_header("Expect:"); // no 100-continue round trip
        set(rc, h, CURLOPT_HTTPHEADER, t.headers.get());

        if (req.bearer) {
            t.token = Secret(req.bearer->size() + 1); // NUL-terminated copy in guarded memory
            std::memcpy(t.token.data(), req.bearer->data(), req.bearer->size());
            set(rc, h, CURLOPT_HTTPAUTH, static_cast<unsigned long>(CURLAUTH_BEARER));
            set(rc, h, CURLOPT_XOAUTH2_BEARER, reinterpret_cast<const char*>(t.token.data()));
        }

        const Method method = f.method;
        t.sends_body = f.with_body && method != Method::get;
        const char* body_ptr =
            (t.sends_body && !req.body.empty()) ? reinterpret_cast<const char*>(req.body.data()) : "";
        const auto body_size = static_cast<curl_off_t>(t.sends_body ? req.body.size() : 0);
        switch (method) {
        case Method::get:
            set(rc, h, CURLOPT_HTTPGET, 1L);
            break;
        case Method::del:
            if (body_size == 0) {
                set(rc, h, CURLOPT_HTTPGET, 1L);
                set(rc, h, CURLOPT_CUSTOMREQUEST, "DELETE");
                break;
            }
            [[fallthrough]];
        case Method::post:
        case Method::put:
        case Method::patch:
            // POSTFIELDS points at the caller's guarded memory: libcurl does not copy it.
            set(rc, h, CURLOPT_POST, 1L);
            set(rc, h, CURLOPT_POSTFIELDSIZE_LARGE, body_size);
            set(rc, h, CURLOPT_POSTFIELDS, body_ptr);
            if (method != Method::post) set(rc, h, CURLOPT_CUSTOMREQUEST, method_name(method).data());
            break;
        }
        if (rc != CURLE_OK) {
            curl_easy_reset(h);
            return make_error(Errc::internal, std::string("cannot configure libcurl: ") + curl_easy_strerror(rc));
        }
        if (tracing()) log_request(req, t.url, method, t.sends_body);
        t.started = SteadyClock::now();
        return {};
    }

    /// Collects what the transfer on `h` produced (libcurl result `code`)
    /// and resets `h`, dropping libcurl's copy of the token at once.
    Result<Exchange> finish(CURL* h, CURLcode code, const Flight& f, Transfer& t)
    {
        const auto elapsed = std::chrono::duration_cast<milliseconds>(SteadyClock::now() - t.started);
        Exchange ex;
        ex.code = code;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &ex.status);
        curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &ex.os_errno);
        curl_off_t pretransfer = 0;
        long request_size = 0;
        curl_easy_getinfo(h, CURLINFO_PRETRANSFER_TIME_T, &pretransfer);
        curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &request_size);
        ex.request_started = pretransfer > 0 || request_size > 0;
        if (char* location = nullptr;
            curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &location) == CURLE_OK && location != nullptr) {
            ex.redirect_url = location;
        }
        ex.curl_error = t.errbuf;
        ex.too_large = t.state.too_large;
        ex.headers = std::move(t.state.headers);
        ex.body = t.state.sink.take();

        // Drop libcurl's copies of the token and of the pointers into our
        // buffers now rather than at the next request (see the file comment).
        curl_easy_reset(h);

        if (tracing()) log_response(ex, f.target.origin, elapsed);
        return ex;
    }

    void log_request(const Request& req, const std::string& url, Method method, bool sends_body) const
    {
        debug("http: > " + std::string(method_name(method)) + " " + url);
        debug("http: > User-Agent: " + m_opts.user_agent);
        for (const auto& hdr : req.headers) {
            debug("http: > " + hdr.name + ": " + (is_sensitive_header(hdr.name) ? "[redacted]" : hdr.value));
        }
        if (req.bearer) debug("http: > Authorization: Bearer [redacted]");
        if (sends_body) {
            if (req.body_loggable) {
                debug("http: > body: " + std::string(req.body.view()));
            } else {
                debug("http: > body: <" + std::to_string(req.body.size()) + " bytes>");
            }
        }
    }

    void log_response(const Exchange& ex, const Origin& origin, milliseconds elapsed) const
    {
        if (ex.code != CURLE_OK) {
            debug("http: < " + origin.host_port() + " failed after " + std::to_string(elapsed.count()) +
                  " ms: " + curl_easy_strerror(ex.code) + " (" + ex.curl_error + ")");
            return;
        }
        debug("http: < " + std::to_string(ex.status) + " from " + origin.host_port() + " in " +
              std::to_string(elapsed.count()) + " ms, body <" + std::to_string(ex.body.size()) + " bytes>");
        for (const auto& hdr : ex.headers) {
            debug("http: < " + hdr.name + ": " + (is_sensitive_header(hdr.name) ? "[redacted]" : hdr.value));
        }
    }

    ClientOptions m_opts;
    detail::SleepFn m_sleep;
    std::mt19937_64 m_rng;
    std::mutex m_mutex;
    EasyHandle m_easy;
    std::vector<X509Ptr> m_ca_certs;
    std::optional<Error> m_setup_error;
};

// ---------------------------------------------------------------------------
// Batches on the multi interface

std::vector<Result<Response>> CurlClient::perform_all(const std::vector<Request>& requests, const BatchOptions& options)
{
    const std::lock_guard lock(m_mutex);
    const std::size_t total = requests.size();
    std::vector<std::optional<Result<Response>>> results(total);
    std::size_t finished = 0;
    auto settle = [&](std::size_t i, Result<Response> r) {
        results[i] = std::move(r);
        ++finished;
        if (options.progress) options.progress(finished, total);
    };

    MultiHandle multi;
    if (!m_setup_error) {
        multi.reset(curl_multi_init());
        if (!multi) m_setup_error = make_error(Errc::internal, "cannot create a libcurl multi handle");
    }

    struct PoolState {
        BatchPool limits;
        int in_flight = 0;
        SteadyClock::time_point paused_until{};
        SteadyClock::time_point next_start{};
    };
    std::vector<PoolState> pools;
    for (const auto& p : options.pools) pools.push_back({p});
    if (pools.empty()) pools.push_back({BatchPool{options.max_in_flight, 0}});
    for (auto& p : pools) p.limits.max_in_flight = std::max(1, p.limits.max_in_flight);
    const int max_in_flight = std::clamp(options.max_in_flight, 1, 64);

    struct Slot {
        Flight flight;
        std::size_t pool = 0;
        SteadyClock::time_point ready_at{};
        EasyHandle easy;
        std::unique_ptr<Transfer> transfer;
    };
    std::vector<std::unique_ptr<Slot>> slots(total);
    std::deque<std::size_t> waiting;
    for (std::size_t i = 0; i < total; ++i) {
        if (m_setup_error) {
            settle(i, *m_setup_error);
            continue;
        }
        auto target = check_request(requests[i]);
        if (!target) {
            settle(i, std::move(target).error());
            continue;
        }
        std::size_t pool = i < options.pool_of.size() ? options.pool_of[i] : 0;
        if (pool >= pools.size()) pool = 0;
        slots[i] = std::make_unique<Slot>(Slot{Flight(requests[i], std::move(target).value()), pool, {}, {}, {}});
        waiting.push_back(i);
    }
    if (multi) curl_multi_setopt(multi.get(), CURLMOPT_MAXCONNECTS, static_cast<long>(max_in_flight));

    int in_flight = 0;
    while (finished < total) {
        auto now = SteadyClock::now();
        // Start what may start: in order, skipping requests whose pool is
        // full, paused by a 429, or over its start rate.
        for (auto it = waiting.begin(); it != waiting.end() && in_flight < max_in_flight;) {
            Slot& s = *slots[*it];
            PoolState& p = pools[s.pool];
            if (s.ready_at > now || p.paused_until > now || p.next_start > now ||
                p.in_flight >= p.limits.max_in_flight) {
                ++it;
                continue;
            }
            const std::size_t i = *it;
            it = waiting.erase(it);
            if (!s.easy) s.easy.reset(curl_easy_init());
            if (!s.easy) {
                settle(i, make_error(Errc::internal, "cannot create a libcurl handle"));
                continue;
            }
            if (s.flight.hops == 0) s.flight.attempt_started = now;
            s.transfer = std::make_unique<Transfer>(m_opts.max_response_bytes);
            if (auto st = configure(s.easy.get(), s.flight, *s.transfer); !st) {
                settle(i, st.error());
                s.transfer.reset();
                continue;
            }
            curl_easy_setopt(s.easy.get(), CURLOPT_PRIVATE, reinterpret_cast<char*>(i + 1));
            if (const CURLMcode mc = curl_multi_add_handle(multi.get(), s.easy.get()); mc != CURLM_OK) {
                curl_easy_reset(s.easy.get());
                s.transfer.reset();
                settle(i, make_error(Errc::internal, std::string("libcurl: ") + curl_multi_strerror(mc)));
                continue;
            }
            ++in_flight;
            ++p.in_flight;
            if (p.limits.max_starts_per_second > 0)
                p.next_start = now + std::chrono::duration_cast<SteadyClock::duration>(
                                         std::chrono::microseconds(1'000'000 / p.limits.max_starts_per_second));
        }

        int running = 0;
        curl_multi_perform(multi.get(), &running);
        int queued = 0;
        while (CURLMsg* msg = curl_multi_info_read(multi.get(), &queued)) {
            if (msg->msg != CURLMSG_DONE) continue;
            CURL* h = msg->easy_handle;
            const CURLcode code = msg->data.result;
            char* priv = nullptr;
            curl_easy_getinfo(h, CURLINFO_PRIVATE, &priv);
            const std::size_t i = static_cast<std::size_t>(reinterpret_cast<std::uintptr_t>(priv)) - 1;
            curl_multi_remove_handle(multi.get(), h);
            Slot& s = *slots[i];
            PoolState& p = pools[s.pool];
            --in_flight;
            --p.in_flight;
            auto ex = finish(h, code, s.flight, *s.transfer);
            s.transfer.reset();
            Step step = next_step(s.flight, std::move(ex));
            now = SteadyClock::now();
            switch (step.kind) {
            case Step::Kind::done:
                s.easy.reset();
                settle(i, std::move(*step.result));
                break;
            case Step::Kind::redirect:
                s.ready_at = now;
                waiting.push_front(i);
                break;
            case Step::Kind::retry:
                s.ready_at = now + step.wait;
                if (step.pause_pool) p.paused_until = std::max(p.paused_until, s.ready_at);
                waiting.push_back(i);
                break;
            }
        }
        if (finished >= total) break;

        // Sleep until a transfer needs us or the next waiting request may start.
        now = SteadyClock::now();
        milliseconds timeout{1000};
        for (std::size_t i : waiting) {
            const Slot& s = *slots[i];
            const PoolState& p = pools[s.pool];
            if (p.in_flight >= p.limits.max_in_flight) continue; // woken by a completion
            const auto at = std::max({s.ready_at, p.paused_until, p.next_start});
            timeout = std::min(timeout, std::chrono::ceil<milliseconds>(std::max(at - now, SteadyClock::duration{})));
        }
        if (in_flight >= max_in_flight) timeout = milliseconds(1000);
        curl_multi_poll(multi.get(), nullptr, 0, static_cast<int>(timeout.count()), nullptr);
    }

    std::vector<Result<Response>> out;
    out.reserve(total);
    for (auto& r : results) out.push_back(std::move(*r));
    return out;
}

} // namespace

std::unique_ptr<Client> make_curl_client(const ClientOptions& options)
{
    return detail::make_curl_client(options, {});
}

namespace detail {

std::unique_ptr<Client> make_curl_client(const ClientOptions& options, CurlClientHooks hooks)
{
    return std::make_unique<CurlClient>(options, std::move(hooks));
}

} // namespace detail
} // namespace pitool::http
