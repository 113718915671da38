#pragma once
/// Hint InstantOn: exchanging an authorization code for a practice API key.

#include "pitool/http/client.hpp"
#include "pitool/providers/common.hpp"

#include <string>
#include <string_view>

namespace pitool::providers::hint {

/// Parses Hint's error shape `{"status": N, "message": "..."}` (any body);
/// `secrets` as leadconnector::parse_error.
[[nodiscard]] ApiError parse_error(long status, std::string_view body,
                                   std::initializer_list<std::string_view> secrets = {});

/// A successful POST /api/oauth/tokens answer.
struct PracticeGrant {
    Secret api_key;             ///< secret: the practice's API key (access_token)
    std::string integration_id; ///< "int-..."
    std::string status;         ///< "connected", "active" or "pending"
    std::string practice_id;    ///< "pra-..."
    std::string practice_name;
};

/// Parses the exchange answer. Errc::unavailable on a malformed body.
[[nodiscard]] Result<PracticeGrant> parse_practice_grant(std::string_view body);

/// POST /api/oauth/tokens with the partner key as Bearer; never replayed.
/// Errc::rejected when the code or partner key is refused.
[[nodiscard]] Result<PracticeGrant> exchange_code(http::Client& client, const std::string& base_url,
                                                  const Secret& partner_key, const Secret& code, bool activate);

} // namespace pitool::providers::hint
