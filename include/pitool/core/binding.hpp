#pragma once
/// Where a credential may go: a secret is sent only to the base URL of the
/// record that holds it.

#include "pitool/core/model.hpp"
#include "pitool/util/result.hpp"

#include <string_view>

namespace pitool::core {

/// The record whose secret a request made for `record` sends along: an
/// oauth token set's app (its client id and secret go with every refresh),
/// a Hint practice key's partner (named by extra "partner"; the partner key
/// made it). "" when `record` depends on no other record.
[[nodiscard]] std::string_view credential_source(const Integration& record) noexcept;

/// The binding rule, checked by import, exchange-code and before every
/// refresh: `source` (the record credential_source() names, nullptr when it
/// is not in the vault) must be of the kind that holds such a secret
/// (oauth-app, partner-key), of the same provider, and have the same base
/// URL as `record`, so that no secret ever follows another record's base
/// URL. An oauth record needs its app; a practice key may outlive its
/// partner. Errc::usage with a one-line message (names only) otherwise.
[[nodiscard]] Status check_credential_binding(const Integration& record, const Integration* source);

} // namespace pitool::core
