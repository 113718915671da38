#pragma once
/// The LeadConnector scope catalogue (providers.md section 1).

#include <span>
#include <string_view>

namespace pitool::core {

/// Every scope string pitool knows for LeadConnector, sorted.
[[nodiscard]] std::span<const std::string_view> leadconnector_scopes() noexcept;
/// Whether `scope` is in the catalogue. The catalogue grows: callers warn on
/// an unknown scope unless strictness was asked for.
[[nodiscard]] bool is_known_scope(std::string_view scope) noexcept;

} // namespace pitool::core
