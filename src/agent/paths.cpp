#include "pitool/agent/agent.hpp"

#include "pitool/util/fs.hpp"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <system_error>
#include <vector>

namespace pitool::agent {

std::filesystem::path socket_path(const char* override_path, const char* xdg_runtime_dir, const char* home)
{
    if (override_path != nullptr && *override_path != '\0') return override_path;
    if (xdg_runtime_dir != nullptr && *xdg_runtime_dir == '/') {
        struct stat st {};
        if (::lstat(xdg_runtime_dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == ::geteuid())
            return std::filesystem::path(xdg_runtime_dir) / "pitool" / "agent.sock";
    }
    // Not /tmp/pitool-<uid>: another user could create that directory first.
    // Only we can create entries in our home.
    std::string dir = home != nullptr && *home == '/' ? home : "";
    if (dir.empty()) {
        std::vector<char> buf(16384);
        passwd pw{};
        passwd* found = nullptr;
        if (::getpwuid_r(::geteuid(), &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr &&
            found->pw_dir != nullptr && *found->pw_dir == '/')
            dir = found->pw_dir;
    }
    if (dir.empty()) return {};
    return std::filesystem::path(dir) / ".cache" / "pitool-agent" / "agent.sock";
}

Status prepare_socket_dir(const std::filesystem::path& dir)
{
    const std::string where = "agent socket directory " + dir.string();
    if (dir.empty()) return make_error(Errc::io, "no agent socket directory: set PITOOL_AGENT_SOCKET or HOME");
    // The parent too (~/.cache on a fresh account), private when we make it.
    if (::mkdir(dir.c_str(), 0700) != 0 && errno == ENOENT && dir.has_parent_path())
        ::mkdir(dir.parent_path().c_str(), 0700);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
        return make_error(Errc::io, "cannot create " + where + ": " + util::errno_text(errno));
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0)
        return make_error(Errc::io, "cannot read " + where + ": " + util::errno_text(errno));
    if (S_ISLNK(st.st_mode)) return make_error(Errc::io, where + " is a symlink; refusing to use it");
    if (!S_ISDIR(st.st_mode)) return make_error(Errc::io, where + " is not a directory; refusing to use it");
    if (st.st_uid != ::geteuid())
        return make_error(Errc::io,
                          where + " is owned by uid " + std::to_string(st.st_uid) + ", not by us; refusing to use it");
    if ((st.st_mode & 077) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        return make_error(Errc::io, where + " is accessible by group or others (mode " + mode +
                                        "); refusing to use it (chmod 700 it)");
    }
    return {};
}

std::string vault_id(const std::filesystem::path& vault)
{
    std::error_code ec;
    auto abs = std::filesystem::absolute(vault, ec);
    if (ec) abs = vault;
    auto canon = std::filesystem::weakly_canonical(abs, ec);
    return (ec ? abs.lexically_normal() : canon).string();
}

} // namespace pitool::agent
