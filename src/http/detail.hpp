#pragma once
/// Internals of the HTTP layer shared between its sources and its unit tests.
/// Not part of the public API: nothing outside src/http and tests/unit/http
/// should include this.

#include "pitool/http/client.hpp"
#include "pitool/util/result.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

namespace pitool::http::detail {

/// Waits between attempts. Tests replace it to record waits without sleeping.
using SleepFn = std::function<void(std::chrono::milliseconds)>;

struct CurlClientHooks {
    SleepFn sleep; ///< empty: std::this_thread::sleep_for
};

/// `make_curl_client` with injectable hooks.
[[nodiscard]] std::unique_ptr<Client> make_curl_client(const ClientOptions& options, CurlClientHooks hooks);

/// Checks a request path: starts with '/', no "://", no spaces, CR/LF,
/// control or non-ASCII characters, no fragment. Errc::usage otherwise.
[[nodiscard]] Status validate_path(std::string_view path);

/// Checks a non-secret request header: a token name, a value without CR/LF or
/// control characters, and not one of the headers the client owns
/// (Authorization, Proxy-Authorization, Host, Content-Length,
/// Transfer-Encoding). Errc::usage otherwise.
[[nodiscard]] Status validate_header(const Header& header);

/// The wait a `Retry-After` value asks for: delta-seconds or an HTTP-date
/// (relative to `now`; a date in the past means no wait), at most one day.
/// nullopt when the value is neither.
[[nodiscard]] std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                                         std::chrono::system_clock::time_point now);

} // namespace pitool::http::detail
