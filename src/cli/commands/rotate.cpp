#include "cli/commands/commands.hpp"
#include "cli/common.hpp"
#include "cli/guide.hpp"
#include "cli/input.hpp"
#include "cli/network.hpp"
#include "cli/output.hpp"
#include "cli/session.hpp"
#include "cli/validate.hpp"
#include "pitool/core/lifecycle.hpp"

#include <CLI/CLI.hpp>

#include <ostream>

namespace pitool::cli::commands {
namespace {

struct RotateOptions {
    std::string name;
    bool now = false;
    bool verify = false;
    bool token_stdin = false;
    std::string token_file;
};

/// --verify: prove the new token with the integration's default test call
/// before anything is stored.
Status verify_new_token(Context& ctx, Session& s, const std::string& name, const Secret& token)
{
    PITOOL_TRY_ASSIGN(auto opened, s.open());
    PITOOL_TRY_ASSIGN(auto found, find_integration(*opened, name));
    return verify_token(ctx, *found, token);
}

/// Someone at the terminal is about to paste the new token: what to click
/// in the provider's UI first (the integration is looked up for its
/// provider and kind, so the vault is opened before the token prompt).
Status show_rotate_steps(Context& ctx, Session& s, const RotateOptions& o)
{
    PITOOL_TRY_ASSIGN(auto opened, s.open());
    PITOOL_TRY_ASSIGN(auto found, find_integration(*opened, o.name));
    if (found->kind == core::Kind::oauth) return {}; // refused below, with its message
    print_token_steps(ctx, *found, o.now ? TokenAction::rotate_now : TokenAction::rotate_later);
    return {};
}

Status run_rotate(Context& ctx, const RotateOptions& o)
{
    PITOOL_TRY(core::validate_name(o.name));
    Session s(ctx);
    if (shows_token_steps(ctx, o.token_stdin, o.token_file)) PITOOL_TRY(show_rotate_steps(ctx, s, o));
    PITOOL_TRY_ASSIGN(auto token, read_token(ctx, o.token_stdin, o.token_file, "New token for " + o.name + ": "));
    PITOOL_TRY(core::validate_token(token));
    auto now = ctx.clock.now();
    if (o.verify) PITOOL_TRY(verify_new_token(ctx, s, o.name, token));
    PITOOL_TRY_ASSIGN(vault::Vault * saved, s.mutate([&](vault::Vault& vault) -> Status {
        PITOOL_TRY_ASSIGN(auto in, find_integration(vault, o.name));
        if (in->kind == core::Kind::oauth)
            return make_error(Errc::usage, "'" + o.name + "' is an OAuth token set: use refresh, not rotate");
        auto fresh = core::make_token(std::move(token), now);
        std::string old_fp = in->token.fingerprint;
        std::string new_fp = fresh.fingerprint;
        if (o.now) {
            PITOOL_TRY(core::rotate_now(*in, std::move(fresh), now));
            record_event(ctx, vault.payload(), "rotate-now", o.name, new_fp,
                         "old token " + old_fp + " expired at once");
        } else {
            PITOOL_TRY(core::rotate_later(*in, std::move(fresh), now));
            record_event(ctx, vault.payload(), "rotate", o.name, new_fp,
                         "old token " + old_fp + " valid until " + format_rfc3339(in->rotation->old_expires_at));
        }
        return {};
    }));
    vault::Vault& v = *saved;
    const auto* in = v.payload().find(o.name);
    warn_token_shape(ctx, in->kind, in->token.value);
    if (ctx.opts.json) {
        print_json(ctx, integration_json(*in, now));
    } else if (o.now) {
        ctx.out << "Rotated " << o.name << ": new token " << in->token.fingerprint
                << "; the old token is expired now\n";
    } else {
        ctx.out << "Rotated " << o.name << ": new token " << in->token.fingerprint << "; old token "
                << in->rotation->old.fingerprint << " stays valid until " << human_time(in->rotation->old_expires_at)
                << "\n";
    }
    return {};
}

} // namespace

Handler setup_rotate(CLI::App& sub)
{
    auto o = std::make_shared<RotateOptions>();
    sub.add_option("name", o->name, "Integration name")->required();
    sub.add_flag("--now", o->now, "Rotate and expire the old token now (for a leaked token)");
    sub.add_flag("--verify", o->verify, "Test-call the new token first; refuse it if the provider rejects it");
    auto* ts = sub.add_flag("--token-stdin", o->token_stdin, "Read the new token from standard input");
    auto* tf = sub.add_option("--token-file", o->token_file, "Read the new token from a file");
    ts->excludes(tf);
    return [o](Context& ctx) { return run_rotate(ctx, *o); };
}

} // namespace pitool::cli::commands
