#pragma once
// Opening the vault a command works on: path resolution, passphrase, the
// locked read-modify-write cycle.

#include "cli/config.hpp"
#include "cli/context.hpp"
#include "cli/input.hpp"
#include "pitool/vault/vault.hpp"

#include <filesystem>
#include <functional>
#include <optional>

namespace pitool::cli {

/// The vault path and where it came from: --vault, else PITOOL_VAULT, else
/// the config file's `vault`, else $XDG_DATA_HOME/pitool/vault (origin:
/// environment XDG_DATA_HOME), else ~/.local/share/pitool/vault (default).
struct VaultInForce {
    std::filesystem::path path;
    Origin origin;
};
[[nodiscard]] VaultInForce vault_in_force(const Context& ctx);

/// vault_in_force(ctx).path.
[[nodiscard]] std::filesystem::path resolve_vault_path(const Context& ctx);

/// Vault::open with `passphrase` (secret), saying with -v which KDF the
/// vault uses and how long deriving the key and opening took.
[[nodiscard]] Result<vault::Vault> open_with_passphrase(const Context& ctx, vault::Storage& storage,
                                                        const Secret& passphrase);

/// How long a writer waits for the lock: PITOOL_LOCK_TIMEOUT seconds, default 10.
[[nodiscard]] std::chrono::milliseconds lock_timeout(const Context& ctx);

/// One command's access to the vault. Reads the passphrase at most once and
/// derives the key at most once per command.
class Session {
public:
    explicit Session(Context& ctx);

    /// Opens the vault read-only (no lock: the file is replaced atomically),
    /// with the key the agent holds for it if any, else with the passphrase.
    /// Warns (one line) when the vault directory breaks
    /// util::check_private_dir, which writes refuse. Errc::damaged for a
    /// vault older than a generation seen on this machine (the rollback
    /// check, cli/generations.hpp). The vault is owned by the session.
    [[nodiscard]] Result<vault::Vault*> open();
    /// open(), then every integration's metadata (and secrets if asked), in
    /// name order, and the whole history if asked.
    [[nodiscard]] Result<vault::Vault*> open_all(bool secrets = false, bool history = false);

    /// Opens under the writer lock (with the rollback check again), purges
    /// rotation windows that have ended, runs `change`, then saves
    /// atomically and records the new generation. If `change` fails nothing is
    /// written. Returns the saved vault for the command to report from.
    [[nodiscard]] Result<vault::Vault*> mutate(const std::function<Status(vault::Vault&)>& change);

    /// Like mutate, but `change` says whether it changed anything; nothing is
    /// written when it did not (and no window was purged).
    [[nodiscard]] Result<vault::Vault*> mutate_if(const std::function<Result<bool>(vault::Vault&)>& change,
                                                  std::chrono::milliseconds extra_wait = {});

    [[nodiscard]] vault::FileStorage& storage() { return m_storage; }
    [[nodiscard]] Context& ctx() { return m_ctx; }
    /// Whether open() used the agent's key (no passphrase was read for it).
    [[nodiscard]] bool unlocked_by_agent() const { return m_by_agent; }
    /// The passphrase (secret), read once.
    [[nodiscard]] Result<const Secret*> passphrase();

private:
    /// open_with_passphrase with the session's passphrase: a typed one is
    /// asked again after a wrong try (three tries in all), and a wrong one
    /// says where it came from.
    [[nodiscard]] Result<vault::Vault> open_with_passphrase_tries();

    Context& m_ctx;
    vault::FileStorage m_storage;
    std::optional<Secret> m_passphrase;
    PassphraseSource m_passphrase_source;
    std::optional<vault::Vault> m_vault;
    bool m_by_agent = false;
    bool m_writing = false; ///< in mutate: the lock refuses a bad directory, no read warning
};

} // namespace pitool::cli
