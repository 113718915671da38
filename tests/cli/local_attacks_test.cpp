// What a hostile review found on the local machine (issue 12), through the
// real binary: an agent unlock stretched by a later store or past a day, a
// vault directory others control, a passphrase file others can read, an
// undo that broke the vault after its rename, a verify that ran out of
// guarded memory at scale or ignored a wrong passphrase while unlocked.
#include "cli/cli_fixture.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace pitool::test {
namespace {

namespace fs = std::filesystem;
constexpr auto npos = std::string::npos;

class LocalAttacks : public CliTest {
protected:
    void SetUp() override { init_vault(); }
    // No agent of this test outlives it.
    void TearDown() override { pitool({"lock", "-q"}, with_agent()); }

    /// This test's agent socket, in its private temporary directory.
    [[nodiscard]] Call with_agent(Call call = {}) const
    {
        call.env["PITOOL_AGENT_SOCKET"] = (m_tmp / "agent" / "agent.sock").string();
        return call;
    }
    void create(const std::string& name, std::string_view token, Call call = {}) const
    {
        call.stdin_data = std::string(token);
        ok({"create", name, "--provider", "leadconnector", "--location", "loc-1", "--token-stdin"}, call);
    }
    [[nodiscard]] long long expires_in() const
    {
        auto st = ok_json({"unlock", "--status", "--json"}, with_agent());
        EXPECT_EQ(st["keys"].size(), 1u) << st.dump();
        return st["keys"].empty() ? -1 : st["keys"][0]["expires_in_s"].get<long long>();
    }
};

TEST_F(LocalAttacks, UnlockAboveTheAgentsDayIsUsage)
{
    auto r = pitool({"unlock", "--ttl", "25h"}, with_agent());
    EXPECT_EQ(r.exit_code, 2) << describe(r);
    EXPECT_TRUE(one_line(r.err)) << describe(r);
    EXPECT_NE(r.err.find("at most 24h"), npos) << describe(r);
    r = pitool({"unlock", "--ttl", "3650d"}, with_agent());
    EXPECT_EQ(r.exit_code, 2) << describe(r);
    ok({"unlock", "--ttl", "24h"}, with_agent());
    EXPECT_LE(expires_in(), 24 * 3600);
}

TEST_F(LocalAttacks, ALaterUnlockNeverExtendsAnEarlierOne)
{
    ok({"unlock", "--ttl", "2m"}, with_agent());
    auto r = ok({"unlock", "--ttl", "1h"}, with_agent());
    EXPECT_NE(r.out.find("shorter limit stands"), npos) << describe(r);
    EXPECT_LE(expires_in(), 120);
    auto j = ok_json({"unlock", "--ttl", "2h", "--json"}, with_agent());
    EXPECT_LE(j["ttl_s"].get<long long>(), 120) << j.dump();
    EXPECT_EQ(j["kept_earlier_limit"], true) << j.dump();
    // lock, then a new unlock may be longer.
    ok({"lock"}, with_agent());
    ok({"unlock", "--ttl", "1h"}, with_agent());
    EXPECT_GT(expires_in(), 3000);
}

TEST_F(LocalAttacks, DefaultAgentSocketIsInTheUsersOwnDirectory)
{
    // No PITOOL_AGENT_SOCKET, no XDG_RUNTIME_DIR: under HOME, never /tmp.
    const fs::path home = m_tmp / "home";
    fs::create_directory(home);
    // Empty values count as unset (the test environment sets both).
    const Call c{.env = {{"HOME", home.string()}, {"PITOOL_AGENT_SOCKET", ""}, {"XDG_RUNTIME_DIR", ""}}};
    ok({"unlock", "--ttl", "1m"}, c);
    const fs::path dir = home / ".cache" / "pitool-agent";
    struct stat st {};
    EXPECT_EQ(::lstat((dir / "agent.sock").c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    ASSERT_EQ(::lstat(dir.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0700u);
    EXPECT_EQ(st.st_uid, ::geteuid());
    auto s = ok_json({"unlock", "--status", "--json"}, c);
    EXPECT_EQ(s["unlocked"], true) << s.dump();
    ok({"lock", "-q"}, c);
}

TEST_F(LocalAttacks, VaultDirectoryWritableByOthersRefusesWritesAndWarnsReads)
{
    create("acme", k_token);
    const std::string before = vault_bytes();
    ASSERT_EQ(::chmod(m_dir.c_str(), 0770), 0);
    auto r = pitool({"create", "beta", "--provider", "leadconnector", "--location", "loc-1", "--token-stdin"},
                    {.stdin_data = std::string(k_token2)});
    EXPECT_EQ(r.exit_code, 10) << describe(r);
    EXPECT_TRUE(one_line(r.err)) << describe(r);
    EXPECT_NE(r.err.find("chmod go-w " + m_dir.string()), npos) << describe(r);
    EXPECT_EQ(vault_bytes(), before);

    r = ok({"list"});
    EXPECT_TRUE(one_line(r.err)) << describe(r);
    EXPECT_NE(r.err.find("warning"), npos) << describe(r);
    EXPECT_NE(r.err.find("writable by group or others"), npos) << describe(r);
    // verify applies the same rule.
    r = pitool({"verify", "--json"});
    EXPECT_EQ(r.exit_code, 6) << describe(r);
    EXPECT_NE(r.out.find("chmod go-w"), npos) << describe(r);

    ASSERT_EQ(::chmod(m_dir.c_str(), 0755), 0); // readable is fine: the files are 0600
    create("beta", k_token2);
    r = ok({"verify"});
    EXPECT_TRUE(r.err.empty()) << describe(r);
}

TEST_F(LocalAttacks, VaultDirectoryOwnedByAnotherUserRefusesWrites)
{
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to give the directory away";
    create("acme", k_token);
    ASSERT_EQ(::chown(m_dir.c_str(), 65534, 65534), 0);
    auto r = pitool({"delete", "acme", "--yes"});
    EXPECT_EQ(r.exit_code, 10) << describe(r);
    EXPECT_TRUE(one_line(r.err)) << describe(r);
    EXPECT_NE(r.err.find("chown " + std::to_string(::geteuid()) + " " + m_dir.string()), npos) << describe(r);
    r = ok({"show", "acme"});
    EXPECT_NE(r.err.find("owned by uid 65534"), npos) << describe(r);
    ASSERT_EQ(::chown(m_dir.c_str(), ::geteuid(), ::getegid()), 0);
    ok({"delete", "acme", "--yes"});
}

TEST_F(LocalAttacks, PassphraseFileReadableByOthersIsWarned)
{
    create("acme", k_token); // so that `list` prints no "nothing stored" note
    const fs::path file = m_tmp / "pass";
    std::ofstream(file) << k_passphrase << "\n";
    ASSERT_EQ(::chmod(file.c_str(), 0644), 0);
    const Call c{.env = {{"PITOOL_PASSPHRASE_FILE", file.string()}}, .no_passphrase = true};
    auto r = ok({"list"}, c);
    EXPECT_TRUE(one_line(r.err)) << describe(r);
    EXPECT_NE(r.err.find("passphrase file " + file.string() + " is readable by group or others"), npos) << describe(r);
    ASSERT_EQ(::chmod(file.c_str(), 0600), 0);
    r = ok({"list"}, c);
    EXPECT_TRUE(r.err.empty()) << describe(r);
}

TEST_F(LocalAttacks, DirectorySyncFailureAfterTheRenameKeepsTheWrite)
{
    // Every fsync of the vault directory fails (strace -P: only the calls
    // on that path). This write appends to the data file, so the first such
    // fsync is the one after the rename.
    create("acme", k_token);
    auto r = pitool({"create", "beta", "--provider", "leadconnector", "--location", "loc-1", "--token-stdin"},
                    {.stdin_data = std::string(k_token2),
                     // LeakSanitizer cannot run under ptrace: the ASan build's leak check is off for this run only.
                     .env = {{"ASAN_OPTIONS", "verify_asan_link_order=0:detect_leaks=0:abort_on_error=0"}},
                     .wrapper = {"/usr/bin/strace", "-f", "-qq", "-o", "/dev/null", "-P", m_dir.string(), "-e",
                                 "trace=fsync", "-e", "inject=fsync:error=EIO"}});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_NE(r.err.find("warning"), npos) << describe(r);
    EXPECT_NE(r.err.find("may not survive a crash"), npos) << describe(r);
    EXPECT_TRUE(one_line(r.err)) << describe(r);
    auto listed = ok_json({"list", "--json"});
    EXPECT_EQ(listed.size(), 2u) << listed.dump();
    ok({"verify"});
}

TEST_F(LocalAttacks, VerifyWhileUnlockedStillChecksAGivenPassphrase)
{
    create("acme", k_token);
    create("beta", k_token2); // a backup exists
    ok({"unlock", "--ttl", "5m"}, with_agent());
    Call wrong = with_agent({.env = {{"PITOOL_PASSPHRASE", "not-the-passphrase"}}});
    auto r = pitool({"verify"}, wrong);
    EXPECT_EQ(r.exit_code, 5) << describe(r);
    // Given none, the agent's key serves for the backup too.
    r = ok({"verify", "--json"}, with_agent({.no_passphrase = true}));
    EXPECT_NE(r.out.find("previous generation opens (1 integration"), npos) << describe(r);
    ok({"verify"}, with_agent());
}

TEST_F(LocalAttacks, VerifyReadsABackupOfTwentyThousandRecordsInBoundedMemory)
{
    std::string lines;
    for (int i = 0; i < 20'000; ++i) {
        char hex[9];
        std::snprintf(hex, sizeof hex, "%08x", static_cast<unsigned>(i));
        const std::string n = std::to_string(i);
        lines += R"({"name":"acme-location-)" + n +
                 R"(","provider":"leadconnector","kind":"pit","level":"location","account_id":"loc)" + n +
                 R"(","scopes":["contacts.readonly"],"created_at":"2026-09-01T00:00:00Z","secrets":{"token":"pit-)" +
                 hex + "-1c2d-4e5f-8a9b-0c1d2e3f4a5b\"}}\n";
    }
    ok({"import"}, {.stdin_data = lines, .timeout_seconds = 300});
    create("one-more", k_token); // vault.bak now names the 20,000
    auto r = ok({"verify", "--json"}, {.timeout_seconds = 300});
    EXPECT_NE(r.out.find("previous generation opens (20000 integrations"), npos) << describe(r);
    EXPECT_NE(r.out.find("tokens of 20001 integrations authenticated"), npos) << describe(r);
}

} // namespace
} // namespace pitool::test
