#pragma once
/// LeadConnector (HighLevel) API v2: OAuth token grants and error answers.

#include "pitool/http/client.hpp"
#include "pitool/providers/common.hpp"

#include <string>
#include <string_view>

namespace pitool::providers::leadconnector {

/// The `Version` header for a request path: "2021-04-15" for calendars and
/// conversations, "2021-07-28" for everything else.
[[nodiscard]] std::string_view api_version_for(std::string_view path) noexcept;

/// Parses an error answer `{statusCode, message (string or array), error}`
/// and classifies it from status and message. Pure and total: any body
/// (secret, possibly hostile) yields an ApiError. `secrets`: every secret the
/// request carried, redacted from the message.
[[nodiscard]] ApiError parse_error(long status, std::string_view body,
                                   std::initializer_list<std::string_view> secrets = {});

/// A successful /oauth/token answer.
struct TokenGrant {
    Secret access_token;   ///< secret
    Secret refresh_token;  ///< secret
    long expires_in = 0;   ///< seconds
    std::string scope;     ///< space separated
    std::string user_type; ///< "Location" or "Company"
    std::string location_id;
    std::string company_id;
    std::string user_id;
};

/// Parses a /oauth/token 200 answer. Errc::unavailable ("malformed answer")
/// on wrong types or missing access/refresh tokens.
[[nodiscard]] Result<TokenGrant> parse_token_grant(std::string_view body);

struct AppCredentials {
    std::string base_url;
    std::string client_id;
    const Secret* client_secret = nullptr; ///< secret, not owned
};

/// POST /oauth/token grant_type=authorization_code. Never replayed once it
/// may have reached the server. Errc::rejected (code refused, with the
/// provider's message), Errc::unavailable, Errc::usage.
[[nodiscard]] Result<TokenGrant> exchange_code(http::Client& client, const AppCredentials& app, const Secret& code,
                                               std::string_view user_type, std::string_view redirect_uri);

/// POST /oauth/token grant_type=refresh_token. Same rules; a "Location is
/// not active" answer is Errc::rejected with Failure::inactive in the message.
[[nodiscard]] Result<TokenGrant> refresh(http::Client& client, const AppCredentials& app, const Secret& refresh_token,
                                         std::string_view user_type);

} // namespace pitool::providers::leadconnector
