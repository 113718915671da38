#include "cli/commands/commands.hpp"
#include "cli/common.hpp"
#include "cli/output.hpp"
#include "cli/network.hpp"
#include "cli/session.hpp"
#include "pitool/core/lifecycle.hpp"

#include <CLI/CLI.hpp>

#include <ostream>

namespace pitool::cli::commands {
namespace {

struct GetOptions {
    std::string name;
    bool old = false;
};

/// Writes `s` as a JSON string literal without copying it into a std::string.
void write_json_string(std::ostream& out, std::string_view s)
{
    out << '"';
    for (char c : s) {
        if (c == '"' || c == '\\') out << '\\' << c;
        else out << c; // tokens are printable ASCII (validate_token)
    }
    out << '"';
}

Status run_get(Context& ctx, const GetOptions& o)
{
    PITOOL_TRY(core::validate_name(o.name));
    Session s(ctx);
    auto opened = s.open();
    if (!opened) return std::move(opened).error();
    vault::Vault& v = *opened.value();
    auto in = find_integration(std::as_const(v.payload()), o.name);
    if (!in) return std::move(in).error();
    const auto& i = *in.value();
    auto now = ctx.clock.now();
    const core::Integration* current = &i;
    if (!o.old && needs_refresh(i, now)) {
        auto refreshed = refresh_expiring(s, o.name);
        if (!refreshed) return std::move(refreshed).error();
        current = refreshed.value();
    }
    const core::Token* token = &current->token;
    if (o.old) {
        if (!core::window_open(i, now))
            return make_error(Errc::conflict, "no rotation window is open for '" + o.name + "': there is no old token");
        token = &i.rotation->old;
    }
    if (ctx.opts.json) {
        ctx.out << "{\"name\":";
        write_json_string(ctx.out, i.name);
        ctx.out << ",\"fingerprint\":";
        write_json_string(ctx.out, token->fingerprint);
        ctx.out << ",\"token\":";
        write_json_string(ctx.out, token->value.view());
        ctx.out << "}\n";
    } else {
        ctx.out.write(token->value.view().data(), static_cast<std::streamsize>(token->value.size()));
        ctx.out << '\n';
    }
    return {};
}

} // namespace

Handler setup_get(CLI::App& sub)
{
    auto o = std::make_shared<GetOptions>();
    sub.add_option("name", o->name, "Integration name")->required();
    sub.add_flag("--old", o->old, "The previous token, while its rotation window is open");
    return [o](Context& ctx) { return run_get(ctx, *o); };
}

} // namespace pitool::cli::commands
