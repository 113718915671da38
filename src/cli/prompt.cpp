#include "cli/prompt.hpp"

#include "cli/input.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <termios.h>
#include <unistd.h>

#include <csignal>
#include <cerrno>
#include <iterator>
#include <optional>
#include <cstdlib>
#include <string>

namespace pitool::cli {

bool TtyPrompt::available() const
{
    int fd = ::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) return false;
    ::close(fd);
    return true;
}

bool TtyPrompt::stdin_is_terminal() const
{
    return ::isatty(STDIN_FILENO) == 1;
}

namespace {

// While echo is off, a signal that ends the process must turn it back on:
// a parent shell such as dash, or a Python script, does not restore the
// terminal, and the user would type blind afterwards.
constexpr int k_fatal_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
volatile sig_atomic_t g_tty_fd = -1;
termios g_tty_saved{};

extern "C" void restore_tty_and_die(int sig)
{
    if (g_tty_fd >= 0) ::tcsetattr(g_tty_fd, TCSAFLUSH, &g_tty_saved);
    ::signal(sig, SIG_DFL);
    ::raise(sig);
}

/// Echo off on `fd` for its lifetime, restored on destruction and by the
/// fatal signals above (their earlier handlers are put back afterwards).
class EchoOff {
public:
    explicit EchoOff(int fd) : m_fd(fd)
    {
        if (::tcgetattr(fd, &m_saved) != 0) return;
        g_tty_saved = m_saved;
        g_tty_fd = fd;
        struct sigaction sa {};
        sa.sa_handler = restore_tty_and_die;
        sigemptyset(&sa.sa_mask);
        for (std::size_t i = 0; i < std::size(k_fatal_signals); ++i)
            ::sigaction(k_fatal_signals[i], &sa, &m_previous[i]);
        termios quiet = m_saved;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        quiet.c_lflag |= ECHONL;
        ::tcsetattr(fd, TCSAFLUSH, &quiet);
        m_active = true;
    }
    ~EchoOff()
    {
        if (!m_active) return;
        ::tcsetattr(m_fd, TCSAFLUSH, &m_saved);
        g_tty_fd = -1;
        for (std::size_t i = 0; i < std::size(k_fatal_signals); ++i)
            ::sigaction(k_fatal_signals[i], &m_previous[i], nullptr);
    }
    EchoOff(const EchoOff&) = delete;
    EchoOff& operator=(const EchoOff&) = delete;

private:
    int m_fd;
    termios m_saved{};
    struct sigaction m_previous[std::size(k_fatal_signals)]{};
    bool m_active = false;
};

} // namespace

Result<Secret> TtyPrompt::ask_secret(std::string_view question)
{
    int fd = ::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) return make_error(Errc::usage, "no terminal to prompt on");
    std::optional<EchoOff> echo_off(std::in_place, fd);
    (void)!::write(fd, question.data(), question.size());
    Secret buf(k_max_secret_input);
    std::size_t used = 0;
    bool eol = false;
    while (!eol && used < buf.size()) {
        char c = 0;
        ssize_t n = ::read(fd, &c, 1);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0 || c == '\n' || c == '\r') {
            eol = true;
        } else {
            buf.data()[used++] = static_cast<unsigned char>(c);
        }
    }
    echo_off.reset();
    ::close(fd);
    buf.truncate(used);
    return buf;
}

const char* ProcessEnvironment::get(const char* name) const
{
    return std::getenv(name);
}

std::string current_actor()
{
    std::string user;
    passwd pw{};
    passwd* found = nullptr;
    char buf[4096];
    if (::getpwuid_r(::geteuid(), &pw, buf, sizeof buf, &found) == 0 && found != nullptr)
        user = found->pw_name;
    else
        user = "uid" + std::to_string(::geteuid());
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
    return user + "@" + (host[0] != '\0' ? host : "localhost");
}

} // namespace pitool::cli
