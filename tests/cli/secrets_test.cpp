// A planted token, client secret and passphrase must never show up anywhere
// but in `get`'s stdout: not in other outputs (errors and -v included), not
// in clear in any file of the vault directory, not in pitool's argv.
#include "cli/cli_fixture.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

namespace pitool::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string k_wrong_passphrase = "WrongPassphrase-NARWHAL-91c3";
const std::string k_new_passphrase = "NewPassphrase-OCELOT-44aa12";
const std::string k_rotated = "pit-5ec12e75-0000-4c0d-9e7f-0defacedbee5";
const std::string k_odd = "OddToken-MARMOT-71b2c9d0e1f2";

std::vector<std::string> all_secrets()
{
    return {std::string(k_token),
            std::string(k_token2),
            std::string(k_client_secret),
            std::string(k_passphrase),
            k_wrong_passphrase,
            k_new_passphrase,
            k_rotated,
            k_odd};
}

class Secrets : public CliTest {
protected:
    /// Runs pitool, expecting exit `code`, and checks that no secret except
    /// `allowed` (may be empty) appears in its stdout, and none in its stderr.
    RunResult checked(int code, const std::vector<std::string>& args, const Call& call = {},
                      const std::string& allowed = {})
    {
        auto r = pitool(args, call);
        std::string cmd;
        for (const auto& a : args) cmd += " " + a;
        EXPECT_EQ(r.exit_code, code) << cmd << " " << describe(r);
        for (const auto& s : all_secrets()) {
            EXPECT_THAT(r.err, Not(HasSubstr(s))) << "stderr of" << cmd;
            if (s != allowed) {
                EXPECT_THAT(r.out, Not(HasSubstr(s))) << "stdout of" << cmd;
            }
            // A prefix long enough to identify the secret must not leak either.
            EXPECT_THAT(r.err, Not(HasSubstr(s.substr(0, 16)))) << "stderr of" << cmd;
            if (s != allowed) {
                EXPECT_THAT(r.out, Not(HasSubstr(s.substr(0, 16)))) << "stdout of" << cmd;
            }
        }
        ++m_runs;
        return r;
    }

    void expect_files_clean() const
    {
        int files = 0;
        for (const auto& entry : std::filesystem::recursive_directory_iterator(m_dir)) {
            if (!entry.is_regular_file()) continue;
            ++files;
            auto bytes = read_file(entry.path());
            for (const auto& s : all_secrets())
                EXPECT_EQ(bytes.find(s), std::string::npos) << s << " in clear in " << entry.path();
        }
        EXPECT_GE(files, 2) << "the vault and its backup at least";
    }

    void run_everything(const std::string& verbosity);

    int m_runs = 0;
};

/// Runs every command, succeeding and failing, with `verbosity` ("" or "-v").
void Secrets::run_everything(const std::string& v)
{
    const std::string tok(k_token);
    const std::string tok2(k_token2);
    const std::string cs(k_client_secret);
    auto token_file = m_tmp / "token-file";
    write_file(token_file, tok2 + "\n");
    const Call wrong{.env = {{"PITOOL_PASSPHRASE", k_wrong_passphrase}}};

    auto pre = [&](std::vector<std::string> args) {
        if (!v.empty()) args.insert(args.begin(), v);
        return args;
    };
    checked(0, pre({"init", "--kdf", "interactive"}));
    checked(0,
            pre({"create", "a", "--provider", "leadconnector", "--location", "loc-1", "--scope", "bogus.scope",
                 "--token-stdin"}),
            {.stdin_data = tok});
    checked(0,
            pre({"--json", "create", "app", "--provider", "leadconnector", "--kind", "oauth-app", "--client-id",
                 "cid-1", "--token-stdin"}),
            {.stdin_data = cs});
    checked(0, pre({"create", "h", "--provider", "hint", "--token-file", token_file.string()}));
    // The warning about a token that does not look like a PIT must not quote it.
    auto odd = checked(0, pre({"create", "odd", "--provider", "leadconnector", "--location", "l", "--token-stdin"}),
                       {.stdin_data = k_odd});
    EXPECT_THAT(odd.err, HasSubstr("does not look like"));
    checked(0, pre({"delete", "odd", "--yes"}));
    checked(0, pre({"rotate", "a", "--token-stdin"}), {.stdin_data = tok2});
    checked(4, pre({"--json", "rotate", "a", "--token-stdin"}), {.stdin_data = k_rotated});       // window open: 4
    checked(4, pre({"rotate", "h", "--token-stdin"}), {.stdin_data = tok2});                      // same token: 4
    checked(4, pre({"create", "a", "--provider", "hint", "--token-stdin"}), {.stdin_data = tok}); // exists: 4
    checked(2, pre({"create", "BAD NAME", "--provider", "hint", "--token-stdin"}), {.stdin_data = tok});
    checked(2, pre({"create", "x", "--provider", "hint", "--token-stdin"}), {.stdin_data = tok + " trailing"});
    checked(0, pre({"list"}));
    checked(0, pre({"--json", "list"}));
    checked(0, pre({"show", "a"}));
    checked(0, pre({"--json", "show", "app"}));
    checked(0, pre({"history"}));
    checked(0, pre({"--json", "history"}));
    checked(0, pre({"audit"}));
    checked(0, pre({"--json", "audit"}));
    EXPECT_EQ(checked(0, pre({"get", "a"}), {}, tok2).out, tok2 + "\n");
    EXPECT_THAT(checked(0, pre({"--json", "get", "a", "--old"}), {}, tok).out, HasSubstr(tok));
    EXPECT_EQ(checked(0, pre({"get", "app"}), {}, cs).out, cs + "\n");
    checked(5, pre({"get", "a"}), wrong);
    checked(5, pre({"--json", "get", "a"}), wrong);
    checked(5, pre({"create", "y", "--provider", "hint", "--token-stdin"}), {.stdin_data = tok, .env = wrong.env});
    checked(0, pre({"exec", "a", "--", "/bin/true"}));
    checked(3, pre({"exec", "a", "--", "/no/such/program"}));
    checked(4, pre({"expire-old", "h"}));
    checked(0, pre({"cancel-rotation", "a"}));
    checked(5, pre({"passwd"}),
            {.env = {{"PITOOL_PASSPHRASE", k_wrong_passphrase}, {"PITOOL_NEW_PASSPHRASE", k_new_passphrase}}});
    checked(0, pre({"passwd"}), {.env = {{"PITOOL_NEW_PASSPHRASE", k_new_passphrase}}});
    checked(5, pre({"list"})); // old passphrase: 5
    checked(0, pre({"--json", "list"}), {.env = {{"PITOOL_PASSPHRASE", k_new_passphrase}}});
    expect_files_clean();
    EXPECT_GT(m_runs, 30);
}

TEST_F(Secrets, NoCommandPrintsASecretExceptGet)
{
    run_everything("");
}

TEST_F(Secrets, NoVerboseCommandPrintsASecretExceptGet)
{
    run_everything("-v");
}

TEST_F(Secrets, TokenNeverInClearOnDisk)
{
    init_vault();
    create_pit("a", k_token);
    rotate("a", k_token2);
    ok({"create", "app", "--provider", "leadconnector", "--kind", "oauth-app", "--client-id", "cid-1", "--token-stdin"},
       {.stdin_data = std::string(k_client_secret)});
    expect_files_clean();
    // Also base64/hex-free check: not even the token's distinctive middle part.
    auto bytes = vault_bytes();
    EXPECT_EQ(bytes.find("0defacedcafe"), std::string::npos);
    EXPECT_EQ(bytes.find("leadconnector"), std::string::npos) << "metadata is encrypted too";
}

/// One process as /proc shows it.
struct ProcView {
    pid_t pid = 0;
    pid_t ppid = 0;
    pid_t session = 0;
    std::vector<std::string> argv;
};

std::vector<std::string> split_nul(const std::string& s)
{
    std::vector<std::string> out;
    std::size_t at = 0;
    while (at < s.size()) {
        auto end = s.find('\0', at);
        if (end == std::string::npos) end = s.size();
        out.push_back(s.substr(at, end - at));
        at = end + 1;
    }
    return out;
}

/// Every live process, with its argv (zombies and vanished ones left out).
std::vector<ProcView> all_processes()
{
    std::vector<ProcView> out;
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
        const auto name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::string line = read_file(entry.path() / "stat");
        auto close = line.rfind(')');
        if (close == std::string::npos) continue;
        std::istringstream rest(line.substr(close + 2));
        char state = 0;
        ProcView v;
        int pgrp = 0;
        rest >> state >> v.ppid >> pgrp >> v.session;
        if (state == 'Z') continue;
        v.pid = std::stoi(name);
        v.argv = split_nul(read_file(entry.path() / "cmdline"));
        if (!v.argv.empty()) out.push_back(v);
    }
    return out;
}

std::vector<ProcView> in_session(pid_t sid)
{
    std::vector<ProcView> out;
    for (auto& p : all_processes())
        if (p.session == sid) out.push_back(p);
    return out;
}

std::string joined(const std::vector<std::string>& argv)
{
    std::string s;
    for (const auto& a : argv) s += (s.empty() ? "" : " ") + a;
    return s;
}

/// Fails the test if any secret (or its identifying 16-character prefix) is
/// in the argv of any of `procs`.
void expect_no_secret_in_argv(const std::vector<ProcView>& procs, const std::string& what)
{
    for (const auto& p : procs)
        for (const auto& arg : p.argv)
            for (const auto& s : all_secrets()) {
                EXPECT_EQ(arg.find(s.substr(0, 16)), std::string::npos)
                    << "a secret in the argv of " << what << " (pid " << p.pid << "): " << joined(p.argv);
            }
}

/// Waits (a loose guard of `limit`) until `fd` is readable; true if it is.
bool readable_within(int fd, std::chrono::seconds limit)
{
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(std::chrono::milliseconds(limit).count())) == 1;
}

// The exec child holds the token in its environment (by design) and nowhere
// else: the program `exec` runs is a script that reports its pid, then blocks
// on a FIFO while the test reads the argv of every process of the run's
// session (pitool runs in its own session, and exec keeps the pid).
TEST_F(Secrets, ExecChildArgvHoldsNoSecret)
{
    init_vault();
    create_pit("a", k_token);
    const auto ready = m_tmp / "ready";
    const auto go = m_tmp / "go";
    ASSERT_EQ(::mkfifo(ready.c_str(), 0600), 0);
    ASSERT_EQ(::mkfifo(go.c_str(), 0600), 0);
    // Both ends stay openable without blocking the test: it reads `ready`
    // without waiting for a writer and holds `go` open for writing itself.
    int ready_fd = ::open(ready.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    int go_fd = ::open(go.c_str(), O_RDWR | O_CLOEXEC);
    ASSERT_GE(ready_fd, 0);
    ASSERT_GE(go_fd, 0);
    // The token it should get is handed over in the environment (never argv).
    const std::string script = "echo $$ > '" + ready.string() + "' && read x < '" + go.string() +
                               "' && test \"$PITOOL_TOKEN\" = \"$EXPECTED_TOKEN\"";
    const std::vector<std::string> command{"/bin/sh", "-c", script};
    std::vector<std::string> args{"exec", "a", "--"};
    args.insert(args.end(), command.begin(), command.end());
    RunResult result;
    std::thread t([&] {
        result = pitool(args, {.env = {{"EXPECTED_TOKEN", std::string(k_token)}}, .timeout_seconds = 60});
    });

    std::string pid_text;
    if (readable_within(ready_fd, std::chrono::seconds(30))) {
        char buf[64];
        ssize_t n = ::read(ready_fd, buf, sizeof buf);
        if (n > 0) pid_text.assign(buf, static_cast<std::size_t>(n));
    }
    std::vector<ProcView> session;
    if (!pid_text.empty()) session = in_session(static_cast<pid_t>(std::stoi(pid_text)));
    (void)!::write(go_fd, "\n", 1); // let the script finish
    t.join();
    ::close(ready_fd);
    ::close(go_fd);

    ASSERT_FALSE(pid_text.empty()) << "the exec child never reported: " << describe(result);
    EXPECT_EQ(result.exit_code, 0) << "the child saw its token in PITOOL_TOKEN: " << describe(result);
    ASSERT_FALSE(session.empty());
    for (const auto& p : session) {
        // Every process of the run is the script itself (pitool became it),
        // with exactly the argv the test gave exec: nothing added.
        EXPECT_EQ(p.argv, command) << "pid " << p.pid << ": " << joined(p.argv);
    }
    expect_no_secret_in_argv(session, "the exec child's session");
}

// pitool itself, while it holds a token read from stdin: `rotate` blocks on
// the vault lock the test holds; the lock file being opened (inotify) is the
// event that says it has read its token and derived the key. The test then
// reads the argv of every process in pitool's session.
TEST_F(Secrets, PitoolArgvHoldsNoSecretWhileItHoldsOne)
{
    init_vault();
    create_pit("a", k_token);
    const std::string lock_file = m_vault.string() + ".lock";
    int fd = ::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::flock(fd, LOCK_EX), 0);
    int ino = ::inotify_init1(IN_CLOEXEC);
    ASSERT_GE(ino, 0);
    ASSERT_GE(::inotify_add_watch(ino, lock_file.c_str(), IN_OPEN), 0);

    const std::vector<std::string> args{"rotate", "a", "--token-stdin"};
    RunResult result;
    std::thread t([&] {
        result = pitool(args, {.stdin_data = std::string(k_token2), .env = {{"PITOOL_LOCK_TIMEOUT", "60"}}});
    });
    bool opened = readable_within(ino, std::chrono::seconds(30));
    std::vector<ProcView> mine;
    if (opened) {
        for (auto& p : all_processes())
            if (p.ppid == ::getpid() && !p.argv.empty() && p.argv[0] == PITOOL_BIN) mine.push_back(p);
    }
    std::vector<ProcView> session;
    if (mine.size() == 1) session = in_session(mine.front().pid);
    ::flock(fd, LOCK_UN);
    ::close(fd);
    ::close(ino);
    t.join();

    ASSERT_TRUE(opened) << "pitool never reached the lock: " << describe(result);
    ASSERT_EQ(mine.size(), 1u) << "exactly one pitool child of this test";
    std::vector<std::string> expected{PITOOL_BIN, "--vault", m_vault.string()};
    expected.insert(expected.end(), args.begin(), args.end());
    EXPECT_EQ(mine.front().argv, expected) << "pitool's own argv changed while it ran";
    expect_no_secret_in_argv(session, "pitool rotate's session");
    EXPECT_EQ(result.exit_code, 0) << "rotate proceeds once the lock is free: " << describe(result);
    EXPECT_EQ(ok({"get", "a"}).out, std::string(k_token2) + "\n");
}

// The agent `unlock` starts holds the vault's data key: its argv is exactly
// the documented `pitool __agent --log-file PATH --socket PATH --ready-fd 3` (nothing added,
// so no key, passphrase or token), and so is every process of its session.
TEST_F(Secrets, AgentArgvHoldsNoSecret)
{
    init_vault();
    create_pit("a", k_token);
    const auto socket = m_tmp / "agent" / "agent.sock";
    const Call with_socket{.env = {{"PITOOL_AGENT_SOCKET", socket.string()}}};
    ok({"unlock"}, with_socket);
    // unlock returns once the agent listens: it is running now.
    std::vector<ProcView> agents;
    for (auto& p : all_processes())
        for (const auto& a : p.argv)
            if (a == socket.string()) agents.push_back(p);
    ASSERT_EQ(agents.size(), 1u);
    const auto session = in_session(agents.front().session);
    // Served without a passphrase: the agent really holds the key.
    auto got = pitool({"get", "a"}, {.env = {{"PITOOL_AGENT_SOCKET", socket.string()}}, .no_passphrase = true});
    ok({"lock"}, {.env = with_socket.env, .no_passphrase = true});

    EXPECT_EQ(got.exit_code, 0) << describe(got);
    // The log file's path: the test environment's XDG_STATE_HOME (tests/support/process.cpp).
    const auto log = m_tmp / ".env" / "xdg" / "state" / "pitool" / "agent.log";
    const std::vector<std::string> expected{"pitool",   "__agent",       "--log-file", log.string(),
                                            "--socket", socket.string(), "--ready-fd", "3"};
    EXPECT_EQ(agents.front().argv, expected) << joined(agents.front().argv);
    ASSERT_EQ(session.size(), 1u) << "the agent's session holds only the agent";
    expect_no_secret_in_argv(session, "the agent's session");
    // `lock` stopped it: it must be gone (the binary's leak check insists too).
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline &&
           std::filesystem::exists("/proc/" + std::to_string(agents.front().pid) + "/cmdline") &&
           !read_file("/proc/" + std::to_string(agents.front().pid) + "/cmdline").empty())
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_TRUE(read_file("/proc/" + std::to_string(agents.front().pid) + "/cmdline").empty()) << "agent still runs";
}

} // namespace
} // namespace pitool::test
