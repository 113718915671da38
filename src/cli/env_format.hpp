#pragma once
// The `VAR=value` lines of `export --format env` and `import --format env`,
// and the rule that maps integration names to variable names and back
// (docs/cli.md, "The env format").

#include "pitool/util/result.hpp"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace pitool::cli {

/// The variable an integration name maps to: upper-case, every character
/// other than A-Z and 0-9 becomes `_`, and `_` goes first when the name
/// starts with a digit. `acme-crm` → `ACME_CRM`, `9lives` → `_9LIVES`.
[[nodiscard]] std::string variable_of(std::string_view name);

/// The name a variable maps back to: lower-case, `_` becomes `-`, and a
/// leading `_` before a digit is dropped. `ACME_CRM` → `acme-crm`. The
/// result still has to pass core::validate_name.
[[nodiscard]] std::string name_of(std::string_view variable);

/// Whether `s` is a variable name a shell accepts: [A-Za-z_][A-Za-z0-9_]*.
[[nodiscard]] bool valid_variable(std::string_view s) noexcept;

/// `--name VAR=NAME` options as VAR → NAME. Errc::usage for a malformed
/// one, an invalid variable or name, or a variable or name given twice.
[[nodiscard]] Result<std::map<std::string, std::string, std::less<>>>
parse_name_overrides(const std::vector<std::string>& given);

} // namespace pitool::cli
