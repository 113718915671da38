#pragma once
/// Test calls: proving that a credential works.

#include "pitool/core/model.hpp"
#include "pitool/http/client.hpp"
#include "pitool/providers/common.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace pitool::providers {

struct CallSpec {
    http::Method method = http::Method::get;
    std::string path;
    std::optional<Secret> json_body; ///< secret (may carry personal data)
};

/// The cheapest read-only call proving `in`'s token: a location token
/// GET /locations/{id}; an agency token GET /companies/{id}; a Hint practice
/// key GET /api/provider/practice; a partner key GET /api/partner.
/// Errc::usage for an oauth-app (its secret is not a bearer token) or a
/// LeadConnector token without a location or company id.
[[nodiscard]] Result<CallSpec> default_call(const core::Integration& in);

struct CallOutcome {
    long status = 0;
    bool ok = false; ///< 2xx
    Failure failure = Failure::none;
    std::chrono::milliseconds latency{0};
    int attempts = 0;
    std::string summary; ///< one line, non-secret: what was proved or why it failed
    RateLimit rate_limit;
};

/// The request `test_call` sends: `spec` to `in`'s base URL with the headers
/// its provider wants and a copy of `token` (secret) as the bearer. GETs are
/// idempotent (retried), other methods are not.
[[nodiscard]] http::Request test_request(const core::Integration& in, const Secret& token, const CallSpec& spec);

/// Judges an answer to `test_request(in, token, spec)`: ok for 2xx, else the
/// provider's error class and message (with `token` redacted from it).
[[nodiscard]] CallOutcome judge_test_call(const core::Integration& in, const Secret& token, const CallSpec& spec,
                                          const http::Response& resp);

/// Sends `spec` with `token` (secret) to `in`'s base URL, with the headers
/// its provider wants. A transport failure is an error; any HTTP answer is a
/// CallOutcome.
[[nodiscard]] Result<CallOutcome> test_call(http::Client& client, const core::Integration& in, const Secret& token,
                                            const CallSpec& spec);

} // namespace pitool::providers
