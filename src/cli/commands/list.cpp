#include "cli/commands/commands.hpp"
#include "cli/common.hpp"
#include "cli/output.hpp"
#include "cli/session.hpp"
#include "pitool/core/lifecycle.hpp"

#include <CLI/CLI.hpp>

#include <ostream>

namespace pitool::cli::commands {
namespace {

struct ListOptions {
    std::string provider;
    std::string kind;
};

Status run_list(Context& ctx, const ListOptions& o)
{
    PITOOL_TRY_ASSIGN(auto filter, parse_filter(o.provider, o.kind));
    Session s(ctx);
    PITOOL_TRY_ASSIGN(auto opened, s.open());
    const vault::Vault& v = *opened;
    auto now = ctx.clock.now();
    // Records are decoded one at a time, in name order, and only their rows
    // are kept: 100,000 integrations never sit in memory as objects.
    if (ctx.opts.json) {
        ctx.out << '[';
        const char* sep = "";
        PITOOL_TRY(v.for_each_record(false, [&](const core::Integration& in) -> Status {
            if (!filter.matches(in)) return {};
            ctx.out << sep << integration_json(in, now).dump();
            sep = ",";
            return {};
        }));
        ctx.out << "]\n";
        ctx.json_written = true;
        return {};
    }
    Table rows;
    rows.add({"NAME", "PROVIDER", "KIND", "ACCOUNT", "TOKEN", "AGE", "ROTATION"});
    PITOOL_TRY(v.for_each_record(false, [&](const core::Integration& in) -> Status {
        if (!filter.matches(in)) return {};
        std::string rotation =
            core::window_open(in, now) ? "old expires " + human_time(in.rotation->old_expires_at) : "-";
        rows.add({in.name, core::to_string(in.provider), core::to_string(in.kind),
                  in.account_id.empty() ? std::string_view("-") : std::string_view(in.account_id), in.token.fingerprint,
                  days_text(whole_days(in.token.issued_at, now)), rotation});
        return {};
    }));
    if (rows.size() == 1) {
        if (!ctx.opts.quiet) ctx.err << "pitool: no integrations stored yet (see pitool create --help)\n";
        return {};
    }
    rows.print(ctx.out);
    return {};
}

} // namespace

Handler setup_list(CLI::App& sub)
{
    auto o = std::make_shared<ListOptions>();
    sub.add_option("--provider", o->provider, "Only this provider");
    sub.add_option("--kind", o->kind, "Only this kind");
    return [o](Context& ctx) { return run_list(ctx, *o); };
}

} // namespace pitool::cli::commands
