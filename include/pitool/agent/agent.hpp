#pragma once
/// The per-user key agent ("unlock once").
///
/// A small background process holds unwrapped vault data keys (secret) in
/// guarded memory, one per vault, keyed by the vault's canonical path, and
/// hands them out over a Unix socket to processes of the same uid only.
/// Each key has an absolute lifetime (ttl) and an idle timeout (time since
/// it was last fetched); when either passes the key is wiped, and the agent
/// exits once it holds no key. Nothing secret is ever written to disk, argv
/// or the environment: keys travel over the socket in `Secret` buffers.
///
/// Trust model: the socket lives in a private (0700) directory, and both ends
/// check the peer's uid with SO_PEERCRED. Any process of the same uid may
/// fetch a key while it is held (like ssh-agent); the agent is not dumpable,
/// so the same uid cannot ptrace it or read its memory. No client can make
/// the agent hold a key longer than it was first stored for, or longer than
/// k_max_key_ttl, or hold more than k_max_keys keys.
///
/// This layer depends on util only; it knows nothing of the vault format.

#include "pitool/util/result.hpp"
#include "pitool/util/secret.hpp"
#include "pitool/util/time.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace pitool::agent {

/// The longest a key is held, whatever a client asks for (`unlock --ttl`
/// refuses more): a client that could ask for more could keep a short unlock
/// going for years.
inline constexpr Seconds k_max_key_ttl{24 * 3600};
/// The most keys (vaults) one agent holds; a PUT for one more is refused, so
/// a client flooding it with keys cannot exhaust its guarded memory.
inline constexpr std::size_t k_max_keys = 64;

/// The socket path: `override_path` when non-empty (PITOOL_AGENT_SOCKET),
/// else `$XDG_RUNTIME_DIR/pitool/agent.sock` when `xdg_runtime_dir` is an
/// absolute directory owned by us, else `HOME/.cache/pitool-agent/agent.sock`
/// with HOME `home` when absolute, else our passwd entry's home. Never a path
/// in a shared directory such as /tmp, where another user could create the
/// directory first. Empty when no home is known. Never touches the file
/// system beyond one lstat of `xdg_runtime_dir`.
[[nodiscard]] std::filesystem::path socket_path(const char* override_path, const char* xdg_runtime_dir,
                                                const char* home);

/// Creates `dir` (mode 0700) if missing, and its parent (0700) if that is
/// missing too, and checks it is private: Errc::io with a one-line message if
/// it is a symlink, not a directory, not owned by our uid, or accessible by
/// group or others.
[[nodiscard]] Status prepare_socket_dir(const std::filesystem::path& dir);

/// The key a vault is held under: its weakly canonical absolute path.
[[nodiscard]] std::string vault_id(const std::filesystem::path& vault);

/// Fetches the data key (secret) held for `vault`. One connect() and one
/// round trip, no retries: Errc::not_found, cheaply, when no agent listens on
/// `socket` or it holds no key for this vault; Errc::io when the peer is not
/// of our uid or answers garbage. Resets the key's idle timer.
[[nodiscard]] Result<Secret> fetch_key(const std::filesystem::path& socket, const std::filesystem::path& vault);

/// How to start an agent process: the program to execute and its argv
/// (argv[0] included), to which `--socket PATH --ready-fd N` are appended.
/// The environment it gets is empty (sanitizer options excepted), so no
/// secret variable reaches it.
struct Launcher {
    std::filesystem::path program;
    std::vector<std::string> argv;
};

/// Lifetimes of one key held by the agent.
struct KeyTimes {
    Seconds ttl{8 * 3600}; ///< absolute: wiped this long after being stored
    Seconds idle{15 * 60}; ///< wiped when not fetched for this long
};

/// Stores `key` (secret, copied) for `vault` with `times`, replacing any key
/// held for it; returns the lifetimes the agent keeps, which are never later
/// than those of a key it already held for the vault (a store shortens an
/// unlock, never extends it). Errc::usage when `times.ttl` exceeds
/// k_max_key_ttl; Errc::conflict when the agent holds k_max_keys keys for
/// other vaults. Starts an agent with `launch` when none answers: under a lock
/// file in the socket directory (so concurrent callers end with one agent),
/// removing a stale socket nobody listens on. Errc::io on socket directory
/// problems or when the agent cannot be started.
[[nodiscard]] Result<KeyTimes> store_key(const std::filesystem::path& socket, const std::filesystem::path& vault,
                                         const Secret& key, KeyTimes times, const Launcher& launch);

/// Like store_key but never starts an agent: Errc::not_found when none answers.
[[nodiscard]] Result<KeyTimes> put_key(const std::filesystem::path& socket, const std::filesystem::path& vault,
                                       const Secret& key, KeyTimes times);

/// What a running agent holds (nothing secret).
struct AgentStatus {
    struct Entry {
        std::string vault;    ///< canonical vault path
        Seconds expires_in{}; ///< until the absolute timeout
        Seconds idle_left{};  ///< until the idle timeout
    };
    long pid = 0;
    std::vector<Entry> keys;

    /// The key held for `vault` (an agent::vault_id), or nullptr.
    [[nodiscard]] const Entry* find(std::string_view vault) const noexcept
    {
        for (const auto& e : keys)
            if (e.vault == vault) return &e;
        return nullptr;
    }
};

/// Asks the agent what it holds. Errc::not_found when none answers.
[[nodiscard]] Result<AgentStatus> status(const std::filesystem::path& socket);

/// Makes the agent wipe every key, remove its socket and exit; returns how
/// many keys it held. The socket is gone when this returns. Errc::not_found
/// when no agent answers.
[[nodiscard]] Result<std::size_t> stop(const std::filesystem::path& socket);

/// Receives the agent's events, one line each and nothing secret: start,
/// keys held, replaced and forgotten, stop, exit, and (`refusal` true)
/// requests it refused.
using EventLog = std::function<void(bool refusal, std::string_view line)>;

/// Options of the agent process itself.
struct ServerOptions {
    std::filesystem::path socket;
    /// When >= 0, a byte is written to this fd once the socket listens, then it is closed.
    int ready_fd = -1;
    /// Exit if no key has arrived this long after start.
    Seconds startup_grace{30};
    /// Where events go; empty: nowhere.
    EventLog log{};
};

/// Runs the agent in the calling process until it holds no key (after the
/// first one arrived, or after the startup grace), is told to stop, or gets
/// SIGTERM/SIGINT; then wipes all keys and removes its socket. Single
/// threaded. Binds `socket` (its directory is checked with
/// prepare_socket_dir). Errc::io when it cannot listen.
/// Does not daemonize or harden the process: the caller does.
[[nodiscard]] Status serve(const ServerOptions& options);

/// Detaches the calling process into an agent: no core dumps, not dumpable,
/// SIGPIPE and SIGHUP ignored, cwd /, stdio on /dev/null. For the `__agent`
/// entry point, before serve().
void harden_agent_process();

} // namespace pitool::agent
