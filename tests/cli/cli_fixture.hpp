#pragma once
// Shared fixture for the black-box CLI tests: runs the real pitool binary
// (PITOOL_BIN) on a vault in a fresh temporary directory, with a known
// passphrase in the environment, optionally at a frozen fake time.
//
// Secrets used by the suites are distinctive strings so that a leak is found
// by a plain substring search of outputs and files. Tests never put a token,
// client secret or passphrase in pitool's argv: CliTest::pitool() fails the
// test if one does. That pitool itself puts none in any argv (its own, the
// `exec` child's, the agent's) is checked by SecretsTest on the running
// processes.
//
// Every run gets the one test environment (support/process.hpp child_env):
// HOME, XDG_*, TMPDIR and the agent socket inside the test's directory.

#include "support/process.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace pitool::test {

inline constexpr std::string_view k_passphrase = "PassPhrase-WOMBAT-5e1c7e-vault";
/// A planted PIT in the shape providers issue (pit-<uuid>).
inline constexpr std::string_view k_token = "pit-5ec12e75-bead-4c0d-9e7f-0defacedcafe";
inline constexpr std::string_view k_token2 = "pit-c0ffee00-fade-4bad-8a55-5ecdeadbeef2";
inline constexpr std::string_view k_client_secret = "ClientSecret-PANGOLIN-7d9e2b-3f";

/// Instants for the frozen fake clock (UTC): T is the rotation instant.
inline constexpr const char* k_t0 = "2026-01-01 00:00:00";
inline constexpr const char* k_t0_rfc = "2026-01-01T00:00:00Z";

/// How one pitool invocation is run.
// Members have default initializers so designated initializers may omit them
// without -Wmissing-field-initializers.
struct Call {
    std::string stdin_data{};
    /// Extra environment on top of the fixture's (may override it).
    std::map<std::string, std::string> env{};
    /// Frozen fake time "YYYY-MM-DD hh:mm:ss" (UTC) through libfaketime; empty: real time.
    std::string at{};
    /// Leave PITOOL_PASSPHRASE unset.
    bool no_passphrase = false;
    /// Leave out "--vault PATH".
    bool no_vault_flag = false;
    /// Programs to run pitool through, e.g. {"/usr/bin/faketime", "+91 days"}.
    std::vector<std::string> wrapper{};
    int timeout_seconds = 30;
};

/// "exit N / stdout / stderr" for failure messages.
std::string describe(const RunResult& r);

/// True if `s` is one line: non-empty, ends with '\n', no other newline.
bool one_line(const std::string& s);

/// True if `s` is an RFC 3339 UTC timestamp (…Z).
bool rfc3339_utc(const nlohmann::json& s);

/// user@host as pitool records it in the history.
std::string expected_actor();

/// `import` input: `count` LeadConnector location PITs named n0000, n0001…,
/// token i being pit-00000000-0000-4000-8000-<i as 12 digits>.
std::string numbered_pit_lines(int count);

class CliTest : public ::testing::Test {
protected:
    CliTest();

    /// Runs PITOOL_BIN --vault <vault> ARGS... .
    RunResult pitool(const std::vector<std::string>& args, const Call& call = {}) const;
    /// Like pitool() but throws (failing the test) unless the exit code is 0.
    RunResult ok(const std::vector<std::string>& args, const Call& call = {}) const;
    /// Parses stdout of a successful call as JSON.
    nlohmann::json ok_json(const std::vector<std::string>& args, const Call& call = {}) const;

    /// init --kdf interactive.
    void init_vault(const std::string& at = {}) const;
    /// A location-level PIT named `name` holding `token` (from stdin).
    void create_pit(const std::string& name, std::string_view token, const std::string& at = {}) const;
    /// rotate NAME --token-stdin (rotate-and-expire-later).
    void rotate(const std::string& name, std::string_view token, const std::string& at = {}) const;

    [[nodiscard]] std::string vault_bytes() const;
    /// The vault's data file (vault.data-<id>): exactly one must exist.
    [[nodiscard]] std::filesystem::path data_file() const;
    [[nodiscard]] nlohmann::json events(const std::string& name = {}, const std::string& at = {}) const;

    TempDir m_tmp;
    std::filesystem::path m_dir;   ///< the vault's directory (created by init)
    std::filesystem::path m_vault; ///< the vault file
};

} // namespace pitool::test
