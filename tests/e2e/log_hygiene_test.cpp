// What -v and -vv say, what the agent's own log says, and that no planted
// secret (passphrase, tokens, client secrets, codes) reaches either at any
// level. Every run's stdout and stderr is scanned by the fixture's
// check_hygiene() at TearDown; the agent's log file is scanned here.

#include "e2e_support.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace pitool::e2e {
namespace {

namespace fs = std::filesystem;

bool mentions(const std::string& text, const std::string& what)
{
    return text.find(what) != std::string::npos;
}

class LogHygiene : public E2E {
protected:
    void SetUp() override
    {
        E2E::SetUp();
        if (HasFatalFailure()) return;
        m_socket = (dir() / "agent" / "agent.sock").string();
    }

    void TearDown() override
    {
        pit({"lock", "-q"}, with_agent());
        if (fs::exists(agent_log())) check_hygiene({{"agent.log", pitool::test::read_file(agent_log())}});
        E2E::TearDown();
    }

    /// This test's agent socket and state directory (so its log is here).
    [[nodiscard]] How with_agent(How how = {}) const
    {
        how.env["PITOOL_AGENT_SOCKET"] = m_socket;
        how.env["XDG_STATE_HOME"] = (dir() / "state").string();
        return how;
    }

    [[nodiscard]] fs::path agent_log() const { return dir() / "state" / "pitool" / "agent.log"; }

    /// The agent's log so far. The agent writes an event before it answers
    /// the request that caused it, so a finished pitool run's events are in.
    [[nodiscard]] std::string agent_log_text() const
    {
        return fs::exists(agent_log()) ? pitool::test::read_file(agent_log()) : std::string();
    }

    /// Waits until the agent's log mentions `what`, for events no request
    /// answers (a key expiring). The bound is a loose guard only.
    bool log_mentions_soon(const std::string& what)
    {
        const auto t0 = std::chrono::steady_clock::now();
        while (std::chrono::steady_clock::now() - t0 < std::chrono::seconds(20)) {
            if (fs::exists(agent_log()) && mentions(pitool::test::read_file(agent_log()), what)) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return false;
    }

    std::string m_socket;
};

TEST_F(LogHygiene, VerboseSaysWhichVaultPassphraseSourceKdfAndLock)
{
    How no_agent;
    no_agent.env["PITOOL_NO_AGENT"] = "1";
    store_pit("crm", "LOC1", {"locations.readonly"});
    auto r = pit_expect(0, {"-v", "show", "crm"}, no_agent);
    EXPECT_TRUE(mentions(r.err, "pitool: debug: vault: " + vault().string() + " (from $PITOOL_VAULT)")) << r.err;
    EXPECT_TRUE(mentions(r.err, "pitool: debug: passphrase: taken from $PITOOL_PASSPHRASE")) << r.err;
    EXPECT_TRUE(mentions(r.err, "pitool: debug: kdf: Argon2id interactive (ops ")) << r.err;
    EXPECT_TRUE(mentions(r.err, "pitool: debug: agent: not asked (PITOOL_NO_AGENT is set)")) << r.err;

    auto pass_file = dir() / "pass";
    How from_file = no_agent;
    from_file.env["PITOOL_PASSPHRASE_FILE"] = pass_file.string();
    pitool::test::write_file(pass_file, "wrong-but-never-shown\n");
    plant("wrong-but-never-shown");
    r = pit({"-v", "show", "crm"}, from_file);
    EXPECT_TRUE(mentions(r.err, "passphrase: read from the file " + pass_file.string() + " ($PITOOL_PASSPHRASE_FILE)"))
        << r.err;

    // A write says how long it waited for the lock.
    r = pit_expect(0, {"-v", "delete", "crm", "--yes"}, no_agent);
    EXPECT_TRUE(mentions(r.err, "pitool: debug: lock: holding the vault's write lock after waiting ")) << r.err;

    // Without -v: none of it.
    r = pit_expect(0, {"list"}, no_agent);
    EXPECT_FALSE(mentions(r.err, "debug")) << r.err;
    // -q wins over -v.
    r = pit_expect(0, {"-q", "-v", "list"}, no_agent);
    EXPECT_EQ(r.err, "");
}

TEST_F(LogHygiene, VerboseShowsRetriesAndBackOffButOnlyVeryVerboseTracesHttp)
{
    store_pit("crm", "LOC1", {"locations.readonly"});
    sb().fault({{"kind", "status"}, {"status", 503}, {"count", 1}, {"path_prefix", "/locations"}});
    auto r = pit_expect(0, {"-v", "test-call", "crm"});
    EXPECT_TRUE(mentions(r.err, "pitool: debug: http: status 503 from 127.0.0.1 (attempt 1/4), retrying in ")) << r.err;
    EXPECT_FALSE(mentions(r.err, "http: >")) << r.err;

    r = pit_expect(0, {"-vv", "test-call", "crm"});
    EXPECT_TRUE(mentions(r.err, "pitool: trace: http: > GET ")) << r.err;
    EXPECT_TRUE(mentions(r.err, "pitool: trace: http: > Authorization: Bearer [redacted]")) << r.err;
    EXPECT_TRUE(mentions(r.err, "pitool: debug: vault: ")) << "-vv lost the -v lines: " << r.err;
}

TEST_F(LogHygiene, NoSecretAtAnyLevelAcrossCommands)
{
    // Tokens of every kind, exchanged, refreshed and called at -v and -vv;
    // TearDown scans every output and the agent's log for the planted values.
    store_pit("crm", "LOC1", {"locations.readonly", "contacts.write"});
    oauth_token("oauth", "LOC1");
    const std::string partner_id = store_partner("acme");
    for (const char* level : {"-v", "-vv"}) {
        pit_expect(0, {level, "test-call", "crm"});
        pit_expect(0, {level, "test-call", "crm", "--path", "/contacts/", "--data",
                       R"({"firstName":"John","locationId":"LOC1"})"});
        pit_expect(0, {level, "refresh", "oauth"});
        pit_expect(0, {level, "test-call", "oauth"});
        pit_expect(0, {level, "show", "oauth"});
        pit_expect(0, {level, "--json", "list"});
        pit_expect(0, {level, "audit"});
        pit_expect(0, {level, "history"});
        How token_out;
        token_out.reveals_token = true;
        pit_expect(0, {level, "get", "crm"}, token_out);
        How how;
        how.in = mint_hint_code(partner_id) + "\n";
        const std::string practice = std::string("joes") + (level[2] == 'v' ? "2" : "1");
        pit_expect(
            0, {level, "exchange-code", "--provider", "hint", "--partner", "acme", "--name", practice, "--code-stdin"},
            how);
        plant(get_token(practice));
        pit_expect(0, {level, "test-call", practice});
    }
    // The agent: unlocked at -vv, read through it, locked.
    pit_expect(0, {"-vv", "unlock", "--ttl", "1h"}, with_agent());
    How via_agent = with_agent();
    via_agent.env["PITOOL_PASSPHRASE"] = "";
    via_agent.reveals_token = true;
    auto r = pit_expect(0, {"-vv", "get", "crm"}, via_agent);
    EXPECT_TRUE(mentions(r.err, "agent: opened the vault with the key held at " + m_socket)) << r.err;
    pit_expect(0, {"-vv", "lock"}, with_agent());
    ASSERT_TRUE(mentions(agent_log_text(), "told to stop")) << agent_log_text();
}

TEST_F(LogHygiene, TheAgentLogsItsEventsToAPrivateFile)
{
    ASSERT_FALSE(fs::exists(agent_log()));
    auto r = pit_expect(0, {"-v", "unlock", "--ttl", "1h"}, with_agent());
    EXPECT_TRUE(mentions(r.err, "agent: a new agent logs its events to " + agent_log().string())) << r.err;
    ASSERT_TRUE(mentions(agent_log_text(), "holding the key for")) << "no agent log at " << agent_log();
    struct stat st {};
    ASSERT_EQ(::stat(agent_log().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600U);
    ASSERT_EQ(::stat(agent_log().parent_path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0077, 0U) << "the log directory is open to others";
    std::string log = pitool::test::read_file(agent_log());
    EXPECT_TRUE(mentions(log, "[info] started (pid ")) << log;
    EXPECT_TRUE(mentions(log, "listening on " + m_socket)) << log;
    EXPECT_TRUE(mentions(log, "holding the key for " + fs::weakly_canonical(vault()).string() +
                                  " (lifetime 3600 s, idle timeout 900 s)"))
        << log;

    // A refusal: a malformed request on the socket.
    {
        int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ASSERT_GE(fd, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", m_socket.c_str());
        ASSERT_EQ(::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
        const unsigned char frame[] = {1, 0, 0, 0, 0x7f}; // length 1, an unknown operation
        ASSERT_EQ(::write(fd, frame, sizeof frame), static_cast<ssize_t>(sizeof frame));
        char reply[16];
        (void)!::read(fd, reply, sizeof reply); // the agent answers (bad request) before the next one
        ::close(fd);
    }
    EXPECT_TRUE(mentions(agent_log_text(), "[warning] refused a malformed request")) << agent_log_text();

    // Re-unlocking replaces the key; lock stops the agent.
    pit_expect(0, {"unlock", "--ttl", "2h"}, with_agent());
    EXPECT_TRUE(mentions(agent_log_text(), "replaced the key for")) << agent_log_text();
    pit_expect(0, {"lock"}, with_agent());
    EXPECT_TRUE(mentions(agent_log_text(), "told to stop: forgetting 1 key")) << agent_log_text();
}

TEST_F(LogHygiene, TheAgentLogsExpiry)
{
    pit_expect(0, {"unlock", "--ttl", "1s"}, with_agent());
    EXPECT_TRUE(
        log_mentions_soon("forgot the key for " + fs::weakly_canonical(vault()).string() + " (its lifetime ended)"))
        << pitool::test::read_file(agent_log());
    EXPECT_TRUE(log_mentions_soon("holding no key any more: exiting"));
}

} // namespace
} // namespace pitool::e2e
