#include "pitool/vault/storage.hpp"

#include "pitool/vault/format.hpp"

#include <algorithm>
#include <memory>

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
/// A data file holds at most what a vault may index.
constexpr std::uint64_t k_max_data_file = 1ULL << 40;

class FileDataLog final : public DataLog {
public:
    FileDataLog(util::PrivateFile file, std::filesystem::path dir, bool created)
        : m_file(std::move(file)), m_dir(std::move(dir)), m_created(created)
    {
    }
    [[nodiscard]] std::uint64_t size() const override { return m_file.size(); }
    [[nodiscard]] Status read(std::uint64_t offset, std::span<std::uint8_t> out) const override
    {
        return m_file.read_at(offset, out);
    }
    [[nodiscard]] Status append(std::span<const std::uint8_t> bytes) override { return m_file.append(bytes); }
    [[nodiscard]] Status sync() override
    {
        PITOOL_TRY(m_file.sync());
        // A new file's name must be durable before an index names it.
        if (m_created) PITOOL_TRY(util::sync_dir(m_dir));
        m_created = false;
        return {};
    }
    [[nodiscard]] Status truncate(std::uint64_t size) override { return m_file.truncate(size); }

private:
    util::PrivateFile m_file;
    std::filesystem::path m_dir;
    bool m_created;
};

class MemoryDataLog final : public DataLog {
public:
    MemoryDataLog(std::shared_ptr<std::vector<std::uint8_t>> bytes, bool writable)
        : m_bytes(std::move(bytes)), m_writable(writable)
    {
    }
    [[nodiscard]] std::uint64_t size() const override { return m_bytes->size(); }
    [[nodiscard]] Status read(std::uint64_t offset, std::span<std::uint8_t> out) const override
    {
        if (offset > m_bytes->size() || out.size() > m_bytes->size() - offset)
            return make_error(Errc::damaged, "vault data file is truncated");
        std::copy_n(m_bytes->begin() + static_cast<std::ptrdiff_t>(offset), out.size(), out.begin());
        return {};
    }
    [[nodiscard]] Status append(std::span<const std::uint8_t> bytes) override
    {
        if (!m_writable) return make_error(Errc::internal, "data file opened read-only");
        m_bytes->insert(m_bytes->end(), bytes.begin(), bytes.end());
        return {};
    }
    [[nodiscard]] Status sync() override { return {}; }
    [[nodiscard]] Status truncate(std::uint64_t size) override
    {
        m_bytes->resize(static_cast<std::size_t>(size));
        return {};
    }

private:
    std::shared_ptr<std::vector<std::uint8_t>> m_bytes;
    bool m_writable;
};

std::string hex_id(std::uint64_t id)
{
    static constexpr char k_digits[] = "0123456789abcdef";
    std::string out(16, '0');
    for (int i = 15; i >= 0; --i, id >>= 4) out[static_cast<std::size_t>(i)] = k_digits[id & 0xf];
    return out;
}

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

Result<std::unique_ptr<DataLog>> MemoryStorage::data(std::uint64_t id, DataMode mode)
{
    auto it = m_data.find(id);
    if (mode == DataMode::create) {
        if (it != m_data.end()) return make_error(Errc::conflict, "data file exists");
        it = m_data.emplace(id, std::make_shared<std::vector<std::uint8_t>>()).first;
    } else if (it == m_data.end()) {
        return make_error(Errc::not_found, "no vault data file in memory");
    }
    return std::unique_ptr<DataLog>(std::make_unique<MemoryDataLog>(it->second, mode != DataMode::read));
}

void MemoryStorage::remove_data_except(std::span<const std::uint64_t> keep)
{
    std::erase_if(m_data, [&](const auto& kv) { return std::find(keep.begin(), keep.end(), kv.first) == keep.end(); });
}

Result<std::unique_ptr<Snapshot>> FileStorage::snapshot()
{
    auto f = util::PrivateFile::open(m_path, k_max_file);
    if (!f && f.error().code == Errc::not_found)
        return make_error(Errc::not_found, "no vault at " + m_path.string() + " (run: pitool init)");
    if (!f) return std::move(f).error();
    return std::unique_ptr<Snapshot>(std::make_unique<FileSnapshot>(std::move(f).value()));
}

FileStorage::FileStorage(std::filesystem::path path, std::filesystem::path data_base)
    : m_path(std::move(path)), m_data_base(data_base.empty() ? m_path : std::move(data_base))
{
}

std::filesystem::path FileStorage::data_path(std::uint64_t id) const
{
    return m_data_base.string() + ".data-" + hex_id(id);
}

Result<std::unique_ptr<DataLog>> FileStorage::data(std::uint64_t id, DataMode mode)
{
    using M = util::PrivateFile::Mode;
    auto path = data_path(id);
    if (mode == DataMode::create) PITOOL_TRY(util::ensure_private_dir(path.parent_path()));
    auto f = util::PrivateFile::open(path, k_max_data_file,
                                     mode == DataMode::read     ? M::read
                                     : mode == DataMode::append ? M::append
                                                                : M::create);
    if (!f && f.error().code == Errc::not_found)
        return make_error(Errc::not_found, "vault data file " + path.string() + " is missing");
    if (!f) return std::move(f).error();
    auto dir = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
    return std::unique_ptr<DataLog>(
        std::make_unique<FileDataLog>(std::move(f).value(), std::move(dir), mode == DataMode::create));
}

void FileStorage::remove_data_except(std::span<const std::uint64_t> keep)
{
    auto dir = m_data_base.parent_path().empty() ? std::filesystem::path(".") : m_data_base.parent_path();
    const std::string prefix = m_data_base.filename().string() + ".data-";
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
        const std::string name = e.path().filename().string();
        if (name.size() != prefix.size() + 16 || name.rfind(prefix, 0) != 0) continue;
        bool kept = false;
        for (auto id : keep) kept = kept || name.substr(prefix.size()) == hex_id(id);
        std::error_code ignored;
        if (!kept && e.is_regular_file(ignored) && !e.is_symlink(ignored)) std::filesystem::remove(e.path(), ignored);
    }
}

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

std::filesystem::path FileStorage::dir() const
{
    return m_path.parent_path().empty() ? std::filesystem::path(".") : m_path.parent_path();
}

Status FileStorage::prepare_dir() const
{
    PITOOL_TRY(util::ensure_private_dir(m_path.parent_path()));
    if (auto st = util::check_private_dir(dir()); !st)
        return make_error(Errc::io, "refusing to write the vault: " + st.error().message);
    return {};
}

Status FileStorage::write(std::span<const std::uint8_t> bytes)
{
    PITOOL_TRY(prepare_dir());
    remove_stale_temp_files();
    auto bak = backup_path();
    std::string warning;
    PITOOL_TRY(util::atomic_replace(m_path, bytes, &bak, &warning));
    if (!warning.empty() && m_warn) m_warn(warning);
    return {};
}

void FileStorage::remove_stale_temp_files() const
{
    // Writers make temp files only while holding the lock, which the caller
    // of write() holds: any temp file present now was left by a writer that
    // died before its rename. It never held the only copy of anything.
    std::string prefix = "." + m_path.filename().string() + ".tmp.";
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir(), ec)) {
        if (e.path().filename().string().rfind(prefix, 0) != 0) continue;
        std::error_code ignored;
        if (e.is_regular_file(ignored) && !e.is_symlink(ignored)) std::filesystem::remove(e.path(), ignored);
    }
}

Result<std::unique_ptr<StorageLock>> FileStorage::lock(std::chrono::milliseconds timeout)
{
    PITOOL_TRY(prepare_dir());
    auto l = util::FileLock::acquire(lock_path(), timeout);
    if (!l) return std::move(l).error();
    return std::unique_ptr<StorageLock>(std::make_unique<FileStorageLock>(std::move(l).value()));
}

} // namespace pitool::vault
