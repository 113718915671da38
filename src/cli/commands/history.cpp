#include "cli/commands/commands.hpp"
#include "cli/output.hpp"
#include "cli/session.hpp"

#include <CLI/CLI.hpp>

#include <ostream>

namespace pitool::cli::commands {
namespace {

struct HistoryOptions {
    std::string name;
};

Status run_history(Context& ctx, const HistoryOptions& o)
{
    if (!o.name.empty()) PITOOL_TRY(core::validate_name(o.name));
    Session s(ctx);
    PITOOL_TRY_ASSIGN(auto opened, s.open());
    vault::Vault& v = *opened;
    PITOOL_TRY(v.load_history());
    const auto& p = v.payload();
    PITOOL_TRY_ASSIGN(auto exists, o.name.empty() ? Result<bool>(true) : v.contains(o.name));
    if (!exists) {
        bool ever = false;
        for (const auto& e : p.history) ever = ever || e.name == o.name;
        if (!ever) return make_error(Errc::not_found, "no integration named '" + o.name + "' in the history");
    }
    auto keep = [&](const core::Event& e) { return o.name.empty() || e.name == o.name; };
    if (ctx.opts.json) {
        auto arr = nlohmann::json::array();
        for (const auto& e : p.history)
            if (keep(e)) arr.push_back(event_json(e));
        print_json(ctx, {{"events", arr}, {"chain_intact", p.first_broken_event() < 0}});
        return {};
    }
    std::vector<std::vector<std::string>> rows{{"WHEN", "ACTION", "NAME", "TOKEN", "BY", "DETAIL"}};
    for (const auto& e : p.history)
        if (keep(e))
            rows.push_back({format_rfc3339(e.at), e.action, e.name.empty() ? "-" : e.name,
                            e.fingerprint.empty() ? "-" : e.fingerprint, e.actor, e.detail});
    print_table(ctx.out, rows);
    return {};
}

} // namespace

Handler setup_history(CLI::App& sub)
{
    auto o = std::make_shared<HistoryOptions>();
    sub.add_option("name", o->name, "Only this integration's events");
    return [o](Context& ctx) { return run_history(ctx, *o); };
}

} // namespace pitool::cli::commands
