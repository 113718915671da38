#pragma once
// The highest generation of each vault seen on this machine: what turns a
// rolled-back copy of a vault (an older `vault`, or `vault.bak`, put in its
// place) into an error instead of silently bringing back tokens that were
// replaced. docs/vault-format.md, "The rollback check".
//
// The state file is `$XDG_STATE_HOME/pitool/generations` (an absolute
// XDG_STATE_HOME), else `~/.local/state/pitool/generations`: one line per
// vault id, `<32 hex digits> <generation>`, mode 0600 in a 0700 directory,
// replaced atomically under the lock `generations.lock` beside it, and only
// ever raised (the file is re-read under the lock and the larger value kept),
// so two pitools cannot lower it.

#include "cli/context.hpp"
#include "pitool/vault/vault.hpp"

#include <filesystem>
#include <optional>
#include <string>

namespace pitool::cli {

/// The state file, or std::nullopt when neither an absolute XDG_STATE_HOME
/// nor an absolute HOME is set (no rollback check is possible then).
[[nodiscard]] std::optional<std::filesystem::path> generations_path(const Context& ctx);

/// The highest generation recorded for `id`: 0 when none (or no state file).
/// Errc::io when the file is there but not private or not readable.
[[nodiscard]] Result<std::uint64_t> seen_generation(const Context& ctx, const vault::VaultId& id);

/// The command that writes the vault at `vault_path` back deliberately:
/// "pitool restore PATH" (with --vault when the command was given one).
[[nodiscard]] std::string restore_command(const Context& ctx, const std::filesystem::path& vault_path);

/// The rollback check, after every open that decrypted the index: refuses
/// (Errc::damaged, one line naming restore_command()) a vault whose
/// generation is below the highest seen for its id, and records a higher
/// one. A vault without an id (v1 to v3, until its first write) passes. A
/// state file that cannot be read or written is a warning, not an error.
[[nodiscard]] Status check_generation(const Context& ctx, const vault::Vault& v,
                                      const std::filesystem::path& vault_path);

/// check_generation for a vault read without the write lock: a writer may
/// have replaced the file, and recorded its newer generation, after `v` was
/// read. A refusal is therefore checked against the file as it is now
/// (opened again with `v`'s key, no key derivation): if it holds a newer
/// generation of the same vault, `v` becomes that one and is checked again.
[[nodiscard]] Status check_generation_unlocked(const Context& ctx, vault::Vault& v, vault::Storage& storage,
                                               const std::filesystem::path& vault_path);

/// Records `v`'s generation if it is above the one recorded (after a save).
/// A failure is a warning: the vault has been written.
void remember_generation(const Context& ctx, const vault::Vault& v);

} // namespace pitool::cli
