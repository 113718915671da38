// The agent end to end: the real pitool starts a real agent (one per test,
// on a socket in the test's own directory), and later runs find their key
// there instead of asking for the passphrase.

#include "e2e_support.hpp"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <thread>

namespace pitool::e2e {
namespace {

/// The passphrase-needed error of a run that has none.
constexpr const char* k_no_passphrase = "no passphrase";

std::string read_proc(const std::string& path)
{
    // The process may exit while we read: libstdc++ then throws from underflow (ESRCH).
    try {
        std::ifstream in(path, std::ios::binary);
        return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    } catch (const std::exception&) {
        return {};
    }
}

class AgentE2E : public E2E {
protected:
    void SetUp() override
    {
        E2E::SetUp();
        m_socket = (dir() / "agent" / "agent.sock").string();
    }

    void TearDown() override
    {
        // Whatever happened, no agent of this test outlives it: lock through
        // this test's own socket (never the machine's default agent), then
        // kill whatever still serves it.
        ap({"lock", "-q"}, false);
        for (long pid : agent_pids()) ::kill(static_cast<pid_t>(pid), SIGKILL);
        E2E::TearDown();
    }

    /// pitool with this test's agent socket; `with_passphrase` false leaves none.
    RunResult ap(const std::vector<std::string>& args, bool with_passphrase = true, How how = {})
    {
        how.env["PITOOL_AGENT_SOCKET"] = m_socket;
        if (!with_passphrase) how.env["PITOOL_PASSPHRASE"] = "";
        return pit(args, how);
    }
    RunResult ap_expect(int code, const std::vector<std::string>& args, bool with_passphrase = true, How how = {})
    {
        auto r = ap(args, with_passphrase, how);
        std::string label;
        for (const auto& a : args) label += a + " ";
        EXPECT_EQ(r.exit_code, code) << "pitool " << label << "\nstdout: " << r.out << "\nstderr: " << r.err;
        return r;
    }
    /// `get NAME` without a passphrase; the token is its stdout.
    RunResult get_unlocked(const std::string& name, int expect = 0)
    {
        How how;
        how.reveals_token = true;
        return ap_expect(expect, {"get", name}, false, how);
    }

    /// Pids of agent processes serving this test's socket (found by their argv).
    [[nodiscard]] std::vector<long> agent_pids() const
    {
        std::vector<long> out;
        DIR* d = ::opendir("/proc");
        if (d == nullptr) return out;
        while (dirent* e = ::readdir(d)) {
            char* end = nullptr;
            long pid = std::strtol(e->d_name, &end, 10);
            if (pid <= 0 || *end != '\0') continue;
            std::string cmd = read_proc("/proc/" + std::string(e->d_name) + "/cmdline");
            if (cmd.find(std::string("__agent") + '\0') != std::string::npos && cmd.find(m_socket) != std::string::npos)
                out.push_back(pid);
        }
        ::closedir(d);
        return out;
    }

    json agent_status()
    {
        auto r = ap_expect(0, {"unlock", "--status", "--json"}, false);
        return parsed(r);
    }

    std::string m_socket;
};

TEST_F(AgentE2E, UnlockOnceThenNoPassphraseUntilLock)
{
    store_pit("acme", "LOC1", {"contacts.readonly"});
    const std::string token = get_token("acme");
    // Locked: without a passphrase nothing opens.
    auto r = get_unlocked("acme", 2);
    EXPECT_NE(r.err.find(k_no_passphrase), std::string::npos) << r.err;

    r = ap_expect(0, {"unlock", "--ttl", "1h"});
    EXPECT_NE(r.out.find("Unlocked"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(" for 1h (locks after 15m unused; `pitool lock` to lock now)\n"), std::string::npos) << r.out;
    r = get_unlocked("acme");
    EXPECT_EQ(r.out, token + "\n");
    // Writes work too (the locked read-modify-write cycle, fed by the agent's key).
    store_pit("beta", "LOC2", {"contacts.readonly"}); // with the passphrase
    ap_expect(0, {"delete", "beta", "--yes"}, false);
    ap_expect(3, {"show", "beta"}, false);
    ap_expect(0, {"list"}, false);

    auto st = agent_status();
    EXPECT_EQ(st["agent_running"], true);
    EXPECT_EQ(st["unlocked"], true);
    ASSERT_EQ(st["keys"].size(), 1u);
    EXPECT_GT(st["keys"][0]["expires_in_s"].get<long long>(), 3000);

    r = ap_expect(0, {"lock"}, false);
    EXPECT_NE(r.err.find("forgot 1 key"), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
    r = get_unlocked("acme", 2);
    EXPECT_NE(r.err.find(k_no_passphrase), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(m_socket));
    EXPECT_EQ(agent_status()["agent_running"], false);

    // lock with nothing running: fine, and says so unless -q.
    r = ap_expect(0, {"lock"}, false);
    EXPECT_NE(r.err.find("no agent was running"), std::string::npos) << r.err;
    r = ap_expect(0, {"lock", "-q"}, false);
    EXPECT_TRUE(r.err.empty()) << r.err;
}

TEST_F(AgentE2E, UnlockNeedsThePassphraseEvenWhileUnlocked)
{
    // A lifetime shorter than the idle limit: the idle limit is not mentioned.
    EXPECT_NE(ap_expect(0, {"unlock", "--ttl", "5m"}).out.find(" for 5m (`pitool lock` to lock now)\n"),
              std::string::npos);
    // Re-unlocking (extending the ttl) and passwd never accept the agent's key instead.
    auto r = ap_expect(2, {"unlock", "--ttl", "1d"}, false);
    EXPECT_NE(r.err.find(k_no_passphrase), std::string::npos) << r.err;
    How how;
    how.env["PITOOL_NEW_PASSPHRASE"] = plant("new-" + random_hex(24));
    r = ap_expect(2, {"passwd"}, false, how);
    EXPECT_NE(r.err.find(k_no_passphrase), std::string::npos) << r.err;
    // A wrong passphrase does not unlock.
    How wrong;
    wrong.env["PITOOL_PASSPHRASE"] = plant("wrong-" + random_hex(16));
    ap_expect(5, {"unlock"}, true, wrong);
}

TEST_F(AgentE2E, PasswdHandsTheAgentTheNewKeyWithTheOldLimits)
{
    // passwd makes a new data key: the agent's old key would no longer open
    // the vault, and the next command would ask for a passphrase the user
    // thought unlock had made unnecessary. passwd gives the agent the new
    // key, for no longer than the old one had left.
    store_pit("acme", "LOC1", {"contacts.readonly"});
    const std::string token = get_token("acme");
    ap_expect(0, {"unlock", "--ttl", "1h", "--idle", "10m"});
    How how;
    const std::string fresh = plant("new-" + random_hex(24));
    how.env["PITOOL_NEW_PASSPHRASE"] = fresh;
    auto r = ap_expect(0, {"passwd"}, true, how);
    EXPECT_NE(r.out.find("the agent now holds the new key"), std::string::npos) << r.out;

    r = get_unlocked("acme");
    EXPECT_EQ(r.out, token + "\n");
    // Writes too, with no passphrase at all.
    How rotate;
    rotate.in = plant("pit-" + random_hex(8) + "-0000-4000-8000-" + random_hex(12));
    ap_expect(0, {"rotate", "acme", "--now", "--token-stdin"}, false, rotate);
    auto st = agent_status();
    ASSERT_EQ(st["keys"].size(), 1u);
    EXPECT_LE(st["keys"][0]["expires_in_s"].get<long long>(), 3600) << "the old lifetime stands";
    EXPECT_LE(st["keys"][0]["idle_left_s"].get<long long>(), 600) << "the old idle timeout stands";
    // The old passphrase opens nothing any more; the new one does.
    How old_pass;
    old_pass.env["PITOOL_NO_AGENT"] = "1";
    ap_expect(5, {"list"}, true, old_pass);
    old_pass.env["PITOOL_PASSPHRASE"] = fresh;
    ap_expect(0, {"list"}, true, old_pass);

    // A vault the agent does not hold stays locked: passwd does not unlock it.
    ap_expect(0, {"lock"}, false);
    How back;
    back.env["PITOOL_PASSPHRASE"] = fresh;
    back.env["PITOOL_NEW_PASSPHRASE"] = plant("newer-" + random_hex(24));
    r = ap_expect(0, {"--json", "passwd"}, true, back);
    EXPECT_EQ(parsed(r)["agent_key_replaced"], false) << r.out;
    r = get_unlocked("acme", 2);
    EXPECT_NE(r.err.find(k_no_passphrase), std::string::npos) << r.err;
}

TEST_F(AgentE2E, NoAgentEnvForcesThePassphrase)
{
    store_pit("acme", "LOC1", {"contacts.readonly"});
    ap_expect(0, {"unlock"});
    How how;
    how.reveals_token = true;
    how.env["PITOOL_NO_AGENT"] = "1";
    auto r = ap_expect(2, {"get", "acme"}, false, how);
    EXPECT_NE(r.err.find(k_no_passphrase), std::string::npos) << r.err;
    get_unlocked("acme");
}

TEST_F(AgentE2E, ConcurrentUnlocksEndWithOneAgent)
{
    constexpr int k_runs = 4;
    std::vector<RunResult> results(k_runs);
    {
        std::vector<std::thread> threads;
        // pit() records into the fixture: run the raw binary here and record after.
        for (int i = 0; i < k_runs; ++i)
            threads.emplace_back([&, i] {
                RunOptions o;
                o.env = base_env();
                o.env["PITOOL_AGENT_SOCKET"] = m_socket;
                results[static_cast<std::size_t>(i)] = pitool::test::run({PITOOL_BIN, "unlock"}, o);
            });
        for (auto& t : threads) t.join();
    }
    for (const auto& r : results) {
        EXPECT_EQ(r.exit_code, 0) << r.err;
        check_hygiene({{"concurrent unlock (stdout)", r.out}, {"concurrent unlock (stderr)", r.err}});
    }
    auto pids = agent_pids();
    EXPECT_EQ(pids.size(), 1u);
    auto st = agent_status();
    ASSERT_EQ(st["agent_running"], true);
    ASSERT_FALSE(pids.empty());
    EXPECT_EQ(st["pid"].get<long>(), pids.front());
    EXPECT_EQ(st["keys"].size(), 1u);
}

TEST_F(AgentE2E, StaleSocketIsReplaced)
{
    ap_expect(0, {"unlock"});
    auto pids = agent_pids();
    ASSERT_EQ(pids.size(), 1u);
    ::kill(static_cast<pid_t>(pids.front()), SIGKILL); // leaves its socket behind
    for (int i = 0; i < 200 && std::filesystem::exists("/proc/" + std::to_string(pids.front())); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_TRUE(std::filesystem::exists(m_socket));
    ap_expect(0, {"unlock"});
    EXPECT_EQ(agent_status()["unlocked"], true);
}

TEST_F(AgentE2E, WrongKeyFallsBackToThePassphrase)
{
    store_pit("acme", "LOC1", {"contacts.readonly"});
    ap_expect(0, {"unlock"});
    // Another vault (same passphrase, another data key) takes this one's place.
    How other;
    other.env["PITOOL_VAULT"] = (dir() / "other").string();
    ap_expect(0, {"init", "--kdf", "interactive"}, true, other);
    // A vault is its file and its data file (vault.data-<id>): move both.
    std::filesystem::rename(dir() / "other", vault());
    for (const auto& e : std::filesystem::directory_iterator(dir().path())) {
        const std::string name = e.path().filename().string();
        if (name.rfind("other.data-", 0) == 0)
            std::filesystem::rename(e.path(), vault().string() + name.substr(std::string("other").size()));
    }

    // The agent's key no longer fits: with a passphrase it still works...
    ap_expect(3, {"show", "acme"});
    ap_expect(0, {"list"});
    store_pit("beta", "LOC2", {"contacts.readonly"}); // a write
    // ...and without one it asks for it, as if locked.
    auto r = ap_expect(2, {"list"}, false);
    EXPECT_NE(r.err.find(k_no_passphrase), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("agent"), std::string::npos) << r.err; // silent fallback
}

TEST_F(AgentE2E, UnsafeSocketDirectoryIsRefused)
{
    std::filesystem::create_directory(dir() / "agent");
    ::chmod((dir() / "agent").c_str(), 0755);
    auto r = ap_expect(10, {"unlock"});
    EXPECT_NE(r.err.find("refusing"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(agent_pids().empty());
}

TEST_F(AgentE2E, IdleTimeoutLocksAndTheAgentExits)
{
    store_pit("acme", "LOC1", {"contacts.readonly"});
    ap_expect(0, {"unlock", "--idle", "2s"});
    get_unlocked("acme");
    // --status does not count as use: wait (generously) for the idle timeout.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline && agent_status()["agent_running"] == true)
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
    EXPECT_EQ(agent_status()["agent_running"], false);
    while (std::chrono::steady_clock::now() < deadline && !agent_pids().empty())
        std::this_thread::sleep_for(std::chrono::milliseconds(50)); // it removes its socket just before exiting
    EXPECT_TRUE(agent_pids().empty());
    auto r = get_unlocked("acme", 2);
    EXPECT_NE(r.err.find(k_no_passphrase), std::string::npos) << r.err;
}

TEST_F(AgentE2E, UsageErrors)
{
    ap_expect(2, {"unlock", "--ttl", "0"});
    ap_expect(2, {"unlock", "--ttl", "soon"});
    ap_expect(2, {"unlock", "--idle", "-5m"});
    How how;
    how.env["PITOOL_AGENT_IDLE"] = "never";
    ap_expect(2, {"unlock"}, true, how);
    EXPECT_TRUE(agent_pids().empty());
}

TEST_F(AgentE2E, NoSecretInOutputsArgvEnvironmentOrSocketDirectory)
{
    store_pit("acme", "LOC1", {"contacts.readonly"});
    const std::string token = get_token("acme");
    ap_expect(0, {"unlock"});
    ap_expect(0, {"unlock", "--status"}, false);
    ap_expect(0, {"--json", "unlock", "--status"}, false);
    get_unlocked("acme");
    ap_expect(0, {"-v", "list"}, false);
    ap_expect(0, {"-v", "show", "acme"}, false);

    auto pids = agent_pids();
    ASSERT_EQ(pids.size(), 1u);
    const std::string proc = "/proc/" + std::to_string(pids.front());
    std::vector<std::pair<std::string, std::string>> extra;
    extra.emplace_back("agent cmdline", read_proc(proc + "/cmdline"));
    std::string environ = read_proc(proc + "/environ");
    extra.emplace_back("agent environ", environ);
    EXPECT_EQ(environ.find("PITOOL_"), std::string::npos) << "the agent inherited pitool's environment";
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir() / "agent")) {
        struct stat st {};
        ASSERT_EQ(::lstat(e.path().c_str(), &st), 0);
        EXPECT_EQ(st.st_mode & 077, 0u) << e.path();
        if (S_ISREG(st.st_mode)) extra.emplace_back(e.path().string(), read_proc(e.path().string()));
    }
    check_hygiene(extra);
    ap_expect(0, {"lock"}, false);
}

} // namespace
} // namespace pitool::e2e
