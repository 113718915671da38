#include "cli/commands/commands.hpp"
#include "cli/output.hpp"
#include "cli/session.hpp"
#include "pitool/core/lifecycle.hpp"

#include <CLI/CLI.hpp>

#include <ostream>

namespace pitool::cli::commands {
namespace {

Status run_audit(Context& ctx, const core::Policy& policy)
{
    PITOOL_TRY(core::validate_policy(policy));
    Session s(ctx);
    auto opened = s.open_all();
    if (!opened) return std::move(opened).error();
    vault::Vault& v = *opened.value();
    auto now = ctx.clock.now();
    std::vector<core::Finding> findings;
    int failing = 0;
    for (const auto& in : v.payload().integrations) {
        findings.push_back(core::assess(in, now, policy));
        auto verdict = findings.back().verdict;
        if (verdict == core::Verdict::due || verdict == core::Verdict::expired) ++failing;
    }
    if (ctx.opts.json) {
        auto arr = nlohmann::json::array();
        for (const auto& f : findings) arr.push_back(finding_json(f));
        print_json(ctx, {{"findings", arr},
                         {"policy", {{"max_age_days", policy.max_age_days}, {"warn_days", policy.warn_days}}},
                         {"checked_at", format_rfc3339(now)}});
    } else {
        std::vector<std::vector<std::string>> rows{{"NAME", "VERDICT", "AGE", "REASON"}};
        for (const auto& f : findings)
            rows.push_back({f.name, std::string(core::to_string(f.verdict)), days_text(f.age_days), f.reason});
        print_table(ctx.out, rows);
    }
    if (failing > 0)
        return make_error(Errc::findings, std::to_string(failing) +
                                              (failing == 1 ? " integration needs" : " integrations need") +
                                              " attention (due or expired)");
    return {};
}

} // namespace

Handler setup_audit(CLI::App& sub)
{
    auto policy = std::make_shared<core::Policy>();
    sub.add_option("--max-age", policy->max_age_days, "Days after which a token is due for rotation (default 90)");
    sub.add_option("--warn-days", policy->warn_days, "Warn this many days before a token is due (default 14)");
    return [policy](Context& ctx) { return run_audit(ctx, *policy); };
}

} // namespace pitool::cli::commands
