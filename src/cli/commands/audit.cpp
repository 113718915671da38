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
    PITOOL_TRY_ASSIGN(auto opened, s.open());
    const vault::Vault& v = *opened;
    auto now = ctx.clock.now();
    int failing = 0;
    // Records are assessed one at a time, in name order; JSON is streamed
    // (the keys in the order nlohmann::json sorts them), a table keeps rows.
    Table rows;
    rows.add({"NAME", "VERDICT", "AGE", "REASON"});
    const char* sep = "";
    if (ctx.opts.json) ctx.out << "{\"checked_at\":" << nlohmann::json(format_rfc3339(now)).dump() << ",\"findings\":[";
    PITOOL_TRY(v.for_each_record(false, [&](const core::Integration& in) -> Status {
        auto f = core::assess(in, now, policy);
        if (f.verdict == core::Verdict::due || f.verdict == core::Verdict::expired) ++failing;
        if (ctx.opts.json) {
            ctx.out << sep << finding_json(f).dump();
            sep = ",";
        } else {
            rows.add({f.name, core::to_string(f.verdict), days_text(f.age_days), f.reason});
        }
        return {};
    }));
    if (ctx.opts.json) {
        nlohmann::json p = {{"max_age_days", policy.max_age_days}, {"warn_days", policy.warn_days}};
        ctx.out << "],\"policy\":" << p.dump() << "}\n";
        ctx.json_written = true;
    } else {
        rows.print(ctx.out);
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
