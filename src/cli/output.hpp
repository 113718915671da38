#pragma once
// Rendering for humans and for --json. Nothing here ever prints a secret:
// the views are built from names, times and fingerprints only.

#include "cli/context.hpp"
#include "pitool/core/lifecycle.hpp"
#include "pitool/core/model.hpp"

#include <nlohmann/json.hpp>

#include <iosfwd>
#include <string>
#include <vector>

namespace pitool::cli {

/// The public JSON shape of an integration (docs/cli.md).
[[nodiscard]] nlohmann::json integration_json(const core::Integration& in, Timestamp now);
[[nodiscard]] nlohmann::json event_json(const core::Event& e);
[[nodiscard]] nlohmann::json finding_json(const core::Finding& f);

/// The `show` text block.
void print_integration(std::ostream& out, const core::Integration& in, Timestamp now);

/// Prints rows as left-aligned columns (the last column is not padded).
void print_table(std::ostream& out, const std::vector<std::vector<std::string>>& rows);

/// Prints the command's JSON result on one line and remembers that it did,
/// so an error after it does not add a second document.
void print_json(Context& ctx, const nlohmann::json& j);

/// The `kind` of an error object: "usage", "not_found", ... (docs/cli.md).
[[nodiscard]] std::string_view errc_name(Errc e);

/// "3 days", "1 day", "in 6 days".
[[nodiscard]] std::string days_text(long long n);

} // namespace pitool::cli
