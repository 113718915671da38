#include "support/vault_snapshot.hpp"

#include <sys/stat.h>

#include <fstream>
#include <iterator>
#include <sstream>
#include <system_error>

namespace pitool::test {
namespace {

std::string read_all(const std::filesystem::path& p)
{
    std::ifstream in(p, std::ios::binary);
    if (!in) return "<unreadable>";
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string octal(unsigned mode)
{
    std::ostringstream s;
    s << std::oct << mode;
    return s.str();
}

} // namespace

VaultSnapshot::VaultSnapshot(std::filesystem::path dir) : m_dir(std::move(dir))
{
    std::error_code ec;
    if (!std::filesystem::is_directory(std::filesystem::symlink_status(m_dir, ec))) return;
    for (auto it = std::filesystem::recursive_directory_iterator(m_dir, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        const auto& p = it->path();
        struct stat st {};
        if (::lstat(p.c_str(), &st) != 0) continue;
        Entry e;
        e.mode = st.st_mode & 07777;
        e.uid = st.st_uid;
        e.gid = st.st_gid;
        if (S_ISREG(st.st_mode)) {
            e.type = 'f';
            e.contents = read_all(p);
        } else if (S_ISDIR(st.st_mode)) {
            e.type = 'd';
        } else if (S_ISLNK(st.st_mode)) {
            e.type = 'l';
            e.contents = std::filesystem::read_symlink(p, ec).string();
        }
        m_entries[std::filesystem::relative(p, m_dir).string()] = std::move(e);
    }
}

std::string VaultSnapshot::diff(const VaultSnapshot& later) const
{
    std::ostringstream out;
    for (const auto& [name, e] : m_entries) {
        auto it = later.m_entries.find(name);
        if (it == later.m_entries.end()) {
            out << "  removed: " << name << " (" << e.contents.size() << " bytes)\n";
            continue;
        }
        const Entry& n = it->second;
        if (n.type != e.type) out << "  type changed: " << name << " " << e.type << " -> " << n.type << "\n";
        if (n.uid != e.uid || n.gid != e.gid)
            out << "  owner changed: " << name << " " << e.uid << ":" << e.gid << " -> " << n.uid << ":" << n.gid
                << "\n";
        if (n.mode != e.mode)
            out << "  mode changed: " << name << " " << octal(e.mode) << " -> " << octal(n.mode) << "\n";
        if (n.contents != e.contents) {
            std::size_t at = 0;
            while (at < e.contents.size() && at < n.contents.size() && e.contents[at] == n.contents[at]) ++at;
            out << "  changed: " << name << " size " << e.contents.size() << " -> " << n.contents.size()
                << ", first difference at byte " << at << "\n";
        }
    }
    for (const auto& [name, n] : later.m_entries)
        if (!m_entries.contains(name))
            out << "  added: " << name << " ("
                << (n.type == 'd' ? "directory" : std::to_string(n.contents.size()) + " bytes") << ")\n";
    return out.str();
}

::testing::AssertionResult VaultSnapshot::same_as(const VaultSnapshot& later) const
{
    const std::string d = diff(later);
    if (d.empty()) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "the vault directory " << m_dir.string() << " changed:\n" << d;
}

::testing::AssertionResult VaultSnapshot::unchanged() const
{
    return same_as(VaultSnapshot(m_dir));
}

} // namespace pitool::test
