#include "cli/commands/commands.hpp"
#include "cli/common.hpp"
#include "cli/generations.hpp"
#include "cli/input.hpp"
#include "cli/output.hpp"
#include "cli/session.hpp"

#include <CLI/CLI.hpp>

#include <ostream>

namespace pitool::cli::commands {
namespace {

struct InitOptions {
    std::string kdf = "moderate";
};

Status run_init(Context& ctx, const InitOptions& o)
{
    PITOOL_TRY_ASSIGN(auto level, crypto::parse_kdf_level(o.kdf));
    Session s(ctx);
    // Check before asking for a passphrase twice.
    if (auto existing = s.storage().read(); existing || existing.error().code != Errc::not_found) {
        if (existing) return make_error(Errc::conflict, "a vault already exists at " + s.storage().describe());
        return std::move(existing).error();
    }
    PITOOL_TRY_ASSIGN(auto pass, read_new_passphrase(ctx, "", nullptr, true));
    PITOOL_TRY_ASSIGN(auto lock, s.storage().lock(lock_timeout(ctx)));
    core::Payload initial;
    record_event(ctx, initial, "init", "", "", "kdf " + o.kdf);
    PITOOL_TRY_ASSIGN(auto v, vault::Vault::create(s.storage(), pass, crypto::params_for(level), std::move(initial)));
    remember_generation(ctx, v);
    if (ctx.opts.json)
        print_json(ctx,
                   {{"vault", s.storage().describe()}, {"kdf", o.kdf}, {"format_version", vault::k_format_version}});
    else
        ctx.out << "Created vault " << s.storage().describe() << " (Argon2id " << o.kdf << ")\n";
    return {};
}

} // namespace

Handler setup_init(CLI::App& sub)
{
    auto o = std::make_shared<InitOptions>();
    sub.add_option("--kdf", o->kdf, "Key derivation cost: interactive, moderate (default) or sensitive");
    return [o](Context& ctx) { return run_init(ctx, *o); };
}

} // namespace pitool::cli::commands
