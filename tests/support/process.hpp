#pragma once
// Test support: every process a test starts, and the environment it gets.
//
// * Child owns one child process. The child runs in its own session and
//   process group, dies with the test process (PR_SET_PDEATHSIG), and the
//   owner stops the whole group (SIGKILL, then reaps) on every path: normal
//   exit, timeout, assertion failure, exception.
// * child_env() builds the one environment every child gets: every path
//   variable pitool reads points into the test's own directory, so no test
//   touches the real user's vault, agent or XDG directories.
// * Every test binary links a check (a gtest Environment) that fails the run
//   if a process it started, or any process pointing into its temporary
//   root (e.g. a `pitool __agent` a test's `unlock` started), is still alive
//   at the end.
// * run() runs a real binary and captures exit code, stdout and stderr;
//   Background keeps one running (e.g. pitool-sandbox); TempDir is an RAII
//   temporary directory under the binary's own temporary root.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pitool::test {

/// This test binary's private temporary root ($TMPDIR or /tmp, then
/// "pitool-test-<pid>-XXXXXX"), made on first use and removed at exit. Every
/// TempDir and every child's default scratch directory lives below it.
const std::filesystem::path& test_root();

/// The environment of a child process, as KEY -> VALUE: PATH, LANG=C, the
/// sanitizer options of a sanitized run, and every path variable pitool reads
/// pointing into `dir` (created here as needed): HOME=dir/home,
/// XDG_CONFIG_HOME, XDG_DATA_HOME, XDG_STATE_HOME, XDG_CACHE_HOME (dir/xdg/...),
/// XDG_RUNTIME_DIR=dir/run (0700), TMPDIR=dir/tmp, PITOOL_VAULT=dir/vault,
/// PITOOL_AGENT_SOCKET=dir/agent/agent.sock (the directory is not created, so
/// pitool makes it as it would). Nothing of the test's own environment leaks
/// in. `extra` is applied last and may override any of them.
std::map<std::string, std::string> child_env(const std::filesystem::path& dir,
                                             const std::map<std::string, std::string>& extra = {});

/// A child process in its own session and process group (pgid == pid), that
/// gets SIGKILL when the thread that started it exits (PR_SET_PDEATHSIG; a
/// test process that dies first is caught by the getppid() check), and whose
/// whole process group is killed and whose leader is reaped when the owner is
/// destroyed. Move-only.
class Child {
public:
    /// Which descriptors become the child's 0, 1 and 2 (-1: /dev/null).
    struct Stdio {
        int in = -1;
        int out = -1;
        int err = -1;
    };
    /// What to start: argv[0] is a path (no shell, no PATH search).
    struct Spec {
        std::vector<std::string> argv;
        std::map<std::string, std::string> env; ///< the whole environment (see child_env)
        Stdio stdio;
        std::optional<std::filesystem::path> cwd;
        /// Runs in the child after the stdio set-up, before exec
        /// (async-signal-safe calls only).
        std::function<void()> in_child;
    };

    Child() = default;
    /// Starts `spec`; throws std::system_error if fork fails (an exec
    /// failure is the child's exit 127).
    static Child start(const Spec& spec);
    /// Forks and runs `body` in the child, which then _exits with its value.
    /// For tests of in-process code that needs its own process.
    static Child fork(const std::function<int()>& body);

    ~Child() { kill(); }
    Child(Child&& o) noexcept;
    Child& operator=(Child&& o) noexcept;
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

    [[nodiscard]] pid_t pid() const { return m_pid; }
    [[nodiscard]] bool running() const { return m_pid > 0; }
    /// Sends `sig` to the whole process group (no-op once reaped).
    void signal_group(int sig) const;
    /// Sends `sig` to the leader only.
    void signal(int sig) const;
    /// Waits up to `limit` for the leader to exit; on exit kills what is
    /// left of its group, reaps it and returns its wait status. nullopt:
    /// still running.
    std::optional<int> wait_for(std::chrono::milliseconds limit);
    /// Waits however long it takes (same clean-up as wait_for).
    int wait();
    /// SIGTERM to the group, up to `grace` for the leader to exit, then
    /// SIGKILL to the group; reaps. Returns the wait status (-1 if none).
    int stop(std::chrono::milliseconds grace);
    /// SIGKILL to the group, then reaps the leader. Idempotent.
    void kill();

private:
    explicit Child(pid_t pid) : m_pid(pid) {}
    int finish(); // the leader has exited (not yet reaped): clear its group, reap
    pid_t m_pid = -1;
};

/// Exit code of a wait status: the exit status, or 128+signal.
int exit_code_of(int wait_status);

struct RunResult {
    int exit_code = -1; ///< exit status, or 128+signal when killed
    std::string out;
    std::string err;
};

struct RunOptions {
    std::string stdin_data;
    /// The test's own directory: the child's HOME, XDG_*, TMPDIR,
    /// PITOOL_VAULT and PITOOL_AGENT_SOCKET point into it (child_env).
    /// Empty: a scratch directory below test_root().
    std::filesystem::path dir;
    /// Variables set on top of child_env(dir). Nothing else from the test's
    /// environment leaks in.
    std::map<std::string, std::string> env;
    /// When set, stdin is closed (EOF) instead of fed stdin_data.
    bool close_stdin = false;
    /// Seconds before the child's process group is killed with SIGKILL
    /// (reported as 137).
    int timeout_seconds = 60;
    std::optional<std::filesystem::path> cwd;
};

/// Runs `argv[0]` (a path) with `argv`; never uses a shell. No controlling
/// terminal is inherited (own session), so prompts must fail rather than
/// hang. When the child exits, anything left in its process group is killed.
RunResult run(const std::vector<std::string>& argv, const RunOptions& opts = {});

/// A fresh directory under test_root() removed (recursively) on destruction.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    [[nodiscard]] const std::filesystem::path& path() const { return m_path; }
    [[nodiscard]] std::filesystem::path operator/(const std::string& name) const { return m_path / name; }

private:
    std::filesystem::path m_path;
};

/// Reads a whole file (binary).
std::string read_file(const std::filesystem::path& p);
/// Writes a whole file (binary), mode 0600.
void write_file(const std::filesystem::path& p, const std::string& data);

/// A background child process (e.g. pitool-sandbox) whose process group is
/// stopped on destruction, also when the constructor throws.
class Background {
public:
    struct Options {
        std::map<std::string, std::string> env; ///< on top of child_env(dir)
        std::filesystem::path dir;              ///< as RunOptions::dir
        std::string stderr_file;                ///< capture stderr here (default: discarded)
        std::chrono::seconds startup{20};       ///< limit for the first line
    };
    /// Starts argv; reads the first line of its stdout (e.g. the base URL).
    /// Throws (after killing the child) if none comes within the limit.
    explicit Background(const std::vector<std::string>& argv);
    Background(const std::vector<std::string>& argv, const Options& o);
    ~Background();
    Background(const Background&) = delete;
    Background& operator=(const Background&) = delete;
    [[nodiscard]] const std::string& first_line() const { return m_first_line; }
    [[nodiscard]] int pid() const { return m_child.pid(); }
    /// Sends `sig` to the process and returns its exit code (exit status or
    /// 128+signal), or -1 if it has not exited within `limit` (it is then
    /// killed).
    int stop(int sig, std::chrono::milliseconds limit);

private:
    Child m_child;
    int m_stdout_fd = -1;
    std::string m_first_line;
};

/// Every process group this binary started (for the leak check).
std::vector<pid_t> started_groups();

/// Processes this binary started that are still alive (not zombies): members
/// of a group or session it started, and any process whose argv or working
/// directory points into test_root(). Each as "pid: argv".
std::vector<std::string> leftover_processes();

} // namespace pitool::test
