#pragma once
/// What a provider's grant does to the vault's records: the integration an
/// authorization-code exchange makes, and the tokens a refresh replaces.
/// Pure: the CLI parses, calls the provider, and stores what these return.

#include "pitool/core/model.hpp"
#include "pitool/providers/hint.hpp"
#include "pitool/providers/leadconnector.hpp"

#include <string>

namespace pitool::providers {

/// The name and description the user gave the new integration, and when it
/// is made.
struct NewIntegration {
    std::string name;
    std::string description;
    Timestamp now{};
};

/// The OAuth token set a LeadConnector code exchange made through `app`
/// (the oauth-app integration): agency or location level from the grant,
/// its scopes, its tokens (taken from `g`, secret) and their expiry.
[[nodiscard]] core::Integration leadconnector_integration(const NewIntegration& n, const core::Integration& app,
                                                          leadconnector::TokenGrant& g);

/// The practice key a Hint code exchange made through `partner` (the
/// partner-key integration); the key is taken from `g` (secret).
[[nodiscard]] core::Integration hint_integration(const NewIntegration& n, const core::Integration& partner,
                                                 hint::PracticeGrant& g);

/// Replaces the tokens of the OAuth integration `in` with those of a refresh
/// grant `g` (taken, secret) at `now`: the old refresh token is spent, so
/// the caller saves `in` before anything else.
void apply_refresh(core::Integration& in, leadconnector::TokenGrant&& g, Timestamp now);

} // namespace pitool::providers
