// pitool export: every integration as one JSON line, the `show --json`
// fields, plus its secrets only with --yes-secrets. Records are decoded one
// at a time, so a large vault never holds all its tokens in memory at once.
#include "cli/commands/commands.hpp"
#include "cli/output.hpp"
#include "cli/session.hpp"

#include <CLI/CLI.hpp>

#include <ostream>

namespace pitool::cli::commands {
namespace {

struct ExportOptions {
    bool yes_secrets = false;
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

Status run_export(Context& ctx, const ExportOptions& o)
{
    if (ctx.opts.json) return make_error(Errc::usage, "export always writes JSON lines; drop --json");
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
    return [o](Context& ctx) { return run_export(ctx, *o); };
}

} // namespace pitool::cli::commands
