#include "cli/commands/commands.hpp"
#include "cli/common.hpp"
#include "cli/due.hpp"
#include "cli/network.hpp"
#include "cli/output.hpp"
#include "cli/prompt.hpp"
#include "cli/session.hpp"
#include "pitool/core/lifecycle.hpp"

#include <CLI/CLI.hpp>

#include <ostream>

namespace pitool::cli::commands {
namespace {

struct GetOptions {
    std::string name;
    bool old = false;
    bool fail_if_due = false;
};

/// Writes `s` as a JSON string literal without copying it into a std::string.
void write_json_string(std::ostream& out, std::string_view s)
{
    out << '"';
    for (char c : s) {
        if (c == '"' || c == '\\')
            out << '\\' << c;
        else
            out << c; // tokens are printable ASCII (validate_token)
    }
    out << '"';
}

Status run_get(Context& ctx, const GetOptions& o)
{
    PITOOL_TRY(core::validate_name(o.name));
    Session s(ctx);
    // run() leaves the actor (user@host: an NSS lookup, a tenth of a get) to
    // us. It is recorded only when get refreshes an expiring OAuth token, so
    // look it up for OAuth credentials only, before choose_token may write.
    if (ctx.actor.empty()) {
        PITOOL_TRY_ASSIGN(auto opened, s.open());
        PITOOL_TRY_ASSIGN(auto found, find_integration(*opened, o.name));
        if (found->kind == core::Kind::oauth) ctx.actor = current_actor();
    }
    PITOOL_TRY_ASSIGN(auto chosen, choose_token(s, o.name, o.old, o.fail_if_due));
    const core::Token* token = chosen.token;
    if (ctx.opts.json) {
        ctx.out << "{\"name\":";
        write_json_string(ctx.out, o.name);
        ctx.out << ",\"fingerprint\":";
        write_json_string(ctx.out, token->fingerprint);
        ctx.out << ",\"token\":";
        write_json_string(ctx.out, token->value.view());
        ctx.out << ',' << schema_version_member() << "}\n";
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
    add_fail_if_due_flag(sub, o->fail_if_due);
    return [o](Context& ctx) { return run_get(ctx, *o); };
}

} // namespace pitool::cli::commands
