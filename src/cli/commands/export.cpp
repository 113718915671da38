// pitool export: every integration as one JSON line, the `show --json`
// fields, plus its secrets only with --yes-secrets. Records are decoded one
// at a time, so a large vault never holds all its tokens in memory at once.
// `--format env`: one `VAR=token` line per integration (always secret).
#include "cli/commands/commands.hpp"
#include "cli/env_format.hpp"
#include "cli/log.hpp"
#include "cli/output.hpp"
#include "cli/session.hpp"
#include "pitool/util/fs.hpp"

#include <CLI/CLI.hpp>

#include <map>
#include <ostream>
#include <span>

namespace pitool::cli::commands {
namespace {

struct ExportOptions {
    bool yes_secrets = false;
    std::string format = "jsonl";
    std::vector<std::string> names;
    std::string output;
};

/// Appends `"key":"value"` with `value` (secret, printable ASCII) escaped.
void put_secret(SecureString& line, std::string_view key, std::string_view value)
{
    if (line.back() != '{') line += ',';
    line += '"';
    line.append(key);
    line += "\":\"";
    for (char c : value) {
        if (c == '"' || c == '\\') line += '\\';
        line += c;
    }
    line += '"';
}

/// Every integration's variable (docs/cli.md, "The env format"), checked
/// for collisions before any token is decoded.
Result<std::map<std::string, std::string, std::less<>>> variables_of(const vault::Vault& v, const ExportOptions& o)
{
    PITOOL_TRY_ASSIGN(const auto overrides, parse_name_overrides(o.names));
    std::map<std::string, std::string, std::less<>> by_name; // name → VAR
    for (const auto& [var, name] : overrides) by_name[name] = var;
    std::map<std::string, std::string, std::less<>> by_variable; // VAR → name
    std::size_t overridden = 0;
    PITOOL_TRY(v.for_each_record(false, [&](const core::Integration& in) -> Status {
        std::string var;
        if (auto it = by_name.find(in.name); it != by_name.end()) {
            var = it->second;
            ++overridden;
        } else {
            var = variable_of(in.name);
        }
        if (auto [it, fresh] = by_variable.emplace(var, in.name); !fresh)
            return make_error(Errc::usage, "'" + it->second + "' and '" + in.name + "' both map to " + var +
                                               " (give one of them --name VAR=NAME)");
        by_name[in.name] = var;
        return {};
    }));
    if (overridden < overrides.size())
        for (const auto& [var, name] : overrides)
            if (by_variable.count(var) == 0 || by_variable.at(var) != name)
                return make_error(Errc::usage, "--name " + var + "=" + name + ": no integration named '" + name + "'");
    return by_name;
}

/// `--format env`: `VAR=token` lines, to stdout or a new 0600 file.
Status run_export_env(Context& ctx, const ExportOptions& o)
{
    if (!o.yes_secrets)
        return make_error(Errc::usage, "export --format env writes every token: confirm with --yes-secrets");
    Session s(ctx);
    PITOOL_TRY_ASSIGN(auto opened, s.open());
    const vault::Vault& v = *opened;
    PITOOL_TRY_ASSIGN(const auto variables, variables_of(v, o));
    SecureString all;
    PITOOL_TRY(v.for_each_record(true, [&](const core::Integration& in) -> Status {
        SecureString line(variables.at(in.name).begin(), variables.at(in.name).end());
        line += '=';
        // Tokens are printable ASCII without spaces (core::validate_token):
        // written as they are, read back by import --format env.
        line.append(in.token.value.view());
        line += '\n';
        if (o.output.empty()) {
            ctx.out.write(line.data(), static_cast<std::streamsize>(line.size()));
        } else {
            all.append(line);
        }
        secure_clear(line);
        return {};
    }));
    if (o.output.empty()) {
        ctx.out.flush();
        return {};
    }
    std::string warning;
    auto st = util::atomic_replace(
        o.output, std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(all.data()), all.size()), nullptr,
        &warning);
    secure_clear(all);
    PITOOL_TRY(st);
    if (!warning.empty()) warn(ctx, warning);
    return {};
}

Status run_export(Context& ctx, const ExportOptions& o)
{
    if (o.format != "jsonl" && o.format != "env") return make_error(Errc::usage, "--format must be jsonl or env");
    if (ctx.opts.json) return make_error(Errc::usage, "export writes JSON lines or env lines; drop --json");
    if (o.format == "env") return run_export_env(ctx, o);
    if (!o.names.empty() || !o.output.empty())
        return make_error(Errc::usage, "--name and -o apply to --format env only");
    Session s(ctx);
    PITOOL_TRY_ASSIGN(auto opened, s.open());
    const vault::Vault& v = *opened;
    auto now = ctx.clock.now();
    PITOOL_TRY(v.for_each_record(o.yes_secrets, [&](const core::Integration& in) -> Status {
        std::string meta = integration_json(in, now).dump();
        if (!o.yes_secrets) {
            ctx.out << meta << '\n';
            return {};
        }
        SecureString line(meta.begin(), meta.end() - 1); // without the closing brace
        line += ",\"secrets\":{";
        put_secret(line, "token", in.token.value.view());
        if (in.rotation) put_secret(line, "old_token", in.rotation->old.value.view());
        if (in.oauth && in.oauth->refresh_token) put_secret(line, "refresh_token", in.oauth->refresh_token->view());
        line += "}}\n";
        ctx.out.write(line.data(), static_cast<std::streamsize>(line.size()));
        secure_clear(line);
        return {};
    }));
    ctx.out.flush();
    return {};
}

} // namespace

Handler setup_export(CLI::App& sub)
{
    auto o = std::make_shared<ExportOptions>();
    sub.add_flag("--yes-secrets", o->yes_secrets, "Include every token in the output (write it somewhere safe)");
    sub.add_option("--format", o->format, "jsonl (default: JSON lines) or env (VAR=token lines; needs --yes-secrets)");
    sub.add_option("--name", o->names,
                   "env: write integration NAME as variable VAR (VAR=NAME; repeat). Default: NAME upper-cased, "
                   "other characters as _");
    sub.add_option("-o,--output", o->output, "env: write to this file (mode 0600, replaced atomically)");
    return [o](Context& ctx) { return run_export(ctx, *o); };
}

} // namespace pitool::cli::commands
