// restore: the deliberate way back to an older generation of the vault.
// The content of BACKUP (vault.bak, an older copy of `vault`, or the vault
// file itself after the rollback check refused it) is written as a new
// generation, above every generation this machine has seen, so that the
// rollback check accepts it from then on; a history event records it.
#include "cli/commands/commands.hpp"
#include "cli/common.hpp"
#include "cli/generations.hpp"
#include "cli/log.hpp"
#include "cli/output.hpp"
#include "cli/session.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <filesystem>
#include <ostream>

namespace pitool::cli::commands {
namespace {

struct RestoreOptions {
    std::string backup;
};

/// The store of the backup at `path`: its data file named after it when
/// there is one (a copy of a whole vault directory), else after the vault
/// (vault.bak, whose data files are the vault's).
Result<std::unique_ptr<vault::FileStorage>> backup_storage(const std::filesystem::path& path,
                                                           const std::filesystem::path& vault_path)
{
    auto own = std::make_unique<vault::FileStorage>(path);
    auto head = own->read();
    if (!head && head.error().code == Errc::not_found)
        return make_error(Errc::not_found, "no vault file at " + path.string() + " to restore from");
    PITOOL_TRY_ASSIGN(auto bytes, std::move(head));
    PITOOL_TRY_ASSIGN(auto parsed, vault::parse(bytes));
    const auto& h = parsed.header;
    std::error_code ec;
    if (h.version >= vault::k_format_v3 && !std::filesystem::exists(own->data_path(h.data_id), ec))
        return std::make_unique<vault::FileStorage>(path, vault_path);
    return own;
}

/// The highest generation known for `v`'s id on this machine (0 on a state
/// file that cannot be read: warned).
std::uint64_t seen_for(const Context& ctx, const vault::Vault& v)
{
    if (!v.has_id()) return 0;
    auto seen = seen_generation(ctx, v.id());
    if (!seen) {
        warn(ctx, "cannot read the generations seen on this machine: " + seen.error().message);
        return 0;
    }
    return seen.value();
}

std::string generation_text(const vault::Vault& v)
{
    return v.has_id() ? "generation " + std::to_string(v.generation())
                      : "format v" + std::to_string(v.file_version()) + ", no generation";
}

Status run_restore(Context& ctx, const RestoreOptions& o)
{
    Session s(ctx);
    const std::filesystem::path from(o.backup);
    PITOOL_TRY_ASSIGN(auto source, backup_storage(from, s.storage().path()));
    PITOOL_TRY_ASSIGN(auto pass, s.passphrase());
    // Always the passphrase: the agent's key is not enough to replace a vault.
    auto opened = vault::Vault::open(*source, *pass);
    if (!opened && opened.error().code == Errc::wrong_passphrase)
        return make_error(Errc::wrong_passphrase, "wrong passphrase for " + from.string());
    if (!opened) return std::move(opened).error();
    vault::Vault& backup = opened.value();

    PITOOL_TRY_ASSIGN(auto lock, s.storage().lock(lock_timeout(ctx)));
    // The vault as it stands, whatever its generation: it is being replaced,
    // so the rollback check does not apply to it.
    // A vault that is missing or does not open is not replaced from here:
    // put BACKUP in its place, and restore that (nothing is collected then).
    const std::string target = s.storage().describe();
    auto current = vault::Vault::open(s.storage(), *pass, &backup);
    if (!current && current.error().code == Errc::not_found)
        return make_error(Errc::not_found,
                          "no vault at " + target + " to restore into: copy " + from.string() +
                              " (and its data file) there, then run: " + restore_command(ctx, s.storage().path()));
    if (!current && current.error().code == Errc::wrong_passphrase)
        return make_error(Errc::wrong_passphrase, "the passphrase opens " + from.string() + " but not " + target);
    if (!current && current.error().code == Errc::damaged)
        return make_error(Errc::damaged, current.error().message + "; to replace it with " + from.string() +
                                             ", keep a copy of it, copy " + from.string() +
                                             " over it, then run: " + restore_command(ctx, s.storage().path()));
    if (!current) return std::move(current).error();
    vault::Vault& v = current.value();
    const std::string replaced = generation_text(v);

    // Above every generation of either that this machine has seen, and above
    // both files'.
    v.supersede(std::max({seen_for(ctx, v), seen_for(ctx, backup), v.generation(),
                          (backup.has_id() && backup.id() == v.id()) ? backup.generation() : 0}));
    // Every stored record goes; the backup's come in sealed one at a time
    // (stage), so its tokens are never all in memory together.
    PITOOL_TRY(v.load_all(/*secrets=*/false));
    v.payload().integrations.clear();
    std::size_t records = 0;
    PITOOL_TRY(backup.for_each_record(/*secrets=*/true, [&](const core::Integration& in) -> Status {
        ++records;
        return v.stage(in);
    }));
    // The backup's history, then the restore.
    PITOOL_TRY(v.load_history());
    PITOOL_TRY(backup.load_history());
    v.payload().history = std::move(backup.payload().history);
    v.payload().chain_tip.clear();
    record_event(ctx, v.payload(), "restore", "", "",
                 "restored " + from.string() + " (" + generation_text(backup) + ") over " + replaced);
    PITOOL_TRY(v.save());
    remember_generation(ctx, v);

    if (ctx.opts.json)
        print_json(ctx, {{"vault", s.storage().describe()},
                         {"restored_from", from.string()},
                         {"from_generation", backup.has_id() ? backup.generation() : 0},
                         {"generation", v.generation()},
                         {"integrations", records}});
    else
        ctx.out << "Restored " << s.storage().describe() << " from " << from.string() << " (" << generation_text(backup)
                << ") as generation " << v.generation() << ": " << records << " integration"
                << (records == 1 ? "" : "s") << "\n";
    return {};
}

} // namespace

Handler setup_restore(CLI::App& sub)
{
    auto o = std::make_shared<RestoreOptions>();
    sub.add_option("backup", o->backup,
                   "The older vault file to go back to: vault.bak, a copy of `vault` (its data file beside it), or "
                   "the vault itself after the rollback check refused it")
        ->required();
    sub.footer("Writes BACKUP's integrations and history as a new generation of the vault (the one --vault,\n"
               "PITOOL_VAULT or the default location names), above every generation seen on this machine, and\n"
               "records a `restore` event. Needs the passphrase, which must open both.\n"
               "Example:\n  pitool restore ~/.local/share/pitool/vault.bak");
    return [o](Context& ctx) { return run_restore(ctx, *o); };
}

} // namespace pitool::cli::commands
