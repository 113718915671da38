#pragma once
/// Files that hold secrets: private reads, atomic replacement, locking.

#include "pitool/util/result.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace pitool::util {

/// Reads a private regular file whole. Refuses (Errc::io) a symlink, a
/// directory or other non-regular file, a file owned by another user, or a
/// file readable or writable by group/others; refuses one larger than
/// `max_size` with Errc::damaged (it cannot be what the caller expects).
/// Errc::not_found when it does not exist.
[[nodiscard]] Result<std::vector<std::uint8_t>> read_private_file(const std::filesystem::path& path,
                                                                  std::uintmax_t max_size);

/// A private file open for reading: one generation of it, whatever renames
/// happen afterwards. Same checks as read_private_file.
class PrivateFile {
public:
    enum class Mode : std::uint8_t {
        read,   ///< read only
        append, ///< read and append to an existing file
        create, ///< a new empty file, mode 0600 (Errc::conflict if one exists)
    };
    [[nodiscard]] static Result<PrivateFile> open(const std::filesystem::path& path, std::uintmax_t max_size,
                                                  Mode mode = Mode::read);
    PrivateFile(PrivateFile&& o) noexcept;
    PrivateFile& operator=(PrivateFile&& o) noexcept;
    PrivateFile(const PrivateFile&) = delete;
    PrivateFile& operator=(const PrivateFile&) = delete;
    ~PrivateFile();

    [[nodiscard]] std::uint64_t size() const noexcept { return m_size; }
    /// Reads exactly out.size() bytes at `offset`; Errc::damaged if the file
    /// is shorter (it shrank: not a file we wrote), Errc::io on errors.
    [[nodiscard]] Status read_at(std::uint64_t offset, std::span<std::uint8_t> out) const;
    /// Appends at size() (append and create modes). Errc::io.
    [[nodiscard]] Status append(std::span<const std::uint8_t> bytes);
    /// Makes the appended bytes durable (fdatasync). Errc::io.
    [[nodiscard]] Status sync();
    /// Cuts the file back to `size` bytes (undoing appends). Errc::io.
    [[nodiscard]] Status truncate(std::uint64_t size);
    /// Overwrites `len` bytes at `offset` with zeros in place (append and
    /// create modes; the file's O_APPEND is lifted for the write and put
    /// back). Durable after sync(). Errc::io; Errc::damaged past the end.
    [[nodiscard]] Status zero(std::uint64_t offset, std::uint64_t len);

private:
    PrivateFile(int fd, std::uint64_t size, std::string path) : m_fd(fd), m_size(size), m_path(std::move(path)) {}
    int m_fd = -1;
    std::uint64_t m_size = 0;
    std::string m_path;
};

/// Atomically replaces (or creates) `path` with `data`, mode 0600: writes a
/// temp file in the same directory, fsyncs it, optionally makes `backup` a
/// hard link to the previous generation, renames over `path`, and fsyncs the
/// directory. On failure before the rename the old file is untouched and the
/// temp file removed: Errc::io (full disk, read-only directory...). Once the
/// rename has happened `path` holds `data` and success is returned: a failed
/// directory fsync is then only reported in `warning` (when given), since
/// undoing anything would break the file that now stands.
[[nodiscard]] Status atomic_replace(const std::filesystem::path& path, std::span<const std::uint8_t> data,
                                    const std::filesystem::path* backup = nullptr, std::string* warning = nullptr);

/// Like atomic_replace, but never replaces: `path` appears whole with `data`
/// (mode 0600) or not at all. Errc::conflict when `path` already exists
/// (also when another process created it first), Errc::io otherwise.
[[nodiscard]] Status atomic_create(const std::filesystem::path& path, std::span<const std::uint8_t> data,
                                   std::string* warning = nullptr);

/// The rule for a directory that holds private files (the vault's): owned by
/// our uid and not writable by group or others, else another user could
/// replace or remove the files in it. Errc::io with a one-line message naming
/// the chmod or chown to run; Errc::not_found when `dir` does not exist.
/// Follows a symlink: the directory it names is checked.
[[nodiscard]] Status check_private_dir(const std::filesystem::path& dir);

/// fsyncs a directory, so that entries created or renamed in it are durable.
[[nodiscard]] Status sync_dir(const std::filesystem::path& dir);

/// Creates `dir` and missing parents; a directory it creates gets mode 0700.
[[nodiscard]] Status ensure_private_dir(const std::filesystem::path& dir);

/// An exclusive advisory lock (flock) on a lock file, released on destruction.
class FileLock {
public:
    FileLock() = default;
    FileLock(FileLock&& other) noexcept;
    FileLock& operator=(FileLock&& other) noexcept;
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;
    ~FileLock();

    /// Takes the lock on `path` (created 0600 if missing), waiting at most
    /// `timeout`. Errc::io on timeout, with a message saying another pitool
    /// holds it, or when the file cannot be opened.
    [[nodiscard]] static Result<FileLock> acquire(const std::filesystem::path& path, std::chrono::milliseconds timeout);

private:
    explicit FileLock(int fd) : m_fd(fd) {}
    int m_fd = -1;
};

/// "strerror(errno)" for messages.
[[nodiscard]] std::string errno_text(int err);

} // namespace pitool::util
