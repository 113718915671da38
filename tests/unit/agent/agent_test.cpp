#include "pitool/agent/agent.hpp"

#include "support/process.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>

namespace pitool::agent {
namespace {

namespace fs = std::filesystem;
using pitool::test::TempDir;
using namespace std::chrono_literals;

constexpr uid_t k_nobody = 65534;

Secret random_key()
{
    Secret k(32);
    randombytes_buf(k.data(), k.size());
    return k;
}

mode_t agent_mode_of(const fs::path& p)
{
    struct stat st {};
    EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
    return st.st_mode & 07777;
}

/// An agent served by a forked child of the test (its own process group,
/// dies with the test), stopped (then killed) on destruction.
class ChildAgent {
public:
    explicit ChildAgent(const fs::path& socket, Seconds grace = Seconds(30), std::optional<uid_t> as_uid = {})
        : m_socket(socket)
    {
        int ready[2];
        EXPECT_EQ(::pipe2(ready, O_CLOEXEC), 0);
        m_child = pitool::test::Child::fork([&] {
            ::close(ready[0]);
            if (as_uid && (::setgid(*as_uid) != 0 || ::setuid(*as_uid) != 0)) return 90;
            auto st = serve({socket, ready[1], grace});
            return st ? 0 : 91;
        });
        ::close(ready[1]);
        pollfd p{ready[0], POLLIN, 0};
        char c = 0;
        m_ready = ::poll(&p, 1, 20'000) == 1 && ::read(ready[0], &c, 1) == 1;
        ::close(ready[0]);
    }
    ~ChildAgent() { m_child.stop(10s); }
    ChildAgent(const ChildAgent&) = delete;
    ChildAgent& operator=(const ChildAgent&) = delete;

    [[nodiscard]] bool ready() const { return m_ready; }
    /// Waits for the agent to exit on its own; true if it did (with status 0).
    bool exits_within(std::chrono::seconds limit)
    {
        auto st = m_child.wait_for(limit);
        return st && WIFEXITED(*st) && WEXITSTATUS(*st) == 0;
    }
    [[nodiscard]] pid_t pid() const { return m_child.pid(); }

private:
    fs::path m_socket;
    pitool::test::Child m_child;
    bool m_ready = false;
};

class AgentTest : public ::testing::Test {
protected:
    TempDir m_tmp;
    fs::path m_dir = m_tmp / "agent";
    fs::path m_socket = m_dir / "agent.sock";
    fs::path m_vault = m_tmp / "vault";
    void SetUp() override { ASSERT_TRUE(prepare_socket_dir(m_dir)); }
};

TEST(AgentPaths, SocketPathPrefersOverrideThenOwnedRuntimeDirThenHome)
{
    EXPECT_EQ(socket_path("/x/y.sock", "/run/user/1", "/home/u"), fs::path("/x/y.sock"));
    TempDir runtime;
    EXPECT_EQ(socket_path(nullptr, runtime.path().c_str(), "/home/u"), runtime.path() / "pitool" / "agent.sock");
    // Never a predictable path in a shared directory another user could create first.
    const fs::path in_home = fs::path("/home/u") / ".cache" / "pitool-agent" / "agent.sock";
    EXPECT_EQ(socket_path("", "relative/dir", "/home/u"), in_home);
    EXPECT_EQ(socket_path(nullptr, (runtime.path() / "missing").c_str(), "/home/u"), in_home);
    // No usable HOME: the passwd entry's home.
    auto fallback = socket_path(nullptr, nullptr, "relative");
    EXPECT_EQ(fallback.filename(), "agent.sock");
    EXPECT_EQ(fallback.parent_path().filename(), "pitool-agent");
    EXPECT_TRUE(fallback.is_absolute()) << fallback;
    EXPECT_NE(fallback.string().rfind("/tmp/", 0), 0u) << fallback;
}

TEST(AgentSocketDir, MissingParentIsCreatedPrivate)
{
    TempDir t;
    ASSERT_TRUE(prepare_socket_dir(t / ".cache" / "pitool-agent"));
    EXPECT_EQ(agent_mode_of(t / ".cache"), 0700u);
    EXPECT_EQ(agent_mode_of(t / ".cache" / "pitool-agent"), 0700u);
}

TEST(AgentPaths, VaultIdIsCanonical)
{
    TempDir t;
    fs::create_directory(t / "d");
    fs::create_directory_symlink(t / "d", t / "link");
    EXPECT_EQ(vault_id(t / "link" / "vault"), vault_id(t / "d" / ".." / "d" / "vault"));
    EXPECT_EQ(vault_id(t / "d" / "vault"), (fs::canonical(t.path()) / "d" / "vault").string());
}

TEST(AgentSocketDir, CreatedPrivate)
{
    TempDir t;
    ASSERT_TRUE(prepare_socket_dir(t / "s"));
    EXPECT_EQ(agent_mode_of(t / "s"), 0700u);
    EXPECT_TRUE(prepare_socket_dir(t / "s")); // existing and private: fine
}

TEST(AgentSocketDir, RefusesGroupOrOtherAccess)
{
    TempDir t;
    fs::create_directory(t / "s");
    ::chmod((t / "s").c_str(), 0750);
    auto st = prepare_socket_dir(t / "s");
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, Errc::io);
    EXPECT_NE(st.error().message.find("mode 0750"), std::string::npos) << st.error().message;
    EXPECT_EQ(st.error().message.find('\n'), std::string::npos);
}

TEST(AgentSocketDir, RefusesSymlink)
{
    TempDir t;
    fs::create_directory(t / "real");
    ::chmod((t / "real").c_str(), 0700);
    fs::create_directory_symlink(t / "real", t / "s");
    auto st = prepare_socket_dir(t / "s");
    ASSERT_FALSE(st);
    EXPECT_NE(st.error().message.find("symlink"), std::string::npos) << st.error().message;
}

TEST(AgentSocketDir, RefusesNotADirectory)
{
    TempDir t;
    pitool::test::write_file(t / "s", "x");
    EXPECT_FALSE(prepare_socket_dir(t / "s"));
}

TEST(AgentSocketDir, RefusesAnotherOwner)
{
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a directory to another uid";
    TempDir t;
    fs::create_directory(t / "s");
    ::chmod((t / "s").c_str(), 0700);
    ASSERT_EQ(::chown((t / "s").c_str(), k_nobody, k_nobody), 0);
    auto st = prepare_socket_dir(t / "s");
    ASSERT_FALSE(st);
    EXPECT_NE(st.error().message.find("not by us"), std::string::npos) << st.error().message;
}

TEST_F(AgentTest, NoAgentIsNotFound)
{
    auto k = fetch_key(m_socket, m_vault);
    ASSERT_FALSE(k);
    EXPECT_EQ(k.error().code, Errc::not_found);
    EXPECT_EQ(agent::status(m_socket).error().code, Errc::not_found);
    EXPECT_EQ(stop(m_socket).error().code, Errc::not_found);
    EXPECT_EQ(put_key(m_socket, m_vault, random_key(), {}).error().code, Errc::not_found);
}

TEST_F(AgentTest, StaleSocketIsNotFound)
{
    {
        ChildAgent a(m_socket);
        ASSERT_TRUE(a.ready());
        ::kill(a.pid(), SIGKILL); // leaves its socket behind
    }
    ASSERT_TRUE(fs::exists(m_socket));
    EXPECT_EQ(fetch_key(m_socket, m_vault).error().code, Errc::not_found);
}

TEST_F(AgentTest, PutGetStatusStopRoundTrip)
{
    ChildAgent a(m_socket);
    ASSERT_TRUE(a.ready());
    EXPECT_EQ(agent_mode_of(m_socket) & 077, 0u);
    Secret key = random_key();
    ASSERT_TRUE(put_key(m_socket, m_vault, key, {Seconds(3600), Seconds(600)}));

    auto got = fetch_key(m_socket, m_vault);
    ASSERT_TRUE(got) << got.error().message;
    EXPECT_TRUE(got->equals(key));
    // Another spelling of the same path is the same vault; another vault is not.
    EXPECT_TRUE(fetch_key(m_socket, m_tmp / "." / "vault"));
    EXPECT_EQ(fetch_key(m_socket, m_tmp / "other").error().code, Errc::not_found);

    // Replacing the key for a vault.
    Secret key2 = random_key();
    ASSERT_TRUE(put_key(m_socket, m_vault, key2, {Seconds(3600), Seconds(600)}));
    EXPECT_TRUE(fetch_key(m_socket, m_vault)->equals(key2));

    auto s = agent::status(m_socket);
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ(s->pid, a.pid());
    ASSERT_EQ(s->keys.size(), 1u);
    EXPECT_EQ(s->keys[0].vault, vault_id(m_vault));
    EXPECT_GT(s->keys[0].expires_in.count(), 3000);
    EXPECT_LE(s->keys[0].expires_in.count(), 3600);
    EXPECT_LE(s->keys[0].idle_left.count(), 600);

    auto n = stop(m_socket);
    ASSERT_TRUE(n) << n.error().message;
    EXPECT_EQ(n.value(), 1u);
    EXPECT_FALSE(fs::exists(m_socket)); // gone by the time stop() returns
    EXPECT_TRUE(a.exits_within(30s));
    EXPECT_EQ(fetch_key(m_socket, m_vault).error().code, Errc::not_found);
}

TEST_F(AgentTest, MalformedRequestsAreRefusedAndTheAgentCarriesOn)
{
    ChildAgent a(m_socket);
    ASSERT_TRUE(a.ready());
    auto raw = [&](std::string_view bytes) {
        int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, m_socket.c_str(), sizeof addr.sun_path - 1);
        EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
        EXPECT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
        ::shutdown(fd, SHUT_WR);
        char buf[64];
        while (::recv(fd, buf, sizeof buf, 0) > 0) {
        }
        ::close(fd);
    };
    raw(std::string("\xff\xff\xff\x7f", 4));             // absurd length
    raw(std::string("\x03\x00\x00\x00\x01\x05\x00", 7)); // PUT with truncated fields
    raw(std::string("\x01\x00\x00\x00\x63", 5));         // unknown op
    raw("");                                             // nothing at all
    ASSERT_TRUE(put_key(m_socket, m_vault, random_key(), {}));
    EXPECT_TRUE(fetch_key(m_socket, m_vault));
}

TEST_F(AgentTest, ExitsWithoutAKeyAfterTheStartupGrace)
{
    ChildAgent a(m_socket, Seconds(1));
    ASSERT_TRUE(a.ready());
    EXPECT_TRUE(a.exits_within(30s));
    EXPECT_FALSE(fs::exists(m_socket));
}

TEST_F(AgentTest, IdleTimeoutWipesTheKeyAndTheAgentExits)
{
    ChildAgent a(m_socket);
    ASSERT_TRUE(a.ready());
    auto put_at = std::chrono::steady_clock::now();
    ASSERT_TRUE(put_key(m_socket, m_vault, random_key(), {Seconds(3600), Seconds(2)}));
    // Nobody fetches it: after 2 s idle the key is wiped and the agent, holding none, exits.
    EXPECT_TRUE(a.exits_within(60s));
    EXPECT_GE(std::chrono::steady_clock::now() - put_at, 1500ms);
    EXPECT_FALSE(fs::exists(m_socket));
    EXPECT_EQ(fetch_key(m_socket, m_vault).error().code, Errc::not_found);
}

TEST_F(AgentTest, UseResetsTheIdleTimerButNotTheAbsoluteOne)
{
    using Clock = std::chrono::steady_clock;
    constexpr auto k_idle = 2s;
    constexpr auto k_ttl = 4s;
    ChildAgent a(m_socket);
    ASSERT_TRUE(a.ready());
    const auto put_started = Clock::now();
    ASSERT_TRUE(put_key(m_socket, m_vault, random_key(), {Seconds(4), Seconds(2)}));
    const auto put_done = Clock::now(); // the agent's timers started in between
    // Fetch until the key is gone. Order, not duration, decides:
    //  - a fetch that began more than the idle time after the put and still got
    //    the key proves that use reset the idle timer;
    //  - the key is gone no earlier than the absolute ttl after the put began,
    //    unless the test itself was starved between two fetches for longer
    //    than the idle time (then the idle expiry was legitimate).
    bool reset_seen = false;
    auto longest_gap = Clock::duration::zero();
    std::optional<Clock::time_point> gone_at;
    auto last_use = put_done;
    const auto deadline = put_done + 60s; // a loose guard only
    while (Clock::now() < deadline) {
        const auto began = Clock::now();
        longest_gap = std::max(longest_gap, began - last_use);
        auto k = fetch_key(m_socket, m_vault);
        if (!k) {
            EXPECT_EQ(k.error().code, Errc::not_found);
            gone_at = Clock::now();
            break;
        }
        last_use = Clock::now();
        if (began - put_done > k_idle) reset_seen = true;
        std::this_thread::sleep_for(300ms); // the pace of use, not synchronisation
    }
    ASSERT_TRUE(gone_at) << "the absolute ttl never ended the key";
    if (longest_gap < k_idle) {
        EXPECT_TRUE(reset_seen) << "use did not keep the key past the idle time";
        EXPECT_GE(*gone_at - put_started, k_ttl) << "the key went before its ttl";
    } else {
        GTEST_SKIP() << "starved: " << std::chrono::duration_cast<std::chrono::milliseconds>(longest_gap).count()
                     << " ms between two uses, longer than the idle time; the order could not be checked";
    }
    EXPECT_TRUE(a.exits_within(30s));
}

TEST_F(AgentTest, KeepsOtherVaultsWhenOneExpires)
{
    ChildAgent a(m_socket);
    ASSERT_TRUE(a.ready());
    ASSERT_TRUE(put_key(m_socket, m_tmp / "short", random_key(), {Seconds(1), Seconds(600)}));
    ASSERT_TRUE(put_key(m_socket, m_vault, random_key(), {Seconds(3600), Seconds(600)}));
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (std::chrono::steady_clock::now() < deadline && agent::status(m_socket)->keys.size() != 1)
        std::this_thread::sleep_for(200ms);
    auto s = agent::status(m_socket);
    ASSERT_TRUE(s);
    ASSERT_EQ(s->keys.size(), 1u);
    EXPECT_EQ(s->keys[0].vault, vault_id(m_vault));
    EXPECT_TRUE(fetch_key(m_socket, m_vault));
}

TEST_F(AgentTest, SigtermWipesAndRemovesTheSocket)
{
    ChildAgent a(m_socket);
    ASSERT_TRUE(a.ready());
    ASSERT_TRUE(put_key(m_socket, m_vault, random_key(), {}));
    ::kill(a.pid(), SIGTERM);
    EXPECT_TRUE(a.exits_within(30s));
    EXPECT_FALSE(fs::exists(m_socket));
}

TEST_F(AgentTest, ServerIgnoresOtherUids)
{
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to run a client as another uid";
    ChildAgent a(m_socket);
    ASSERT_TRUE(a.ready());
    ASSERT_TRUE(put_key(m_socket, m_vault, random_key(), {}));
    // Let the other uid reach the socket at all (the directory is private), so
    // that only the agent's SO_PEERCRED check stands in its way.
    ::chmod(m_tmp.path().c_str(), 0711);
    ::chmod(m_dir.c_str(), 0711);
    ::chmod(m_socket.c_str(), 0666);
    auto client = pitool::test::Child::fork([&] {
        if (::setgid(k_nobody) != 0 || ::setuid(k_nobody) != 0) return 90;
        int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, m_socket.c_str(), sizeof addr.sun_path - 1);
        if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return 91;
        // A well-formed GET, sent without the client's own peer check.
        std::string id = vault_id(m_vault);
        std::string body(1, '\x02');
        for (int i = 0; i < 4; ++i) body.push_back(static_cast<char>(id.size() >> (8 * i)));
        body += id;
        std::string frame;
        for (int i = 0; i < 4; ++i) frame.push_back(static_cast<char>(body.size() >> (8 * i)));
        frame += body;
        // The agent may hang up before we even finish sending (EPIPE): that is the refusal too.
        if (::send(fd, frame.data(), frame.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(frame.size())) return 0;
        char buf[128];
        ssize_t got = ::recv(fd, buf, sizeof buf, 0);
        return got <= 0 ? 0 : 93; // hung up on without an answer
    });
    int st = client.wait();
    ASSERT_TRUE(WIFEXITED(st));
    EXPECT_EQ(WEXITSTATUS(st), 0) << "90 setuid, 91 connect, 93 the agent answered another uid";
    EXPECT_TRUE(fetch_key(m_socket, m_vault)); // still serving us
}

TEST_F(AgentTest, ClientRefusesAnAgentOfAnotherUid)
{
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to run an agent as another uid";
    ::chmod(m_tmp.path().c_str(), 0711);
    ASSERT_EQ(::chown(m_dir.c_str(), k_nobody, k_nobody), 0);
    ChildAgent a(m_socket, Seconds(30), k_nobody);
    ASSERT_TRUE(a.ready());
    auto k = fetch_key(m_socket, m_vault);
    ASSERT_FALSE(k);
    EXPECT_EQ(k.error().code, Errc::io);
    EXPECT_NE(k.error().message.find("uid 65534"), std::string::npos) << k.error().message;
    EXPECT_FALSE(put_key(m_socket, m_vault, random_key(), {}));
}

TEST_F(AgentTest, StoreKeyRefusesAnUnsafeDirectoryBeforeStartingAnything)
{
    ::chmod(m_dir.c_str(), 0755);
    auto st = store_key(m_socket, m_vault, random_key(), {}, Launcher{"/bin/false", {"false"}});
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, Errc::io);
    EXPECT_NE(st.error().message.find("refusing"), std::string::npos) << st.error().message;
}

TEST_F(AgentTest, StoreKeyReportsAnAgentThatDoesNotStart)
{
    auto st = store_key(m_socket, m_vault, random_key(), {}, Launcher{"/bin/false", {"false"}});
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, Errc::io);
}

TEST_F(AgentTest, StoreKeyUsesARunningAgent)
{
    ChildAgent a(m_socket);
    ASSERT_TRUE(a.ready());
    Secret key = random_key();
    ASSERT_TRUE(store_key(m_socket, m_vault, key, {}, Launcher{"/bin/false", {"false"}}));
    EXPECT_TRUE(fetch_key(m_socket, m_vault)->equals(key));
}

// A same-uid client cannot stretch an unlock or flood the agent (issue 12).
TEST_F(AgentTest, PutNeverExtendsAKeysLifetime)
{
    ChildAgent a(m_socket);
    ASSERT_TRUE(a.ready());
    ASSERT_TRUE(put_key(m_socket, m_vault, random_key(), {Seconds(120), Seconds(60)}));
    // The same client, or any other of our uid, asks for ten years.
    ASSERT_TRUE(put_key(m_socket, m_vault, random_key(), {Seconds(3600), Seconds(3600)}));
    auto s = agent::status(m_socket);
    ASSERT_TRUE(s) << s.error().message;
    ASSERT_EQ(s->keys.size(), 1u);
    EXPECT_LE(s->keys[0].expires_in.count(), 120);
    EXPECT_LE(s->keys[0].idle_left.count(), 60);
}

TEST_F(AgentTest, PutAboveTheMaximumTtlIsRefused)
{
    ChildAgent a(m_socket);
    ASSERT_TRUE(a.ready());
    const Seconds ten_years(10LL * 366 * 86'400);
    EXPECT_FALSE(put_key(m_socket, m_vault, random_key(), {ten_years, Seconds(60)}));
    EXPECT_FALSE(put_key(m_socket, m_vault, random_key(), {Seconds(24 * 3600 + 1), Seconds(60)}));
    auto held = fetch_key(m_socket, m_vault);
    ASSERT_FALSE(held);
    EXPECT_EQ(held.error().code, Errc::not_found);
    // At most a day, and an idle time beyond it counts as a day.
    ASSERT_TRUE(put_key(m_socket, m_vault, random_key(), {Seconds(24 * 3600), ten_years}));
    auto s = agent::status(m_socket);
    ASSERT_TRUE(s) << s.error().message;
    ASSERT_EQ(s->keys.size(), 1u);
    EXPECT_LE(s->keys[0].expires_in.count(), 24 * 3600);
    EXPECT_LE(s->keys[0].idle_left.count(), 24 * 3600);
}

TEST_F(AgentTest, AtMostSixtyFourKeys)
{
    ChildAgent a(m_socket);
    ASSERT_TRUE(a.ready());
    for (int i = 0; i < 64; ++i)
        ASSERT_TRUE(put_key(m_socket, m_tmp / ("v" + std::to_string(i)), random_key(), {})) << i;
    for (int i = 64; i < 200; ++i) {
        auto st = put_key(m_socket, m_tmp / ("v" + std::to_string(i)), random_key(), {});
        ASSERT_FALSE(st) << i;
        EXPECT_EQ(st.error().code, Errc::conflict);
    }
    // Still alive and serving; a held vault's key can still be replaced.
    EXPECT_TRUE(fetch_key(m_socket, m_tmp / "v0"));
    EXPECT_TRUE(put_key(m_socket, m_tmp / "v63", random_key(), {}));
    auto s = agent::status(m_socket);
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ(s->keys.size(), 64u);
}

} // namespace
} // namespace pitool::agent
