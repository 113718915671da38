#include "support/process.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <system_error>

namespace pitool::test {
namespace {

// Every test binary links this file: libsodium must be ready before any
// Secret is made (sodium_malloc needs sodium_init).
[[maybe_unused]] const int k_sodium_ready = [] {
    if (sodium_init() < 0) std::abort();
    return 0;
}();

std::vector<std::string> base_env(const std::map<std::string, std::string>& extra)
{
    std::map<std::string, std::string> env;
    env["PATH"] = "/usr/local/bin:/usr/bin:/bin";
    if (const char* home = std::getenv("HOME")) env["HOME"] = home;
    env["LANG"] = "C";
    if (const char* tmp = std::getenv("TMPDIR")) env["TMPDIR"] = tmp;
    // Sanitizer settings of a sanitized test run reach the binaries under test.
    for (const char* name : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"})
        if (const char* v = std::getenv(name)) env[name] = v;
    for (const auto& [k, v] : extra) env[k] = v;
    std::vector<std::string> out;
    for (const auto& [k, v] : env) out.push_back(k + "=" + v);
    return out;
}

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

} // namespace

RunResult run(const std::vector<std::string>& argv_in, const RunOptions& opts)
{
    int in_pipe[2], out_pipe[2], err_pipe[2];
    if (::pipe2(in_pipe, O_CLOEXEC) != 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0)
        throw std::system_error(errno, std::generic_category(), "pipe");

    std::vector<std::string> argv = argv_in;
    std::vector<std::string> envs = base_env(opts.env);
    auto cargv = c_array(argv);
    auto cenv = c_array(envs);

    pid_t pid = ::fork();
    if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
    if (pid == 0) {
        ::setsid(); // no controlling terminal
        ::dup2(in_pipe[0], 0);
        ::dup2(out_pipe[1], 1);
        ::dup2(err_pipe[1], 2);
        if (opts.cwd && ::chdir(opts.cwd->c_str()) != 0) ::_exit(126);
        ::execve(cargv[0], cargv.data(), cenv.data());
        ::_exit(127);
    }
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
            ::kill(pid, SIGKILL);
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
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (killed)
        r.exit_code = 137;
    else if (WIFEXITED(status))
        r.exit_code = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        r.exit_code = 128 + WTERMSIG(status);
    return r;
}

TempDir::TempDir()
{
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base ? base : "/tmp") + "/pitool-test-XXXXXX";
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

Background::Background(const std::vector<std::string>& argv_in, const std::map<std::string, std::string>& env)
{
    int out_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
    std::vector<std::string> argv = argv_in;
    std::vector<std::string> envs = base_env(env);
    auto cargv = c_array(argv);
    auto cenv = c_array(envs);
    m_pid = ::fork();
    if (m_pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
    if (m_pid == 0) {
        ::setsid();
        int devnull = ::open("/dev/null", O_RDWR);
        ::dup2(devnull, 0);
        ::dup2(out_pipe[1], 1);
        if (std::getenv("PITOOL_TEST_SHOW_BACKGROUND") == nullptr) ::dup2(devnull, 2);
        ::execve(cargv[0], cargv.data(), cenv.data());
        ::_exit(127);
    }
    ::close(out_pipe[1]);
    m_stdout_fd = out_pipe[0];
    // Read the first line, with a deadline.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
        pollfd p{m_stdout_fd, POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        char c;
        ssize_t got = ::read(m_stdout_fd, &c, 1);
        if (got <= 0) break;
        if (c == '\n') return;
        m_first_line.push_back(c);
    }
    throw std::runtime_error("background process printed no first line: " + argv_in.at(0));
}

Background::~Background()
{
    if (m_pid > 0) {
        ::kill(m_pid, SIGTERM);
        int status = 0;
        for (int i = 0; i < 50; ++i) {
            if (::waitpid(m_pid, &status, WNOHANG) == m_pid) {
                m_pid = -1;
                break;
            }
            ::usleep(20'000);
        }
        if (m_pid > 0) {
            ::kill(m_pid, SIGKILL);
            ::waitpid(m_pid, &status, 0);
        }
    }
    if (m_stdout_fd >= 0) ::close(m_stdout_fd);
}

} // namespace pitool::test
