#include "support/process.hpp"

#include <gtest/gtest.h>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>

namespace pitool::test {
namespace {

// Every test binary links this file: libsodium must be ready before any
// Secret is made (sodium_malloc needs sodium_init).
[[maybe_unused]] const int k_sodium_ready = [] {
    if (sodium_init() < 0) std::abort();
    return 0;
}();

std::mutex g_mutex;
std::set<pid_t> g_open_groups; // groups whose owner has not yet stopped them
std::vector<pid_t> g_all_groups;
std::filesystem::path g_root;

std::vector<char*> c_array(std::vector<std::string>& v)
{
    std::vector<char*> out;
    for (auto& s : v) out.push_back(s.data());
    out.push_back(nullptr);
    return out;
}

void set_nonblock(int fd)
{
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/// Waits until `pid` (a child) has exited, without reaping it; false on timeout.
/// A pidfd makes this an event wait; without one it polls.
bool exited_within(pid_t pid, std::chrono::milliseconds limit)
{
    if (limit.count() <= 0) { // a cheap check, for callers that poll
        siginfo_t si{};
        if (::waitid(P_PID, static_cast<id_t>(pid), &si, WEXITED | WNOHANG | WNOWAIT) != 0) return errno == ECHILD;
        return si.si_pid == pid;
    }
    auto deadline = std::chrono::steady_clock::now() + limit;
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    for (;;) {
        siginfo_t si{};
        if (::waitid(P_PID, static_cast<id_t>(pid), &si, WEXITED | WNOHANG | WNOWAIT) != 0) {
            if (pidfd >= 0) ::close(pidfd);
            return errno == ECHILD; // reaped elsewhere: gone
        }
        if (si.si_pid == pid) {
            if (pidfd >= 0) ::close(pidfd);
            return true;
        }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            if (pidfd >= 0) ::close(pidfd);
            return false;
        }
        if (pidfd >= 0) {
            pollfd p{pidfd, POLLIN, 0};
            ::poll(&p, 1, static_cast<int>(std::min<long>(left.count(), 1000)));
        } else {
            std::this_thread::sleep_for(std::chrono::milliseconds(std::min<long>(left.count(), 5)));
        }
    }
}

/// A /proc file's contents, or what could be read of it: the process may exit
/// while we read (ESRCH), which is no error here (an ifstream throws on it).
std::string slurp_proc(const std::string& path)
{
    std::string out;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return out;
    char buf[4096];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    return out;
}

/// Fails the run if a process this binary started outlives its tests.
class LeakCheck : public ::testing::Environment {
public:
    void TearDown() override
    {
        auto left = leftover_processes();
        // A process that was just signalled (or an agent told to stop) may
        // still be on its way out: give it a moment to go.
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (!left.empty() && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            left = leftover_processes();
        }
        for (const auto& p : left) {
            ADD_FAILURE() << "a process this test binary started is still running: " << p;
            ::kill(static_cast<pid_t>(std::stol(p)), SIGKILL);
        }
        std::lock_guard lock(g_mutex);
        if (!g_root.empty()) {
            std::error_code ec;
            for (auto it = std::filesystem::recursive_directory_iterator(g_root, ec);
                 !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
                if (it->is_directory(ec) && !it->is_symlink(ec))
                    std::filesystem::permissions(it->path(), std::filesystem::perms::owner_all,
                                                 std::filesystem::perm_options::add, ec);
            std::filesystem::remove_all(g_root, ec);
        }
    }
};

[[maybe_unused]] ::testing::Environment* const k_leak_check = ::testing::AddGlobalTestEnvironment(new LeakCheck);

} // namespace

const std::filesystem::path& test_root()
{
    std::lock_guard lock(g_mutex);
    if (g_root.empty()) {
        const char* base = std::getenv("TMPDIR");
        std::string tmpl = std::string(base != nullptr && *base == '/' ? base : "/tmp") + "/pitool-test-" +
                           std::to_string(::getpid()) + "-XXXXXX";
        if (::mkdtemp(tmpl.data()) == nullptr) throw std::system_error(errno, std::generic_category(), "mkdtemp");
        // Traversable by others (tests that run a client as another uid), not listable.
        ::chmod(tmpl.c_str(), 0711);
        g_root = tmpl;
    }
    return g_root;
}

std::map<std::string, std::string> child_env(const std::filesystem::path& dir_in,
                                             const std::map<std::string, std::string>& extra)
{
    const std::filesystem::path dir = dir_in.empty() ? test_root() / "scratch" : dir_in;
    const std::filesystem::path own = dir / ".env";
    std::map<std::string, std::string> env;
    env["PATH"] = "/usr/local/bin:/usr/bin:/bin";
    env["LANG"] = "C";
    // Sanitizer settings of a sanitized test run reach the binaries under test.
    for (const char* name : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"})
        if (const char* v = std::getenv(name)) env[name] = v;
    // Every path variable pitool reads (grep src/ for env.get / getenv).
    env["HOME"] = (own / "home").string();
    env["XDG_CONFIG_HOME"] = (own / "xdg" / "config").string();
    env["XDG_DATA_HOME"] = (own / "xdg" / "data").string();
    env["XDG_STATE_HOME"] = (own / "xdg" / "state").string();
    env["XDG_CACHE_HOME"] = (own / "xdg" / "cache").string();
    env["XDG_RUNTIME_DIR"] = (own / "run").string();
    env["TMPDIR"] = (own / "tmp").string();
    env["PITOOL_VAULT"] = (dir / "vault").string();
    env["PITOOL_AGENT_SOCKET"] = (dir / "agent" / "agent.sock").string();
    std::error_code ec;
    for (const char* k : {"HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME",
                          "XDG_RUNTIME_DIR", "TMPDIR"}) {
        std::filesystem::create_directories(env[k], ec);
        ::chmod(env[k].c_str(), 0700);
    }
    for (const auto& [k, v] : extra) env[k] = v;
    return env;
}

// ---- Child ----

Child Child::start(const Spec& spec)
{
    std::vector<std::string> argv = spec.argv;
    std::vector<std::string> envs;
    for (const auto& [k, v] : spec.env) envs.push_back(k + "=" + v);
    auto cargv = c_array(argv);
    auto cenv = c_array(envs);
    const std::string cwd = spec.cwd ? spec.cwd->string() : std::string();
    int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0) throw std::system_error(errno, std::generic_category(), "open /dev/null");
    const pid_t parent = ::getpid();
    // No lock is held across fork(): the child must not inherit a locked mutex.
    pid_t pid = ::fork();
    if (pid < 0) {
        int e = errno;
        ::close(devnull);
        throw std::system_error(e, std::generic_category(), "fork");
    }
    if (pid == 0) {
        ::setsid(); // own session and process group; no controlling terminal
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(125); // the test died before prctl
        ::dup2(spec.stdio.in >= 0 ? spec.stdio.in : devnull, 0);
        ::dup2(spec.stdio.out >= 0 ? spec.stdio.out : devnull, 1);
        ::dup2(spec.stdio.err >= 0 ? spec.stdio.err : devnull, 2);
        if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(126);
        if (spec.in_child) spec.in_child();
        ::execve(cargv[0], cargv.data(), cenv.data());
        ::_exit(127);
    }
    ::close(devnull);
    std::lock_guard lock(g_mutex);
    g_open_groups.insert(pid);
    g_all_groups.push_back(pid);
    return Child(pid);
}

Child Child::fork(const std::function<int()>& body)
{
    const pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
    if (pid == 0) {
        ::setsid();
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(125);
        int rc = 120;
        try {
            rc = body();
        } catch (...) {
        }
        ::_exit(rc);
    }
    std::lock_guard lock(g_mutex);
    g_open_groups.insert(pid);
    g_all_groups.push_back(pid);
    return Child(pid);
}

Child::Child(Child&& o) noexcept : m_pid(o.m_pid)
{
    o.m_pid = -1;
}

Child& Child::operator=(Child&& o) noexcept
{
    if (this != &o) {
        kill();
        m_pid = o.m_pid;
        o.m_pid = -1;
    }
    return *this;
}

void Child::signal_group(int sig) const
{
    if (m_pid > 0) ::kill(-m_pid, sig);
}

void Child::signal(int sig) const
{
    if (m_pid > 0) ::kill(m_pid, sig);
}

int Child::finish()
{
    // The leader is a zombie, so its pid (= the group id) cannot be reused
    // yet: whatever it left in its group dies with it.
    ::kill(-m_pid, SIGKILL);
    int status = -1;
    while (::waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
    }
    {
        std::lock_guard lock(g_mutex);
        g_open_groups.erase(m_pid);
    }
    m_pid = -1;
    return status;
}

std::optional<int> Child::wait_for(std::chrono::milliseconds limit)
{
    if (m_pid <= 0) return std::nullopt;
    if (!exited_within(m_pid, limit)) return std::nullopt;
    return finish();
}

int Child::wait()
{
    for (;;)
        if (auto st = wait_for(std::chrono::hours(1))) return *st;
}

int Child::stop(std::chrono::milliseconds grace)
{
    if (m_pid <= 0) return -1;
    signal_group(SIGTERM);
    if (auto st = wait_for(grace)) return *st;
    ::kill(-m_pid, SIGKILL);
    return finish();
}

void Child::kill()
{
    if (m_pid <= 0) return;
    ::kill(-m_pid, SIGKILL);
    (void)finish();
}

int exit_code_of(int status)
{
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

std::vector<pid_t> started_groups()
{
    std::lock_guard lock(g_mutex);
    return g_all_groups;
}

std::vector<std::string> leftover_processes()
{
    std::set<pid_t> open;
    std::string root;
    {
        std::lock_guard lock(g_mutex);
        open = g_open_groups;
        root = g_root.string();
    }
    const pid_t self = ::getpid();
    std::vector<std::string> out;
    DIR* d = ::opendir("/proc");
    if (d == nullptr) return out;
    while (dirent* e = ::readdir(d)) {
        char* end = nullptr;
        long pid = std::strtol(e->d_name, &end, 10);
        if (pid <= 0 || *end != '\0' || pid == self) continue;
        const std::string proc = std::string("/proc/") + e->d_name;
        std::string stat = slurp_proc(proc + "/stat");
        auto paren = stat.rfind(')');
        if (paren == std::string::npos) continue;
        std::istringstream fields(stat.substr(paren + 1));
        char state = 0;
        long ppid = 0, pgrp = 0, session = 0;
        fields >> state >> ppid >> pgrp >> session;
        if (state == 'Z' || state == 'X') continue;
        std::string cmd = slurp_proc(proc + "/cmdline");
        std::replace(cmd.begin(), cmd.end(), '\0', ' ');
        char cwd[4096] = {};
        ssize_t n = ::readlink((proc + "/cwd").c_str(), cwd, sizeof cwd - 1);
        const bool ours =
            ppid == self || open.count(static_cast<pid_t>(pgrp)) != 0 || open.count(static_cast<pid_t>(session)) != 0 ||
            (!root.empty() && (cmd.find(root) != std::string::npos ||
                               (n > 0 && std::string(cwd, static_cast<std::size_t>(n)).rfind(root, 0) == 0)));
        if (ours) out.push_back(std::to_string(pid) + ": " + cmd);
    }
    ::closedir(d);
    return out;
}

// ---- run ----

RunResult run(const std::vector<std::string>& argv, const RunOptions& opts)
{
    int in_pipe[2], out_pipe[2], err_pipe[2];
    if (::pipe2(in_pipe, O_CLOEXEC) != 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0)
        throw std::system_error(errno, std::generic_category(), "pipe");

    const std::filesystem::path dir = opts.dir.empty() ? test_root() / "scratch" : opts.dir;
    Child::Spec spec;
    spec.argv = argv;
    spec.env = child_env(dir, opts.env);
    spec.stdio = {in_pipe[0], out_pipe[1], err_pipe[1]};
    spec.cwd = opts.cwd ? *opts.cwd : dir;
    Child child = Child::start(spec);
    ::close(in_pipe[0]);
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);

    RunResult r;
    std::size_t written = 0;
    int in_fd = in_pipe[1];
    if (opts.close_stdin || opts.stdin_data.empty()) {
        ::close(in_fd);
        in_fd = -1;
    } else {
        set_nonblock(in_fd);
    }
    set_nonblock(out_pipe[0]);
    set_nonblock(err_pipe[0]);
    int out_fd = out_pipe[0], err_fd = err_pipe[0];
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(opts.timeout_seconds);
    bool killed = false;
    ::signal(SIGPIPE, SIG_IGN);

    while (out_fd >= 0 || err_fd >= 0) {
        std::vector<pollfd> fds;
        if (out_fd >= 0) fds.push_back({out_fd, POLLIN, 0});
        if (err_fd >= 0) fds.push_back({err_fd, POLLIN, 0});
        if (in_fd >= 0) fds.push_back({in_fd, POLLOUT, 0});
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            killed = true;
            break;
        }
        int n = ::poll(fds.data(), fds.size(), static_cast<int>(std::min<long>(left.count(), 200)));
        if (n < 0 && errno != EINTR) break;
        for (auto& p : fds) {
            if (p.revents == 0) continue;
            if (p.fd == in_fd) {
                ssize_t w = ::write(in_fd, opts.stdin_data.data() + written, opts.stdin_data.size() - written);
                if (w > 0) written += static_cast<std::size_t>(w);
                if (w < 0 && errno != EAGAIN) written = opts.stdin_data.size();
                if (written >= opts.stdin_data.size()) {
                    ::close(in_fd);
                    in_fd = -1;
                }
                continue;
            }
            char buf[65536];
            ssize_t got = ::read(p.fd, buf, sizeof buf);
            if (got > 0) {
                (p.fd == out_fd ? r.out : r.err).append(buf, static_cast<std::size_t>(got));
            } else if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
                ::close(p.fd);
                if (p.fd == out_fd)
                    out_fd = -1;
                else
                    err_fd = -1;
            }
        }
    }
    if (in_fd >= 0) ::close(in_fd);
    if (out_fd >= 0) ::close(out_fd);
    if (err_fd >= 0) ::close(err_fd);
    std::optional<int> status;
    if (!killed) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        status = child.wait_for(std::max(left, std::chrono::milliseconds(0)));
    }
    if (!status) {
        child.kill(); // the whole group
        r.exit_code = 137;
    } else {
        r.exit_code = exit_code_of(*status);
    }
    return r;
}

// ---- TempDir, files ----

TempDir::TempDir()
{
    std::string tmpl = (test_root() / "t-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::system_error(errno, std::generic_category(), "mkdtemp");
    m_path = tmpl;
}

TempDir::~TempDir()
{
    std::error_code ec;
    // Restore write permission on anything a test made read-only, then remove.
    for (auto it = std::filesystem::recursive_directory_iterator(m_path, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_directory(ec) && !it->is_symlink(ec))
            std::filesystem::permissions(it->path(), std::filesystem::perms::owner_all,
                                         std::filesystem::perm_options::add, ec);
    }
    std::filesystem::permissions(m_path, std::filesystem::perms::owner_all, std::filesystem::perm_options::add, ec);
    std::filesystem::remove_all(m_path, ec);
}

std::string read_file(const std::filesystem::path& p)
{
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void write_file(const std::filesystem::path& p, const std::string& data)
{
    int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "open " + p.string());
    std::size_t off = 0;
    while (off < data.size()) {
        ssize_t w = ::write(fd, data.data() + off, data.size() - off);
        if (w <= 0) break;
        off += static_cast<std::size_t>(w);
    }
    ::close(fd);
}

// ---- Background ----

Background::Background(const std::vector<std::string>& argv) : Background(argv, Options{}) {}

Background::Background(const std::vector<std::string>& argv, const Options& o)
{
    int out_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
    int err_fd = -1;
    if (!o.stderr_file.empty()) {
        err_fd = ::open(o.stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (err_fd < 0) {
            ::close(out_pipe[0]);
            ::close(out_pipe[1]);
            throw std::system_error(errno, std::generic_category(), "open " + o.stderr_file);
        }
    } else if (std::getenv("PITOOL_TEST_SHOW_BACKGROUND") != nullptr) {
        err_fd = 2;
    }
    const std::filesystem::path dir = o.dir.empty() ? test_root() / "scratch" : o.dir;
    Child::Spec spec;
    spec.argv = argv;
    spec.env = child_env(dir, o.env);
    spec.stdio = {-1, out_pipe[1], err_fd};
    spec.cwd = dir;
    try {
        m_child = Child::start(spec);
    } catch (...) {
        ::close(out_pipe[0]);
        ::close(out_pipe[1]);
        if (err_fd > 2) ::close(err_fd);
        throw;
    }
    ::close(out_pipe[1]);
    if (err_fd > 2) ::close(err_fd);
    m_stdout_fd = out_pipe[0];
    // Read the first line, with a deadline. On a throw the members' destructors
    // (m_child: the whole group) still run, so nothing is left behind.
    auto deadline = std::chrono::steady_clock::now() + o.startup;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) break;
        pollfd p{m_stdout_fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
        char c;
        ssize_t got = ::read(m_stdout_fd, &c, 1);
        if (got <= 0) break;
        if (c == '\n') return;
        m_first_line.push_back(c);
    }
    ::close(m_stdout_fd);
    m_stdout_fd = -1;
    m_child.kill();
    throw std::runtime_error("background process printed no first line: " + argv.at(0));
}

Background::~Background()
{
    m_child.stop(std::chrono::seconds(2));
    if (m_stdout_fd >= 0) ::close(m_stdout_fd);
}

int Background::stop(int sig, std::chrono::milliseconds limit)
{
    m_child.signal(sig);
    if (auto st = m_child.wait_for(limit)) return exit_code_of(*st);
    m_child.kill();
    return -1;
}

} // namespace pitool::test
