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

#include "http/detail.hpp"
#include "pitool/http/client.hpp"

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cstring>
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
        const auto origin = origin_of(base.value() + "/");
        if (!origin) return make_error(Errc::usage, "invalid base URL");

        const int max_attempts = std::max(1, m_opts.max_attempts);
        for (int attempt = 1;; ++attempt) {
            const auto started = SteadyClock::now();
            auto outcome = exchange_following_redirects(req, base.value(), *origin);
            const auto elapsed = std::chrono::duration_cast<milliseconds>(SteadyClock::now() - started);
            if (!outcome) return std::move(outcome).error();
            Exchange& ex = outcome.value();

            milliseconds wait{0};
            if (ex.code != CURLE_OK) {
                Error err = describe_failure(ex, *origin, m_opts);
                const bool retry = req.idempotent ? transient_failure(ex.code) : never_connected(ex);
                if (!retry || attempt >= max_attempts) {
                    if (attempt > 1) err.message += " (after " + std::to_string(attempt) + " attempts)";
                    return err;
                }
                wait = backoff(attempt);
                spdlog::debug("http: {} (attempt {}/{}), retrying in {} ms", err.message, attempt, max_attempts,
                              wait.count());
            } else {
                Response resp;
                resp.status = ex.status;
                resp.headers = std::move(ex.headers);
                resp.body = std::move(ex.body);
                resp.elapsed = elapsed;
                resp.attempts = attempt;
                if (!is_retryable_status(resp.status) || !req.idempotent || attempt >= max_attempts) {
                    return resp;
                }
                if (const auto ra = resp.header("Retry-After")) {
                    const auto asked = detail::parse_retry_after(*ra, std::chrono::system_clock::now());
                    if (asked && *asked > m_opts.backoff_max) {
                        // Waiting less than the server asked would only burn an
                        // attempt on another refusal: hand the response back.
                        spdlog::debug("http: {} asks to retry after {} ms, beyond the {} ms cap; "
                                      "not retrying",
                                      origin->host, asked->count(), m_opts.backoff_max.count());
                        return resp;
                    }
                    wait = asked ? *asked : backoff(attempt);
                } else {
                    wait = backoff(attempt);
                }
                spdlog::debug("http: status {} from {} (attempt {}/{}), retrying in {} ms", resp.status, origin->host,
                              attempt, max_attempts, wait.count());
            }
            m_sleep(wait);
        }
    }

private:
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

    /// One attempt: the request plus any same-origin redirects.
    Result<Exchange> exchange_following_redirects(const Request& req, const std::string& base, const Origin& origin)
    {
        Method method = req.method;
        bool with_body = true;
        std::string path = req.path;
        for (int hops = 0;; ++hops) {
            auto ex = transfer(req, base + path, method, with_body, origin);
            if (!ex) return ex;
            if (ex->code != CURLE_OK || !is_followed_redirect(ex->status) || !ex->redirect_url) {
                return ex;
            }
            const auto target = origin_of(*ex->redirect_url);
            if (!target) {
                return make_error(Errc::unavailable, "invalid redirect location from " + origin.host_port());
            }
            if (!(*target == origin)) {
                return make_error(Errc::unavailable,
                                  "refusing redirect from " + origin.text() + " to another origin: " + target->text());
            }
            if (hops + 1 > k_max_redirects) {
                return make_error(Errc::unavailable, "too many redirects from " + origin.host_port());
            }
            auto next = path_and_query(*ex->redirect_url);
            if (!next || !detail::validate_path(*next)) {
                return make_error(Errc::unavailable, "invalid redirect location from " + origin.host_port());
            }
            if (ex->status != 307 && ex->status != 308) {
                method = Method::get;
                with_body = false;
            }
            spdlog::debug("http: {} redirect to {}", ex->status, *next);
            path = std::move(*next);
        }
    }

    template <typename T> void set(CURLoption option, T value)
    {
        if (m_setopt_rc == CURLE_OK) m_setopt_rc = curl_easy_setopt(m_easy.get(), option, value);
    }

    Result<Exchange> transfer(const Request& req, const std::string& url, Method method, bool with_body,
                              const Origin& origin)
    {
        CURL* h = m_easy.get();
        curl_easy_reset(h);
        m_setopt_rc = CURLE_OK;

        TransferState state(m_opts.max_response_bytes);
        char errbuf[CURL_ERROR_SIZE] = {};

        set(CURLOPT_ERRORBUFFER, errbuf);
        set(CURLOPT_URL, url.c_str());
        set(CURLOPT_PROTOCOLS_STR, "http,https");
        set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        set(CURLOPT_FOLLOWLOCATION, 0L);
        set(CURLOPT_NOSIGNAL, 1L);
        set(CURLOPT_TCP_KEEPALIVE, 1L);
        set(CURLOPT_SSL_VERIFYPEER, 1L);
        set(CURLOPT_SSL_VERIFYHOST, 2L);
        set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(m_opts.connect_timeout.count()));
        set(CURLOPT_TIMEOUT_MS, static_cast<long>(m_opts.total_timeout.count()));
        set(CURLOPT_USERAGENT, m_opts.user_agent.c_str());
        set(CURLOPT_WRITEFUNCTION, on_body);
        set(CURLOPT_WRITEDATA, static_cast<void*>(&state));
        set(CURLOPT_HEADERFUNCTION, on_header);
        set(CURLOPT_HEADERDATA, static_cast<void*>(&state));
        if (!m_ca_certs.empty()) {
            set(CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
            set(CURLOPT_SSL_CTX_DATA, static_cast<void*>(&m_ca_certs));
        }

        Slist headers;
        auto add_header = [&](const std::string& line) {
            curl_slist* head = curl_slist_append(headers.get(), line.c_str());
            if (head == nullptr) throw std::bad_alloc();
            (void)headers.release();
            headers.reset(head);
        };
        for (const auto& hdr : req.headers) {
            // "Name;" is libcurl's syntax for a header with an empty value.
            add_header(hdr.value.empty() ? hdr.name + ';' : hdr.name + ": " + hdr.value);
        }
        add_header("Expect:"); // no 100-continue round trip
        set(CURLOPT_HTTPHEADER, headers.get());

        if (req.bearer) {
            Secret token(req.bearer->size() + 1); // NUL-terminated copy in guarded memory
            std::memcpy(token.data(), req.bearer->data(), req.bearer->size());
            set(CURLOPT_HTTPAUTH, static_cast<unsigned long>(CURLAUTH_BEARER));
            set(CURLOPT_XOAUTH2_BEARER, reinterpret_cast<const char*>(token.data()));
        }

        const bool sends_body = with_body && method != Method::get;
        const char* body_ptr = (sends_body && !req.body.empty()) ? reinterpret_cast<const char*>(req.body.data()) : "";
        const auto body_size = static_cast<curl_off_t>(sends_body ? req.body.size() : 0);
        switch (method) {
        case Method::get:
            set(CURLOPT_HTTPGET, 1L);
            break;
        case Method::del:
            if (body_size == 0) {
                set(CURLOPT_HTTPGET, 1L);
                set(CURLOPT_CUSTOMREQUEST, "DELETE");
                break;
            }
            [[fallthrough]];
        case Method::post:
        case Method::put:
        case Method::patch:
            // POSTFIELDS points at the caller's guarded memory: libcurl does not copy it.
            set(CURLOPT_POST, 1L);
            set(CURLOPT_POSTFIELDSIZE_LARGE, body_size);
            set(CURLOPT_POSTFIELDS, body_ptr);
            if (method != Method::post) set(CURLOPT_CUSTOMREQUEST, method_name(method).data());
            break;
        }
        if (m_setopt_rc != CURLE_OK) {
            curl_easy_reset(h);
            return make_error(Errc::internal,
                              std::string("cannot configure libcurl: ") + curl_easy_strerror(m_setopt_rc));
        }

        const bool verbose = spdlog::should_log(spdlog::level::debug);
        if (verbose) log_request(req, url, method, sends_body);

        const auto started = SteadyClock::now();
        Exchange ex;
        ex.code = curl_easy_perform(h);
        const auto elapsed = std::chrono::duration_cast<milliseconds>(SteadyClock::now() - started);

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
        ex.curl_error = errbuf;
        ex.too_large = state.too_large;
        ex.headers = std::move(state.headers);
        ex.body = state.sink.take();

        // Drop libcurl's copies of the token and of the pointers into our
        // buffers now rather than at the next request (see the file comment).
        curl_easy_reset(h);

        if (verbose) log_response(ex, origin, elapsed);
        return ex;
    }

    void log_request(const Request& req, const std::string& url, Method method, bool sends_body) const
    {
        spdlog::debug("http: > {} {}", method_name(method), url);
        spdlog::debug("http: > User-Agent: {}", m_opts.user_agent);
        for (const auto& hdr : req.headers) {
            spdlog::debug("http: > {}: {}", hdr.name,
                          is_sensitive_header(hdr.name) ? std::string_view("[redacted]") : std::string_view(hdr.value));
        }
        if (req.bearer) spdlog::debug("http: > Authorization: Bearer [redacted]");
        if (sends_body) {
            if (req.body_loggable) {
                spdlog::debug("http: > body: {}", req.body.view());
            } else {
                spdlog::debug("http: > body: <{} bytes>", req.body.size());
            }
        }
    }

    static void log_response(const Exchange& ex, const Origin& origin, milliseconds elapsed)
    {
        if (ex.code != CURLE_OK) {
            spdlog::debug("http: < {} failed after {} ms: {} ({})", origin.host_port(), elapsed.count(),
                          curl_easy_strerror(ex.code), ex.curl_error);
            return;
        }
        spdlog::debug("http: < {} from {} in {} ms, body <{} bytes>", ex.status, origin.host_port(), elapsed.count(),
                      ex.body.size());
        for (const auto& hdr : ex.headers) {
            spdlog::debug("http: < {}: {}", hdr.name,
                          is_sensitive_header(hdr.name) ? std::string_view("[redacted]") : std::string_view(hdr.value));
        }
    }

    ClientOptions m_opts;
    detail::SleepFn m_sleep;
    std::mt19937_64 m_rng;
    std::mutex m_mutex;
    EasyHandle m_easy;
    std::vector<X509Ptr> m_ca_certs;
    std::optional<Error> m_setup_error;
    CURLcode m_setopt_rc = CURLE_OK;
};

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
