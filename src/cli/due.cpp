#include "cli/due.hpp"

#include "cli/config.hpp"
#include "cli/log.hpp"
#include "pitool/core/lifecycle.hpp"

namespace pitool::cli {

void add_fail_if_due_flag(CLI::App& sub, bool& flag)
{
    sub.add_flag("--fail-if-due", flag,
                 "Exit 9 without using the token when it is due for rotation or expired (PITOOL_FAIL_IF_DUE=1)");
}

namespace {

Result<bool> fail_if_due_from_env(const Context& ctx)
{
    const char* v = ctx.env.get("PITOOL_FAIL_IF_DUE");
    if (v == nullptr || *v == '\0' || std::string_view(v) == "0") return false;
    if (std::string_view(v) == "1") return true;
    return make_error(Errc::usage, "PITOOL_FAIL_IF_DUE must be 0 or 1");
}

/// What to run about a finding on `in`.
std::string remedy(const core::Integration& in)
{
    if (in.kind == core::Kind::oauth) return "refresh it (pitool refresh " + in.name + ") or authorize again";
    return "run: pitool rotate " + in.name;
}

/// "'NAME' is due for rotation: REASON; REMEDY".
std::string describe(const core::Integration& in, const core::Finding& f)
{
    const char* state = f.verdict == core::Verdict::warn  ? " is due soon: "
                        : f.verdict == core::Verdict::due ? " is due for rotation: "
                                                          : " has expired: ";
    return "'" + in.name + "'" + state + f.reason + "; " + remedy(in);
}

} // namespace

Status check_due(const Context& ctx, const core::Integration& in, bool fail_if_due)
{
    PITOOL_TRY_ASSIGN(const bool from_env, fail_if_due_from_env(ctx));
    const core::Finding f = core::assess(in, ctx.clock.now(), policy_for(ctx, in));
    const bool overdue = f.verdict == core::Verdict::due || f.verdict == core::Verdict::expired;
    if (overdue && (fail_if_due || from_env))
        return make_error(Errc::findings, describe(in, f) + " (refused: --fail-if-due)");
    if (overdue || f.verdict == core::Verdict::warn) warn(ctx, describe(in, f));
    return {};
}

} // namespace pitool::cli
