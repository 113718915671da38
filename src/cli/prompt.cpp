#include "cli/prompt.hpp"

#include "cli/input.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
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

Result<Secret> TtyPrompt::ask_secret(std::string_view question)
{
    int fd = ::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) return make_error(Errc::usage, "no terminal to prompt on");
    termios old{};
    bool restore = ::tcgetattr(fd, &old) == 0;
    if (restore) {
        termios quiet = old;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        quiet.c_lflag |= ECHONL;
        ::tcsetattr(fd, TCSAFLUSH, &quiet);
    }
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
    if (restore) ::tcsetattr(fd, TCSAFLUSH, &old);
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
