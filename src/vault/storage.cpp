#include "pitool/vault/storage.hpp"

#include "pitool/vault/format.hpp"

namespace pitool::vault {
namespace {

class FileStorageLock final : public StorageLock {
public:
    explicit FileStorageLock(util::FileLock lock) : m_lock(std::move(lock)) {}

private:
    util::FileLock m_lock;
};

} // namespace

FileStorage::FileStorage(std::filesystem::path path) : m_path(std::move(path)) {}

std::filesystem::path FileStorage::backup_path() const
{
    return m_path.string() + ".bak";
}

std::filesystem::path FileStorage::lock_path() const
{
    return m_path.string() + ".lock";
}

Result<std::vector<std::uint8_t>> FileStorage::read()
{
    auto r = util::read_private_file(m_path, header_size(k_max_recipients) + k_max_payload_bytes);
    if (!r && r.error().code == Errc::not_found)
        return make_error(Errc::not_found, "no vault at " + m_path.string() + " (run: pitool init)");
    return r;
}

Status FileStorage::write(std::span<const std::uint8_t> bytes)
{
    PITOOL_TRY(util::ensure_private_dir(m_path.parent_path()));
    remove_stale_temp_files();
    auto bak = backup_path();
    return util::atomic_replace(m_path, bytes, &bak);
}

void FileStorage::remove_stale_temp_files() const
{
    // Writers make temp files only while holding the lock, which the caller
    // of write() holds: any temp file present now was left by a writer that
    // died before its rename. It never held the only copy of anything.
    auto dir = m_path.parent_path().empty() ? std::filesystem::path(".") : m_path.parent_path();
    std::string prefix = "." + m_path.filename().string() + ".tmp.";
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
        if (e.path().filename().string().rfind(prefix, 0) != 0) continue;
        std::error_code ignored;
        if (e.is_regular_file(ignored) && !e.is_symlink(ignored)) std::filesystem::remove(e.path(), ignored);
    }
}

Result<std::unique_ptr<StorageLock>> FileStorage::lock(std::chrono::milliseconds timeout)
{
    PITOOL_TRY(util::ensure_private_dir(m_path.parent_path()));
    auto l = util::FileLock::acquire(lock_path(), timeout);
    if (!l) return std::move(l).error();
    return std::unique_ptr<StorageLock>(std::make_unique<FileStorageLock>(std::move(l).value()));
}

} // namespace pitool::vault
