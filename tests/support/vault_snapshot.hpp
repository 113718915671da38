#pragma once
// "Nothing was written": a snapshot of every entry of a vault directory
// (`vault`, `vault.bak`, every `vault.data-*`, the lock file, temporaries,
// anything else) with its type, owner, mode, size and contents, and a comparison
// that names what changed. Format 3 writes by appending to the data file
// and a failed write truncates it back, so a check of `vault` alone proves
// nothing about a failed command: compare the whole directory.

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>

namespace pitool::test {

class VaultSnapshot {
public:
    /// One directory entry (relative path below the snapshot's root).
    struct Entry {
        char type = '?';      ///< 'f' regular file, 'd' directory, 'l' symlink, '?' other
        unsigned mode = 0;    ///< permission bits
        unsigned uid = 0;     ///< owner
        unsigned gid = 0;     ///< group
        std::string contents; ///< file bytes, link target, empty for directories
    };

    /// Reads every entry below `dir` recursively, without following symlinks.
    /// A missing `dir` gives an empty snapshot (so "the directory was not
    /// created" compares equal to an empty snapshot of a missing directory).
    explicit VaultSnapshot(std::filesystem::path dir);

    [[nodiscard]] const std::filesystem::path& dir() const { return m_dir; }
    [[nodiscard]] const std::map<std::string, Entry>& entries() const { return m_entries; }

    /// Empty when `later` holds exactly the same entries with the same type,
    /// owner, mode and bytes; otherwise one line per difference: added, removed,
    /// type, owner or mode changed, size changed, first differing byte offset.
    [[nodiscard]] std::string diff(const VaultSnapshot& later) const;

    /// Success when the directory still holds exactly this snapshot; the
    /// failure message is diff() against the directory as it is now.
    [[nodiscard]] ::testing::AssertionResult unchanged() const;

    /// Success when `later` equals this snapshot (message: diff()).
    [[nodiscard]] ::testing::AssertionResult same_as(const VaultSnapshot& later) const;

private:
    std::filesystem::path m_dir;
    std::map<std::string, Entry> m_entries;
};

} // namespace pitool::test
