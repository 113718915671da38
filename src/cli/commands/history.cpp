#include "cli/commands/commands.hpp"
#include "cli/output.hpp"
#include "cli/session.hpp"

#include <CLI/CLI.hpp>

#include <array>
#include <optional>
#include <ostream>

namespace pitool::cli::commands {
namespace {

struct HistoryOptions {
    std::string name;
    std::string name_option;
    std::string action;
    std::string since;
};

/// Every action an event can record (docs/cli.md#history).
constexpr std::array k_actions = {
    "init",          "create",  "rotate", "rotate-now", "cancel-rotation", "expire-old", "old-token-expired",
    "exchange-code", "refresh", "import", "delete",     "passwd",          "restore"};

Status check_action(const std::string& action)
{
    if (action.empty()) return {};
    for (const char* a : k_actions)
        if (action == a) return {};
    std::string list;
    for (const char* a : k_actions) list += (list.empty() ? "" : ", ") + std::string(a);
    return make_error(Errc::usage, "--action must be one of " + list);
}

/// --since: an RFC 3339 time, or a duration back from now ("7d", "12h").
Result<std::optional<Timestamp>> parse_since(const std::string& since, Timestamp now)
{
    if (since.empty()) return std::optional<Timestamp>();
    if (auto t = parse_rfc3339(since)) return std::optional<Timestamp>(t.value());
    if (auto d = parse_duration(since)) return std::optional<Timestamp>(now - d.value());
    return make_error(Errc::usage, "--since must be an RFC 3339 time (2026-11-28T05:10:42Z) or a duration (7d, 12h)");
}

Status run_history(Context& ctx, HistoryOptions o)
{
    if (!o.name_option.empty() && !o.name.empty() && o.name_option != o.name)
        return make_error(Errc::usage, "give the name once: as NAME or as --name");
    if (o.name.empty()) o.name = o.name_option;
    if (!o.name.empty()) PITOOL_TRY(core::validate_name(o.name));
    PITOOL_TRY(check_action(o.action));
    PITOOL_TRY_ASSIGN(const auto since, parse_since(o.since, ctx.clock.now()));
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
    auto keep = [&](const core::Event& e) {
        return (o.name.empty() || e.name == o.name) && (o.action.empty() || e.action == o.action) &&
               (!since || e.at >= *since);
    };
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
            rows.push_back({human_time(e.at), e.action, e.name.empty() ? "-" : e.name,
                            e.fingerprint.empty() ? "-" : e.fingerprint, e.actor, e.detail});
    print_table(ctx.out, rows);
    return {};
}

} // namespace

Handler setup_history(CLI::App& sub)
{
    auto o = std::make_shared<HistoryOptions>();
    sub.add_option("name", o->name, "Only this integration's events");
    sub.add_option("--name", o->name_option, "Only this integration's events (as NAME)");
    sub.add_option("--action", o->action, "Only events of this action (create, rotate, refresh, ...)");
    sub.add_option("--since", o->since, "Only events at or after this RFC 3339 time, or this long ago (7d, 12h)");
    return [o](Context& ctx) { return run_history(ctx, *o); };
}

} // namespace pitool::cli::commands
