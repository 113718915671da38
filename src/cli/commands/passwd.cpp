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

struct PasswdOptions {
    std::string new_passphrase_file;
    std::string kdf;
};

Status run_passwd(Context& ctx, const PasswdOptions& o)
{
    std::optional<crypto::KdfParams> params;
    if (!o.kdf.empty()) {
        PITOOL_TRY_ASSIGN(auto level, crypto::parse_kdf_level(o.kdf));
        params = crypto::params_for(level);
    }
    Session s(ctx);
    // Check the current passphrase before asking for a new one. Not through
    // s.open(): a key held by the agent must not be enough to change it.
    PITOOL_TRY_ASSIGN(auto current, s.passphrase());
    PITOOL_TRY_ASSIGN(auto before, vault::Vault::open(s.storage(), *current));
    PITOOL_TRY(check_generation_unlocked(ctx, before, s.storage(), s.storage().path()));
    std::string file = o.new_passphrase_file;
    if (file.empty())
        if (const char* f = ctx.env.get("PITOOL_NEW_PASSPHRASE_FILE"); f != nullptr) file = f;
    PITOOL_TRY_ASSIGN(auto fresh, read_new_passphrase(ctx, file, "PITOOL_NEW_PASSPHRASE", false));
    PITOOL_TRY_ASSIGN(auto lock, s.storage().lock(lock_timeout(ctx)));
    PITOOL_TRY_ASSIGN(auto v, vault::Vault::open(s.storage(), *current, &before));
    PITOOL_TRY(check_generation(ctx, v, s.storage().path()));
    auto kdf = params.value_or(v.header().recipients.front().params);
    record_event(ctx, v.payload(), "passwd", "", "",
                 "passphrase changed" + (o.kdf.empty() ? std::string() : "; kdf " + o.kdf));
    PITOOL_TRY(v.change_passphrase(fresh, kdf));
    remember_generation(ctx, v);
    if (ctx.opts.json)
        print_json(ctx, {{"vault", s.storage().describe()}, {"passphrase_changed", true}});
    else
        ctx.out << "Changed the passphrase of " << s.storage().describe() << "\n";
    return {};
}

} // namespace

Handler setup_passwd(CLI::App& sub)
{
    auto o = std::make_shared<PasswdOptions>();
    sub.add_option("--new-passphrase-file", o->new_passphrase_file,
                   "Read the new passphrase from this file (or $PITOOL_NEW_PASSPHRASE_FILE, $PITOOL_NEW_PASSPHRASE)");
    sub.add_option("--kdf", o->kdf, "New key derivation cost: interactive, moderate or sensitive");
    return [o](Context& ctx) { return run_passwd(ctx, *o); };
}

} // namespace pitool::cli::commands
