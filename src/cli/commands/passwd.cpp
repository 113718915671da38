#include "cli/agent_link.hpp"
#include "cli/commands/commands.hpp"
#include "cli/common.hpp"
#include "cli/generations.hpp"
#include "cli/input.hpp"
#include "cli/log.hpp"
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
                 "passphrase and data key changed" + (o.kdf.empty() ? std::string() : "; kdf " + o.kdf));
    // A new data key: every record, history chunk and index part re-sealed
    // under it in a new data file, then the vault file replaced (locked,
    // atomic, vault.bak keeps the previous generation under the old key).
    PITOOL_TRY(v.change_passphrase(fresh, kdf));
    remember_generation(ctx, v);

    // An agent holding the old key would no longer open the vault: give it
    // the new key (for no longer than the old one had left), still under the
    // lock so that two passwd in a row leave the agent the last key. The
    // vault is written whatever the agent says.
    bool agent_replaced = false;
    if (auto up = replace_agent_key(ctx, s.storage().path(), v.data_key()); up)
        agent_replaced = up.value() == AgentKeyUpdate::replaced;
    else
        warn(ctx, "the agent still holds the old key of this vault, which no longer opens it (" + up.error().message +
                      "; run: pitool lock)");
    warn(ctx, "copies of the vault made before this change (backups, other machines, vault.bak until the next "
              "write) still open with the old passphrase; they hold nothing written after it");
    if (ctx.opts.json)
        print_json(ctx, {{"vault", s.storage().describe()},
                         {"passphrase_changed", true},
                         {"data_key_changed", true},
                         {"agent_key_replaced", agent_replaced}});
    else
        ctx.out << "Changed the passphrase and the data key of " << s.storage().describe()
                << (agent_replaced ? " (the agent now holds the new key)" : "") << "\n";
    return {};
}

} // namespace

Handler setup_passwd(CLI::App& sub)
{
    auto o = std::make_shared<PasswdOptions>();
    sub.footer("passwd makes a new random data key and re-seals every record, its history and the index under it\n"
               "(a new data file), so the old passphrase and any copy of the vault made before the change open\n"
               "nothing written after it. Copies it cannot reach (backups, other machines) still open with the old\n"
               "passphrase and hold what was there before; so does vault.bak, the previous generation, until the\n"
               "next write replaces it. An agent holding this vault's key (unlock) gets the new key, with the\n"
               "limits it had. Costs a copy of the vault, like a compaction.");
    sub.add_option("--new-passphrase-file", o->new_passphrase_file,
                   "Read the new passphrase from this file (or $PITOOL_NEW_PASSPHRASE_FILE, $PITOOL_NEW_PASSPHRASE)");
    sub.add_option("--kdf", o->kdf, "New key derivation cost: interactive, moderate or sensitive");
    return [o](Context& ctx) { return run_passwd(ctx, *o); };
}

} // namespace pitool::cli::commands
