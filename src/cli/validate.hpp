#pragma once
// Validation of user input shared by create, exchange-code and import.

#include "cli/context.hpp"
#include "pitool/core/model.hpp"

#include <string>
#include <utility>
#include <vector>

namespace pitool::cli {

/// Account ids and client ids: 1-128 of [A-Za-z0-9._-]. Errc::usage.
[[nodiscard]] Status validate_identifier(std::string_view what, std::string_view id);
/// `--provider` and `--kind` as given (kind may be empty: pit for
/// leadconnector, partner-key for hint); Errc::usage if unknown or a kind the
/// provider does not have.
[[nodiscard]] Result<std::pair<core::Provider, core::Kind>> parse_provider_kind(std::string_view provider,
                                                                                std::string_view kind);

/// Level and account id from --location / --company / --practice for a kind.
[[nodiscard]] Result<std::pair<core::Level, std::string>> resolve_account(core::Provider provider, core::Kind kind,
                                                                          const std::string& location,
                                                                          const std::string& company,
                                                                          const std::string& practice);

/// Splits on spaces/commas, validates, de-duplicates. Unknown LeadConnector
/// scopes warn, or fail with Errc::usage when `strict`.
[[nodiscard]] Result<std::vector<std::string>> normalize_scopes(const Context& ctx, core::Provider provider,
                                                                const std::vector<std::string>& raw, bool strict);

/// The given base URL normalised, or the provider's production URL.
[[nodiscard]] Result<std::string> resolve_base_url(core::Provider provider, const std::string& given);

/// Warns (never fails) when a token does not look like its kind: a PIT is
/// `pit-<uuid>`, an OAuth access token a JWT.
void warn_token_shape(const Context& ctx, core::Kind kind, const Secret& token);

} // namespace pitool::cli
