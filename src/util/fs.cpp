#include "pitool/util/fs.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>
#include <utility>

namespace pitool::util {
namespace {

Errc errc_for(int err)
{
    return err == ENOENT ? Errc::not_found : Errc::io;
}

class Fd {
public:
    explicit Fd(int fd) : m_fd(fd) {}
    ~Fd()
    {
        if (m_fd >= 0) ::close(m_fd);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return m_fd; }
    int release() { return std::exchange(m_fd, -1); }

private:
    int m_fd;
};

Status write_all(int fd, std::span<const std::uint8_t> data)
{
    std::size_t off = 0;
    while (off < data.size()) {
        ssize_t n = ::write(fd, data.data() + off, data.size() - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            return make_error(Errc::io, errno_text(errno));
        }
        off += static_cast<std::size_t>(n);
    }
    return {};
}

} // namespace

Status sync_dir(const std::filesystem::path& dir)
{
    Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0 || ::fsync(fd.get()) != 0)
        return make_error(Errc::io, "cannot sync directory " + dir.string() + ": " + errno_text(errno));
    return {};
}

std::string errno_text(int err)
{
    return std::strerror(err);
}

Result<PrivateFile> PrivateFile::open(const std::filesystem::path& path, std::uintmax_t max_size, Mode mode)
{
    int flags = O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;
    // Writable modes append only (O_APPEND): the file's end is where append() writes.
    flags |= mode == Mode::read     ? O_RDONLY
             : mode == Mode::append ? O_RDWR | O_APPEND
                                    : O_RDWR | O_APPEND | O_CREAT | O_EXCL;
    Fd fd(::open(path.c_str(), flags, 0600));
    if (fd.get() < 0) {
        int err = errno;
        if (err == ELOOP) return make_error(Errc::io, path.string() + " is a symbolic link; refusing to follow it");
        if (err == EEXIST) return make_error(Errc::conflict, path.string() + " already exists");
        return make_error(errc_for(err), "cannot open " + path.string() + ": " + errno_text(err));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        return make_error(Errc::io, "cannot stat " + path.string() + ": " + errno_text(errno));
    if (S_ISDIR(st.st_mode)) return make_error(Errc::io, path.string() + " is a directory, not a vault file");
    if (!S_ISREG(st.st_mode)) return make_error(Errc::io, path.string() + " is not a regular file");
    if (st.st_uid != ::geteuid())
        return make_error(Errc::io, path.string() + " is owned by another user; refusing to use it");
    if ((st.st_mode & 077) != 0)
        return make_error(Errc::io,
                          path.string() + " is accessible by group or others (run: chmod 600 " + path.string() + ")");
    if (static_cast<std::uintmax_t>(st.st_size) > max_size)
        return make_error(Errc::damaged, path.string() + " is too large to be a vault");
    return PrivateFile(fd.release(), static_cast<std::uint64_t>(st.st_size), path.string());
}

PrivateFile::PrivateFile(PrivateFile&& o) noexcept
    : m_fd(std::exchange(o.m_fd, -1)), m_size(o.m_size), m_path(std::move(o.m_path))
{
}

PrivateFile& PrivateFile::operator=(PrivateFile&& o) noexcept
{
    if (this != &o) {
        if (m_fd >= 0) ::close(m_fd);
        m_fd = std::exchange(o.m_fd, -1);
        m_size = o.m_size;
        m_path = std::move(o.m_path);
    }
    return *this;
}

PrivateFile::~PrivateFile()
{
    if (m_fd >= 0) ::close(m_fd);
}

Status PrivateFile::read_at(std::uint64_t offset, std::span<std::uint8_t> out) const
{
    std::size_t done = 0;
    while (done < out.size()) {
        ssize_t n = ::pread(m_fd, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
        if (n < 0) {
            if (errno == EINTR) continue;
            return make_error(Errc::io, "cannot read " + m_path + ": " + errno_text(errno));
        }
        if (n == 0) return make_error(Errc::damaged, m_path + " is truncated");
        done += static_cast<std::size_t>(n);
    }
    return {};
}

Status PrivateFile::append(std::span<const std::uint8_t> bytes)
{
    if (auto st = write_all(m_fd, bytes); !st)
        return make_error(Errc::io, "cannot write " + m_path + ": " + st.error().message);
    m_size += bytes.size();
    return {};
}

Status PrivateFile::sync()
{
    if (::fdatasync(m_fd) != 0) return make_error(Errc::io, "cannot sync " + m_path + ": " + errno_text(errno));
    return {};
}

Status PrivateFile::truncate(std::uint64_t size)
{
    if (::ftruncate(m_fd, static_cast<off_t>(size)) != 0)
        return make_error(Errc::io, "cannot truncate " + m_path + ": " + errno_text(errno));
    m_size = size;
    return {};
}

Status PrivateFile::zero(std::uint64_t offset, std::uint64_t len)
{
    if (offset > m_size || len > m_size - offset)
        return make_error(Errc::damaged, "cannot wipe past the end of " + m_path);
    // pwrite() on an O_APPEND descriptor appends on Linux: lift the flag.
    const int flags = ::fcntl(m_fd, F_GETFL);
    if (flags < 0 || ::fcntl(m_fd, F_SETFL, flags & ~O_APPEND) != 0)
        return make_error(Errc::io, "cannot wipe " + m_path + ": " + errno_text(errno));
    static const std::array<std::uint8_t, 4096> k_zeros{};
    Status st;
    while (len > 0 && st) {
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(len, k_zeros.size()));
        const ssize_t w = ::pwrite(m_fd, k_zeros.data(), n, static_cast<off_t>(offset));
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            st = make_error(Errc::io, "cannot wipe " + m_path + ": " + errno_text(w < 0 ? errno : EIO));
            break;
        }
        offset += static_cast<std::uint64_t>(w);
        len -= static_cast<std::uint64_t>(w);
    }
    (void)::fcntl(m_fd, F_SETFL, flags);
    return st;
}

Result<std::vector<std::uint8_t>> read_private_file(const std::filesystem::path& path, std::uintmax_t max_size)
{
    PITOOL_TRY_ASSIGN(const auto f, PrivateFile::open(path, max_size));
    std::vector<std::uint8_t> data(static_cast<std::size_t>(f.size()));
    auto st = f.read_at(0, data);
    // A file that shrank underneath us: the decoder sees what is there.
    if (!st && st.error().code != Errc::damaged) return std::move(st).error();
    return data;
}

namespace {

/// A durable temporary file beside `path` holding `data` (mode 0600): its
/// name, or Errc::io with nothing left behind.
Result<std::string> write_temp_beside(const std::filesystem::path& path, std::span<const std::uint8_t> data)
{
    auto dir = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
    std::string tmpl = (dir / ("." + path.filename().string() + ".tmp.XXXXXX")).string();
    Fd fd(::mkostemp(tmpl.data(), O_CLOEXEC)); // mode 0600
    if (fd.get() < 0)
        return make_error(Errc::io, "cannot create a temporary file in " + dir.string() + ": " + errno_text(errno));
    auto fail = [&](const std::string& what, int err) {
        ::unlink(tmpl.c_str());
        return make_error(Errc::io, what + ": " + errno_text(err));
    };
    if (auto st = write_all(fd.get(), data); !st) return fail("cannot write " + path.string(), errno ? errno : EIO);
    if (::fsync(fd.get()) != 0) return fail("cannot sync " + path.string(), errno);
    if (::close(fd.release()) != 0) return fail("cannot write " + path.string(), errno);
    return tmpl;
}

/// After `path` was put in place: a failed directory fsync is a warning only.
void sync_parent(const std::filesystem::path& path, std::string* warning)
{
    auto dir = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
    if (auto st = sync_dir(dir); !st && warning != nullptr)
        *warning = path.string() + " was written, but " + st.error().message + " (it may not survive a crash)";
}

} // namespace

Status atomic_replace(const std::filesystem::path& path, std::span<const std::uint8_t> data,
                      const std::filesystem::path* backup, std::string* warning)
{
    PITOOL_TRY_ASSIGN(const std::string tmp, write_temp_beside(path, data));
    auto fail = [&](const std::string& what, int err) {
        ::unlink(tmp.c_str());
        return make_error(Errc::io, what + ": " + errno_text(err));
    };
    if (backup != nullptr) {
        // Make `backup` point at the current generation (a hard link: no copy).
        std::string bak_tmp = backup->string() + ".new";
        ::unlink(bak_tmp.c_str());
        if (::link(path.c_str(), bak_tmp.c_str()) == 0) {
            if (::rename(bak_tmp.c_str(), backup->c_str()) != 0) {
                int err = errno;
                ::unlink(bak_tmp.c_str());
                return fail("cannot update backup " + backup->string(), err);
            }
        } else if (errno != ENOENT) {
            return fail("cannot update backup " + backup->string(), errno);
        }
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) return fail("cannot replace " + path.string(), errno);
    // From here `path` is the new file: nothing may be undone.
    sync_parent(path, warning);
    return {};
}

Status atomic_create(const std::filesystem::path& path, std::span<const std::uint8_t> data, std::string* warning)
{
    PITOOL_TRY_ASSIGN(const std::string tmp, write_temp_beside(path, data));
    // link() never replaces: of two creators, exactly one wins.
    const int rc = ::link(tmp.c_str(), path.c_str());
    const int err = errno;
    ::unlink(tmp.c_str());
    if (rc != 0) {
        if (err == EEXIST) return make_error(Errc::conflict, path.string() + " already exists");
        return make_error(Errc::io, "cannot create " + path.string() + ": " + errno_text(err));
    }
    sync_parent(path, warning);
    return {};
}

Status check_private_dir(const std::filesystem::path& dir)
{
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) {
        int err = errno;
        return make_error(errc_for(err), "cannot check directory " + dir.string() + ": " + errno_text(err));
    }
    if (!S_ISDIR(st.st_mode)) return make_error(Errc::io, dir.string() + " is not a directory");
    if (st.st_uid != ::geteuid())
        return make_error(Errc::io, "directory " + dir.string() + " is owned by uid " + std::to_string(st.st_uid) +
                                        ", not by you (run: chown " + std::to_string(::geteuid()) + " " + dir.string() +
                                        ")");
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        return make_error(Errc::io, "directory " + dir.string() + " is writable by group or others (mode " + mode +
                                        "; run: chmod go-w " + dir.string() + ")");
    }
    return {};
}

Status ensure_private_dir(const std::filesystem::path& dir)
{
    if (dir.empty()) return {};
    struct stat st {};
    if (::stat(dir.c_str(), &st) == 0) {
        if (!S_ISDIR(st.st_mode)) return make_error(Errc::io, dir.string() + " is not a directory");
        return {};
    }
    if (auto parent = dir.parent_path(); !parent.empty() && parent != dir) PITOOL_TRY(ensure_private_dir(parent));
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
        return make_error(Errc::io, "cannot create directory " + dir.string() + ": " + errno_text(errno));
    return {};
}

FileLock::FileLock(FileLock&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}

FileLock& FileLock::operator=(FileLock&& other) noexcept
{
    if (this != &other) {
        if (m_fd >= 0) ::close(m_fd);
        m_fd = std::exchange(other.m_fd, -1);
    }
    return *this;
}

FileLock::~FileLock()
{
    if (m_fd >= 0) ::close(m_fd); // closing releases the flock
}

Result<FileLock> FileLock::acquire(const std::filesystem::path& path, std::chrono::milliseconds timeout)
{
    Fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (fd.get() < 0) return make_error(Errc::io, "cannot open lock file " + path.string() + ": " + errno_text(errno));
    auto deadline = std::chrono::steady_clock::now() + timeout;
    auto pause = std::chrono::milliseconds(2);
    for (;;) {
        if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) return FileLock(fd.release());
        if (errno != EWOULDBLOCK && errno != EINTR)
            return make_error(Errc::io, "cannot lock " + path.string() + ": " + errno_text(errno));
        if (std::chrono::steady_clock::now() >= deadline)
            return make_error(Errc::io, "the vault is locked by another pitool process (waited " +
                                            std::to_string(timeout.count()) + " ms)");
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(50));
    }
}

} // namespace pitool::util
