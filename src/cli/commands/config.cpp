// pitool config: every setting the config file can hold, the value in force
// and where it came from (default, config file:line, environment variable,
// flag). Reads no vault and never a secret: the config holds none.
#include "cli/commands/commands.hpp"
#include "cli/config.hpp"
#include "cli/output.hpp"
#include "cli/session.hpp"

#include <CLI/CLI.hpp>

#include <array>
#include <cstdio>
#include <ostream>

namespace pitool::cli::commands {
namespace {

struct Setting {
    std::string key;
    nlohmann::json value;
    Origin origin;
};

std::string origin_text(const Origin& o)
{
    if (o.source == Origin::Source::builtin) return "default";
    return std::string(to_string(o.source)) + " " + o.where;
}

std::string value_text(const nlohmann::json& v)
{
    return v.is_string() ? v.get<std::string>() : v.dump();
}

nlohmann::json seconds_json(std::chrono::milliseconds ms)
{
    if (ms.count() % 1000 == 0) return ms.count() / 1000;
    return static_cast<double>(ms.count()) / 1000.0;
}

std::vector<Setting> settings_in_force(const Context& ctx)
{
    std::vector<Setting> out;
    const VaultInForce vault = vault_in_force(ctx);
    out.push_back({"vault", shown(vault.path.string()), vault.origin});
    const PolicyInForce base = base_policy_in_force(ctx);
    out.push_back({"policy.max_age_days", base.policy.max_age_days, base.max_age});
    out.push_back({"policy.warn_days", base.policy.warn_days, base.warn});
    for (auto p : {core::Provider::leadconnector, core::Provider::hint})
        for (auto k : {core::Kind::pit, core::Kind::oauth_app, core::Kind::oauth, core::Kind::partner_key,
                       core::Kind::practice_key}) {
            if (!core::kind_allowed(p, k)) continue;
            const PolicyInForce in_force = policy_in_force(ctx, p, k);
            const std::string prefix =
                "policy." + std::string(core::to_string(p)) + "." + std::string(core::to_string(k)) + ".";
            out.push_back({prefix + "max_age_days", in_force.policy.max_age_days, in_force.max_age});
            out.push_back({prefix + "warn_days", in_force.policy.warn_days, in_force.warn});
        }
    const SecondsInForce total = http_timeout_in_force(ctx);
    out.push_back({"http.timeout_seconds", seconds_json(total.value), total.origin});
    const SecondsInForce connect = http_connect_timeout_in_force(ctx);
    out.push_back({"http.connect_timeout_seconds", seconds_json(connect.value), connect.origin});
    return out;
}

Status run_config(Context& ctx)
{
    const Config& c = config_of(ctx);
    const std::vector<Setting> settings = settings_in_force(ctx);
    if (ctx.opts.json) {
        nlohmann::json file = nlohmann::json::object();
        file["path"] = c.path.empty() ? nlohmann::json(nullptr) : nlohmann::json(shown(c.path.string()));
        file["loaded"] = c.loaded;
        file["source"] = ctx.opts.no_config ? "flag" : to_string(c.path_origin.source);
        file["where"] = ctx.opts.no_config                                ? nlohmann::json("--no-config")
                        : c.path_origin.source == Origin::Source::builtin ? nlohmann::json(nullptr)
                                                                          : nlohmann::json(c.path_origin.where);
        nlohmann::json list = nlohmann::json::array();
        for (const auto& s : settings)
            list.push_back(
                {{"key", s.key},
                 {"value", s.value},
                 {"source", to_string(s.origin.source)},
                 {"where", s.origin.where.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.origin.where)}});
        print_json(ctx, {{"config_file", std::move(file)}, {"settings", std::move(list)}});
        return {};
    }
    if (ctx.opts.no_config)
        ctx.out << "config file: none (--no-config)\n";
    else if (c.path.empty())
        ctx.out << "config file: none (no HOME or XDG_CONFIG_HOME)\n";
    else
        ctx.out << "config file: " << shown(c.path.string()) << " (" << (c.loaded ? "read" : "not found") << "; "
                << origin_text(c.path_origin) << ")\n";
    Table t;
    t.add({"SETTING", "VALUE", "FROM"});
    for (const auto& s : settings) t.add({s.key, value_text(s.value), origin_text(s.origin)});
    t.print(ctx.out);
    return {};
}

} // namespace

Handler setup_config(CLI::App& /*sub*/)
{
    return [](Context& ctx) { return run_config(ctx); };
}

} // namespace pitool::cli::commands
