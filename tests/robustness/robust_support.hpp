#pragma once
// Support for the robustness suites (crash, filesystem, concurrency, hostile
// input): a process runner that can SIGKILL its child after a precise delay
// or run it under resource limits / in a private mount namespace, an
// independent decoder of the vault file (libsodium, written from
// docs/vault-format.md, not from pitool's code), and a pitool-sandbox handle.

#include "support/process.hpp"

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace pitool::robust {

using nlohmann::json;

/// Exit codes (include/pitool/exit_codes.hpp, docs/cli.md).
enum Exit : int {
    k_ok = 0,
    k_internal = 1,
    k_usage = 2,
    k_not_found = 3,
    k_conflict = 4,
    k_wrong_pass = 5,
    k_damaged = 6,
    k_rejected = 7,
    k_unavailable = 8,
    k_findings = 9,
    k_io = 10
};

struct Proc {
    int exit_code = -1;  ///< exit status, or 128+signal
    bool killed = false; ///< we sent SIGKILL (kill delay or timeout)
    std::string out;
    std::string err;
    double elapsed_ms = 0;
};

struct Spawn {
    std::vector<std::string> argv;          ///< argv[0] is a path
    std::map<std::string, std::string> env; ///< on top of PATH, HOME, LANG=C, TZ=UTC
    std::string stdin_data;                 ///< any size (served from a memfd)
    /// SIGKILL the child this long after fork (negative: never).
    std::chrono::microseconds kill_after{-1};
    double timeout_s = 30; ///< hard limit, then SIGKILL
    /// RLIMIT_FSIZE for the child (bytes), if set.
    std::optional<std::uint64_t> fsize_limit;
    /// If set: SIGKILL the child `kill_after_create` after a file whose name
    /// starts with ".vault.tmp." appears in this directory (inotify), so the
    /// kill lands in the write / fsync / link / rename phase.
    std::optional<std::filesystem::path> watch_dir;
    std::chrono::microseconds kill_after_create{0};
    /// Runs in the child after fork, before exec (async-signal-safe calls only).
    std::function<void()> in_child;
};

/// Runs a program; never a shell.
Proc spawn(const Spawn& s);

/// "exit N / stdout / stderr" for failure messages.
std::string describe(const Proc& p);
/// Exactly one line, "pitool: error: ..." or other, ending in '\n'.
bool one_line(const std::string& s);

/// Whole file, or nullopt if it cannot be read.
std::optional<std::string> slurp(const std::filesystem::path& p);

/// Decrypts a vault image with a passphrase through the independent oracle
/// (tests/oracle/vault_reader.hpp); nullopt (and `why`) on failure. A
/// version 3 image's boxes are read from its data file beside `vault`.
/// Caches derived keys per (passphrase, salt, limits). The result has the
/// version 1 payload shape.
std::optional<json> decrypt_vault(const std::string& bytes, const std::string& passphrase,
                                  const std::filesystem::path& vault, std::string* why = nullptr);

/// Re-keys a vault image for speed: same data key and payload, the one
/// recipient re-wrapped under Argon2id at libsodium's minimum cost (ops 1,
/// 8 KiB), which pitool accepts (docs/vault-format.md: "at least libsodium's
/// minimums"). Lets the harnesses run many more commands per second.
std::string cheapen_vault(const std::string& bytes, const std::string& passphrase);

/// A running pitool-sandbox on a free loopback port.
class Sandbox {
public:
    Sandbox();
    [[nodiscard]] const std::string& url() const { return m_bg->first_line(); }
    /// An admin call below /_sandbox; throws unless 2xx.
    json admin(const std::string& method, const std::string& path, const json& body = json::object()) const;

    /// Registers an OAuth app; returns {client_id, client_secret}.
    json new_app() const;
    /// Mints a PIT for a location with locations.readonly; returns the token.
    std::string new_pit(const std::string& location = "LOC1") const;
    /// Mints a Location code for the app.
    std::string new_code(const std::string& client_id, const std::string& location = "LOC1") const;
    /// Sandbox view of a secret (`/_sandbox/tokens/inspect`).
    json inspect(const std::string& token) const;

private:
    std::unique_ptr<pitool::test::Background> m_bg;
};

/// Runs PITOOL_BIN with `--vault VAULT` and PITOOL_PASSPHRASE set.
struct Pitool {
    std::filesystem::path vault;
    std::string passphrase = "Robust-PASSPHRASE-8c1e-wombat";
    std::map<std::string, std::string> env; ///< extra for every run

    [[nodiscard]] Spawn spec(const std::vector<std::string>& args, const std::string& in = {}) const;
    Proc run(const std::vector<std::string>& args, const std::string& in = {},
             const std::map<std::string, std::string>& extra_env = {}) const;
    /// Throws unless exit 0.
    Proc ok(const std::vector<std::string>& args, const std::string& in = {},
            const std::map<std::string, std::string>& extra_env = {}) const;
    /// `init` at `vault`, then cheapen_vault(): a fresh vault that opens fast.
    void init_cheap() const;
};

/// A random PIT-shaped token.
std::string random_pit(std::mt19937_64& rng);

/// A loopback TCP listener run on a thread by the test itself: accepts and
/// answers with `reply` (raw bytes, may be empty = never answer, keep open).
class RawServer {
public:
    explicit RawServer(std::string reply, bool close_after_reply = true);
    ~RawServer();
    RawServer(const RawServer&) = delete;
    RawServer& operator=(const RawServer&) = delete;
    [[nodiscard]] int port() const { return m_port; }
    [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }
    [[nodiscard]] int accepted() const;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
    int m_port = 0;
};

/// Waits until the server listening on loopback `port` has finished with
/// every connection made to it: no socket on that local port is
/// ESTABLISHED, SYN_RECV or CLOSE_WAIT (/proc/net/tcp, tcp6). A server that
/// closes a connection only after handling its request (pitool-sandbox does)
/// has then handled every request a killed client managed to send. Polls the
/// kernel's table; `guard` is only a loose bound. False if it ran out.
bool wait_until_served(int port, std::chrono::seconds guard = std::chrono::seconds(30));

/// True when the test may use mount namespaces (root + unshare works).
bool can_unshare_mounts();

/// Count of leftover atomic-write temporaries (".vault.tmp.*", "*.bak.new") in dir.
int stray_temp_files(const std::filesystem::path& dir);

} // namespace pitool::robust
