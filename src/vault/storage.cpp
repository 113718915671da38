#include "pitool/vault/storage.hpp"

#include "pitool/vault/format.hpp"

#include <algorithm>

namespace pitool::vault {
namespace {

class FileStorageLock final : public StorageLock {
public:
    explicit FileStorageLock(util::FileLock lock) : m_lock(std::move(lock)) {}

private:
    util::FileLock m_lock;
};

class FileSnapshot final : public Snapshot {
public:
    explicit FileSnapshot(util::PrivateFile file) : m_file(std::move(file)) {}
    [[nodiscard]] std::uint64_t size() const override { return m_file.size(); }
    [[nodiscard]] Status read(std::uint64_t offset, std::span<std::uint8_t> out) const override
    {
        return m_file.read_at(offset, out);
    }

private:
    util::PrivateFile m_file;
};

constexpr std::uint64_t k_max_file = header_size(k_max_recipients) + k_max_payload_bytes;

} // namespace

Status MemorySnapshot::read(std::uint64_t offset, std::span<std::uint8_t> out) const
{
    if (offset > m_bytes.size() || out.size() > m_bytes.size() - offset)
        return make_error(Errc::damaged, "vault is truncated");
    std::copy_n(m_bytes.begin() + static_cast<std::ptrdiff_t>(offset), out.size(), out.begin());
    return {};
}

Result<std::unique_ptr<Snapshot>> Storage::snapshot()
{
    auto bytes = read();
    if (!bytes) return std::move(bytes).error();
    return std::unique_ptr<Snapshot>(std::make_unique<MemorySnapshot>(std::move(bytes).value()));
}

Result<std::vector<std::uint8_t>> MemoryStorage::read()
{
    if (!m_exists) return make_error(Errc::not_found, "no vault in memory");
    return m_bytes;
}

Status MemoryStorage::write(std::span<const std::uint8_t> bytes)
{
    m_bytes.assign(bytes.begin(), bytes.end());
    m_exists = true;
    return {};
}

Result<std::unique_ptr<StorageLock>> MemoryStorage::lock(std::chrono::milliseconds)
{
    return std::make_unique<StorageLock>();
}

Result<std::unique_ptr<Snapshot>> FileStorage::snapshot()
{
    auto f = util::PrivateFile::open(m_path, k_max_file);
    if (!f && f.error().code == Errc::not_found)
        return make_error(Errc::not_found, "no vault at " + m_path.string() + " (run: pitool init)");
    if (!f) return std::move(f).error();
    return std::unique_ptr<Snapshot>(std::make_unique<FileSnapshot>(std::move(f).value()));
}

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
    auto r = util::read_private_file(m_path, k_max_file);
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
