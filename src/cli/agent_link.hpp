#pragma once
// How commands reach the agent (pitool/agent/agent.hpp): where its socket
// is, whether to use it, and opening a vault with the key it holds.

#include "cli/context.hpp"
#include "pitool/agent/agent.hpp"
#include "pitool/vault/vault.hpp"

#include <filesystem>
#include <optional>

namespace pitool::cli {

/// PITOOL_AGENT_SOCKET, else $XDG_RUNTIME_DIR/pitool/agent.sock, else
/// ~/.cache/pitool-agent/agent.sock (agent::socket_path).
[[nodiscard]] std::filesystem::path agent_socket(const Context& ctx);

/// False when PITOOL_NO_AGENT is set to anything but "" or "0".
[[nodiscard]] bool agent_enabled(const Context& ctx);

/// Opens the vault with the key the agent holds for it. std::nullopt, with at
/// most one debug line (never the key), when the agent is disabled, absent,
/// holds no key for this vault or a key that does not open it: the caller
/// then falls back to the passphrase.
[[nodiscard]] std::optional<vault::Vault> open_with_agent(const Context& ctx, vault::FileStorage& storage);

/// What replace_agent_key did.
enum class AgentKeyUpdate {
    not_held, ///< the agent is disabled, not running, or held no key for this vault: nothing to do
    replaced, ///< the agent held a key for this vault and now holds `key` instead
};

/// After `passwd` gave the vault at `vault` a new data key (secret): if the
/// agent holds a key for this vault, replaces it with `key` for no longer
/// than the old one had left (its lifetime and idle timeout stand; a vault
/// the agent did not hold stays locked, and none is started). Otherwise the
/// next command would find a key that no longer opens the vault and fall
/// back to the passphrase. Errc::io (or Errc::conflict) when the agent
/// answers but refuses or garbles: the caller warns, the vault is written.
[[nodiscard]] Result<AgentKeyUpdate> replace_agent_key(const Context& ctx, const std::filesystem::path& vault,
                                                       const Secret& key);

/// The agent's event log: $XDG_STATE_HOME/pitool/agent.log (an absolute
/// XDG_STATE_HOME), else ~/.local/state/pitool/agent.log; std::nullopt
/// without an absolute HOME either. The agent runs with an empty
/// environment, so the parent works this out and passes it.
[[nodiscard]] std::optional<std::filesystem::path> agent_log_path(const Context& ctx);

/// Starts the agent as this very program (`/proc/self/exe`): `pitool __agent`,
/// with `--log-file` when agent_log_path() has one.
[[nodiscard]] agent::Launcher agent_launcher(const Context& ctx);

} // namespace pitool::cli
