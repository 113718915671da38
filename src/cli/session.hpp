#pragma once
// Opening the vault a command works on: path resolution, passphrase, the
// locked read-modify-write cycle.

#include "cli/context.hpp"
#include "pitool/vault/vault.hpp"

#include <filesystem>
#include <functional>

namespace pitool::cli {

/// --vault, else PITOOL_VAULT, else $XDG_DATA_HOME/pitool/vault, else
/// ~/.local/share/pitool/vault.
[[nodiscard]] std::filesystem::path resolve_vault_path(const Context& ctx);

/// How long a writer waits for the lock: PITOOL_LOCK_TIMEOUT seconds, default 10.
[[nodiscard]] std::chrono::milliseconds lock_timeout(const Context& ctx);

class Session {
public:
    explicit Session(Context& ctx);

    /// Opens the vault read-only (no lock: the file is replaced atomically).
    [[nodiscard]] Result<vault::Vault> open();

    /// Opens under the writer lock, purges rotation windows that have ended,
    /// runs `change`, then saves atomically. If `change` fails nothing is
    /// written. Returns the saved vault for the command to report from.
    [[nodiscard]] Result<vault::Vault> mutate(const std::function<Status(vault::Vault&)>& change);

    [[nodiscard]] vault::FileStorage& storage() { return m_storage; }
    [[nodiscard]] Context& ctx() { return m_ctx; }

private:
    Context& m_ctx;
    vault::FileStorage m_storage;
};

} // namespace pitool::cli
