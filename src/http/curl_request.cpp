// One request through the libcurl client: its checks, the state machine
// that decides what follows a transfer (a redirect hop, a retry after a
// wait, or the result), what a failure says, and `send`, which drives it on
// the client's one easy handle. perform_all drives the same machine
// (curl_multi.cpp).

#include "http/curl_internal.hpp"

#include <system_error>

namespace pitool::http::curl {
namespace {

std::optional<std::string> url_part(CURLU* u, CURLUPart part, unsigned flags)
{
    char* out = nullptr;
    if (curl_url_get(u, part, &out, flags) != CURLUE_OK || out == nullptr) return std::nullopt;
    std::string s(out);
    curl_free(out);
    return s;
}

} // namespace

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

/// Validation shared by `send` and `perform_all` (Errc::usage).
Result<Target> check_request(const Request& req)
{
    PITOOL_TRY_ASSIGN(auto base, normalize_base_url(req.base_url));
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
    auto origin = origin_of(base + "/");
    if (!origin) return make_error(Errc::usage, "invalid base URL");
    return Target{std::move(base), std::move(*origin)};
}

Result<Response> CurlClient::send(const Request& req)
{
    const std::lock_guard lock(m_mutex); // one easy handle: one transfer at a time
    if (m_setup_error) return *m_setup_error;
    PITOOL_TRY_ASSIGN(auto target, check_request(req));

    Flight f(req, std::move(target));
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

/// Full jitter: uniform in [0, min(backoff_max, backoff_base * 2^(attempt-1))].
milliseconds CurlClient::backoff(int attempt)
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
Step CurlClient::next_step(Flight& f, Result<Exchange> outcome)
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

    if (ex.code == CURLE_OK && is_followed_redirect(ex.status) && ex.redirect_url) return follow_redirect(f, ex);

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
        if (debugging())
            debug("http: " + err.message + " (attempt " + std::to_string(attempt) + "/" + std::to_string(max_attempts) +
                  "), retrying in " + std::to_string(step.wait.count()) + " ms");
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
                if (debugging())
                    debug("http: " + origin.host + " asks to retry after " + std::to_string(asked->count()) +
                          " ms, beyond the " + std::to_string(m_opts.backoff_max.count()) + " ms cap; not retrying");
                step.result = std::move(resp);
                return step;
            }
            step.wait = asked ? *asked : backoff(attempt);
            step.pause_pool = step.pause_pool || asked.has_value();
        } else {
            step.wait = backoff(attempt);
        }
        if (debugging())
            debug("http: status " + std::to_string(resp.status) + " from " + origin.host + " (attempt " +
                  std::to_string(attempt) + "/" + std::to_string(max_attempts) + "), retrying in " +
                  std::to_string(step.wait.count()) + " ms");
    }
    f.restart();
    step.kind = Step::Kind::retry;
    return step;
}

Step CurlClient::follow_redirect(Flight& f, Exchange& ex)
{
    Step step;
    const Origin& origin = f.target.origin;
    const auto target = origin_of(*ex.redirect_url);
    if (!target) {
        step.result = make_error(Errc::unavailable, "invalid redirect location from " + origin.host_port());
        return step;
    }
    if (!(*target == origin)) {
        step.result = make_error(Errc::unavailable,
                                 "refusing redirect from " + origin.text() + " to another origin: " + target->text());
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
    if (debugging()) debug("http: " + std::to_string(ex.status) + " redirect to " + *next);
    f.path = std::move(*next);
    ++f.hops;
    step.kind = Step::Kind::redirect;
    return step;
}

/// Collects what the transfer on `h` produced (libcurl result `code`)
/// and resets `h`, dropping libcurl's copy of the token at once.
Result<Exchange> CurlClient::finish(CURL* h, CURLcode code, const Flight& f, Transfer& t)
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

void CurlClient::log_response(const Exchange& ex, const Origin& origin, milliseconds elapsed) const
{
    if (ex.code != CURLE_OK) {
        trace("http: < " + origin.host_port() + " failed after " + std::to_string(elapsed.count()) +
              " ms: " + curl_easy_strerror(ex.code) + " (" + ex.curl_error + ")");
        return;
    }
    trace("http: < " + std::to_string(ex.status) + " from " + origin.host_port() + " in " +
          std::to_string(elapsed.count()) + " ms, body <" + std::to_string(ex.body.size()) + " bytes>");
    for (const auto& hdr : ex.headers) {
        trace("http: < " + hdr.name + ": " + (is_sensitive_header(hdr.name) ? "[redacted]" : hdr.value));
    }
}

} // namespace pitool::http::curl
