#pragma once
/// The HTTP client seen by the providers layer.
///
/// A `Client` sends one logical request (possibly several attempts) to a
/// credential's own base URL. Implementations never send a request anywhere
/// but `base_url`, never follow a redirect to another origin, keep TLS
/// verification on, and never write secret material (bearer token, body,
/// response body) to a log line or an error message.

#include "pitool/util/result.hpp"
#include "pitool/util/secret.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pitool::http {

enum class Method { get, post, put, patch, del };

/// "GET", "POST", ...
[[nodiscard]] std::string_view method_name(Method m) noexcept;

struct Header {
    std::string name;
    std::string value; ///< never secret: secrets go in Request::bearer or body
};

struct Request {
    Method method = Method::get;
    /// `scheme://host[:port]` with no path, query or user info.
    std::string base_url;
    /// Absolute path (starts with '/'), may carry a query string. Relative to
    /// base_url; a full URL here is refused.
    std::string path;
    /// Non-secret headers (Accept, Version, Content-Type...).
    std::vector<Header> headers;
    /// Secret: sent as `Authorization: Bearer <token>`; shown as `Bearer [redacted]`.
    std::optional<Secret> bearer;
    /// Secret: the request body (codes, client secrets, contact data).
    /// Logged only as its size unless `body_loggable` is set.
    Secret body;
    bool body_loggable = false;
    /// False for requests that must never be replayed once they may have
    /// reached the server (code exchanges, refresh grants): such a request is
    /// retried only when the connection was never established.
    bool idempotent = true;
};

struct Response {
    long status = 0;
    std::vector<Header> headers; ///< names as received
    /// Secret: may carry tokens. Parse it in place; do not copy it to a std::string.
    Secret body;
    std::chrono::milliseconds elapsed{0}; ///< wall time of the last attempt
    int attempts = 0;                     ///< attempts made (>= 1)

    /// First header with this name, compared case-insensitively.
    [[nodiscard]] std::optional<std::string> header(std::string_view name) const;
};

struct ClientOptions {
    /// Extra trusted CA certificates (PEM file) added to the system store.
    /// Empty: system store only. Verification is always on.
    std::string ca_bundle;
    std::chrono::milliseconds connect_timeout{10'000};
    std::chrono::milliseconds total_timeout{30'000};
    std::size_t max_response_bytes = 8 * 1024 * 1024;
    /// Attempts in all for retryable failures (connection failure, 429, 5xx).
    int max_attempts = 4;
    std::chrono::milliseconds backoff_base{250};  ///< first backoff, doubled each try, jittered
    std::chrono::milliseconds backoff_max{8'000}; ///< cap on one wait (Retry-After included)
    std::string user_agent = "pitool";
    /// Receives one line per retry (with its back-off) and redirect. Empty:
    /// none. Called on the thread that called `send`/`perform_all`.
    std::function<void(std::string_view)> debug_log;
    /// Receives the trace: one line per request and response line (tokens,
    /// bodies and cookies redacted). Empty: no trace. Same thread.
    std::function<void(std::string_view)> trace_log;
};

/// A share of a batch's connections (e.g. one provider's).
struct BatchPool {
    /// Requests of this pool in flight at once (at least 1).
    int max_in_flight = 8;
    /// Request starts per second in this pool, retries included; 0: no cap.
    int max_starts_per_second = 0;
};

/// How `Client::perform_all` spreads its requests.
struct BatchOptions {
    /// Requests in flight at once over all pools (clamped to 1..64).
    int max_in_flight = 8;
    /// The pools; empty: one pool limited by `max_in_flight` only.
    std::vector<BatchPool> pools;
    /// The pool index of each request (same length as the requests), or
    /// empty: every request in pool 0. An index out of range is pool 0.
    std::vector<std::size_t> pool_of;
    /// Called after each request has its final result with (finished,
    /// total), on the calling thread. May be empty.
    std::function<void(std::size_t, std::size_t)> progress;
};

/// Sends requests. One instance keeps its connections alive across calls.
class Client {
public:
    virtual ~Client() = default;
    /// Sends `req` and returns the final response (any HTTP status).
    /// Errors: Errc::usage for a malformed base URL or path; Errc::unavailable
    /// for DNS/connect/TLS failures, timeouts, a response over the size cap, a
    /// redirect to another origin, or retries exhausted on a network failure.
    /// A 429/5xx that survives all attempts is returned as a Response.
    [[nodiscard]] virtual Result<Response> send(const Request& req) = 0;

    /// Sends every request concurrently, at most `options.max_in_flight` at
    /// once and each pool within its own limits, and returns one result per
    /// request, in the order given. Each request gets exactly the retry,
    /// Retry-After and redirect rules of `send`; a wait before a retry never
    /// holds up the other requests, and a 429 (or any retryable status with
    /// Retry-After) also pauses new starts in that request's pool until the
    /// wait is over. The default implementation calls `send` one request at
    /// a time.
    [[nodiscard]] virtual std::vector<Result<Response>> perform_all(const std::vector<Request>& requests,
                                                                    const BatchOptions& options);
};

/// The libcurl implementation. Linked only into the network module
/// (`pitool-net.so`) and the HTTP unit tests; the CLI reaches it through
/// `pitool/http/module_abi.hpp`.
[[nodiscard]] std::unique_ptr<Client> make_curl_client(const ClientOptions& options);

/// Checks that `url` is `http(s)://host[:port]` with no path, query, fragment
/// or user info, and that plain http:// goes to a loopback host
/// (check_plaintext_host); returns it normalised (lower-case scheme/host, no
/// trailing '/'). Errc::usage with a one-line reason otherwise. The client
/// checks every request's base URL with it again before sending.
[[nodiscard]] Result<std::string> normalize_base_url(std::string_view url);

/// Whether `host` (lower case; an IPv6 address in brackets) is loopback:
/// `localhost`, an address in 127.0.0.0/8, or `[::1]`.
[[nodiscard]] bool is_loopback_host(std::string_view host) noexcept;

/// The one rule for transports without TLS (`scheme` names one: "http", and
/// later a store's URL scheme): allowed to loopback hosts only, for tests and
/// pitool-sandbox. Errc::usage naming the scheme and the host otherwise.
[[nodiscard]] Status check_plaintext_host(std::string_view scheme, std::string_view host);

} // namespace pitool::http
