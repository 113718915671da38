#pragma once
/// What the providers layer tells the CLI about an API answer.

#include "pitool/http/client.hpp"
#include "pitool/util/result.hpp"

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace pitool::providers {

/// Why a provider refused a call (read from status AND message).
enum class Failure {
    none,
    invalid_token,  ///< the credential is unknown, expired or revoked
    missing_scope,  ///< the credential lacks a scope for this call
    wrong_account,  ///< the credential is not allowed for this location/company/practice
    invalid_grant,  ///< a code or refresh token was rejected
    inactive,       ///< LeadConnector "Location is not active" (keep the refresh token)
    bad_request,    ///< the request itself was invalid (400/404/422)
    rate_limited,   ///< 429
    provider_error, ///< 5xx
    malformed,      ///< a 2xx whose body is not what the API documents
};
[[nodiscard]] std::string_view to_string(Failure f) noexcept;

/// Rate-limit figures from LeadConnector's X-RateLimit-* headers, when sent.
struct RateLimit {
    std::optional<long> max, remaining, interval_ms, daily_limit, daily_remaining;
    /// "remaining 97/100 per 10000 ms, daily 199990/200000", or "".
    [[nodiscard]] std::string describe() const;
};
[[nodiscard]] RateLimit rate_limit_of(const http::Response& r);

/// A provider error answer, parsed. `message` is util::sanitize()d: every
/// secret the caller passes redacted, then terminal controls escaped, then
/// cut to 200 bytes on a character boundary.
struct ApiError {
    long status = 0;
    Failure failure = Failure::none;
    std::string message;
};

/// The error category (and so exit code) of a failure: credential and grant
/// problems are Errc::rejected, rate limits and 5xx Errc::unavailable,
/// malformed answers Errc::unavailable, request problems Errc::usage.
[[nodiscard]] Errc errc_for(Failure f) noexcept;

} // namespace pitool::providers
