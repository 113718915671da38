#pragma once
// The overdue check of the commands that hand out or use a token (get, exec,
// test-call): a warning line before the token is used, or, under
// --fail-if-due, exit 9 instead of using it.

#include "cli/context.hpp"
#include "pitool/core/model.hpp"
#include "pitool/util/result.hpp"

#include <CLI/CLI.hpp>

namespace pitool::cli {

/// Adds `--fail-if-due` to `sub`, bound to `flag`.
void add_fail_if_due_flag(CLI::App& sub, bool& flag);

/// Judges `in` (its current token) by its policy (cli/config.hpp policy_for) at
/// ctx.clock.now(). In the warn band, due or expired: one warning line on
/// stderr (none under --quiet) naming the integration, why, and what to
/// run. Due or expired with `fail_if_due` or PITOOL_FAIL_IF_DUE=1:
/// Errc::findings (exit 9), and the caller must not use the token. A token
/// inside an open rotation window is not judged (its successor is young).
/// Errc::usage when PITOOL_FAIL_IF_DUE holds anything but empty, 0 or 1.
[[nodiscard]] Status check_due(const Context& ctx, const core::Integration& in, bool fail_if_due);

} // namespace pitool::cli
