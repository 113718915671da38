#include "pitool/vault/storage.hpp"

#include "pitool/vault/format.hpp"

#include <sys/stat.h>

#include <cerrno>
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

class FileBoxLog final : public BoxLog {
public:
    FileBoxLog(util::PrivateFile file, std::filesystem::path dir, bool created)
        : m_file(std::move(file)), m_dir(std::move(dir)), m_created(created)
    {
    }
    [[nodiscard]] std::uint64_t size() const override { return m_file.size(); }
    [[nodiscard]] Status read(std::uint64_t offset, std::span<std::uint8_t> out) const override
    {
        return m_file.read_at(offset, out);
    }
    [[nodiscard]] Status put(std::span<const std::uint8_t> bytes) override { return m_file.append(bytes); }
    [[nodiscard]] Status sync() override
    {
        PITOOL_TRY(m_file.sync());
        // A new file's name must be durable before an index names it.
        if (m_created) PITOOL_TRY(util::sync_dir(m_dir));
        m_created = false;
        return {};
    }
    [[nodiscard]] Status discard_from(std::uint64_t size) override { return m_file.truncate(size); }
    [[nodiscard]] Status wipe(std::uint64_t offset, std::uint64_t len) override { return m_file.zero(offset, len); }

private:
    util::PrivateFile m_file;
    std::filesystem::path m_dir;
    bool m_created;
};

std::string hex_id(std::uint64_t id)
{
    static constexpr char k_digits[] = "0123456789abcdef";
    std::string out(16, '0');
    for (int i = 15; i >= 0; --i, id >>= 4) out[static_cast<std::size_t>(i)] = k_digits[id & 0xf];
    return out;
}

std::filesystem::path dir_of(const std::filesystem::path& p)
{
    return p.parent_path().empty() ? std::filesystem::path(".") : p.parent_path();
}

/// The identity of the file at `path` now (not following a symbolic link):
/// a new one after every rename into place. Absent if there is none; an
/// error if it cannot be read (the open that follows says why).
Result<HeadVersion> file_version(const std::filesystem::path& path)
{
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return HeadVersion{};
        return make_error(Errc::io, "cannot stat " + path.string());
    }
    auto ns = [](const timespec& t) { return std::to_string(t.tv_sec) + "." + std::to_string(t.tv_nsec); };
    return HeadVersion{std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) +
                       ":" + ns(st.st_mtim) + ":" + ns(st.st_ctim)};
}

Error no_vault(const std::filesystem::path& path)
{
    return make_error(Errc::not_found, "no vault at " + path.string() + " (run: pitool init)");
}

} // namespace

FileStorage::FileStorage(std::filesystem::path path, std::filesystem::path data_base)
    : m_path(std::move(path)), m_data_base(data_base.empty() ? m_path : std::move(data_base))
{
}

Result<Head> FileStorage::read_head()
{
    // The version is taken before and after opening: equal, it is the
    // version of the file opened (a swap in between renames a new file).
    for (int attempt = 0;; ++attempt) {
        auto before = file_version(m_path);
        auto f = util::PrivateFile::open(m_path, k_max_file);
        if (!f && f.error().code == Errc::not_found) return no_vault(m_path);
        if (!f) return std::move(f).error();
        PITOOL_TRY_ASSIGN(auto after, file_version(m_path));
        if ((!before || before.value() != after) && attempt < 8) continue;
        return Head{std::make_unique<FileSnapshot>(std::move(f).value()), std::move(after)};
    }
}

Result<HeadVersion> FileStorage::swap_head(const HeadVersion& expected, std::span<const std::uint8_t> bytes)
{
    PITOOL_TRY(prepare_dir());
    PITOOL_TRY_ASSIGN(auto current, file_version(m_path));
    if (current != expected)
        return make_error(Errc::conflict, "the vault at " + m_path.string() + " changed while it was written");
    remove_stale_temp_files();
    auto bak = backup_path();
    std::string warning;
    PITOOL_TRY(util::atomic_replace(m_path, bytes, &bak, &warning));
    if (!warning.empty()) warn(warning);
    return file_version(m_path);
}

Result<Head> FileStorage::read_backup()
{
    auto head = FileStorage(backup_path(), m_data_base).read_head();
    if (!head && head.error().code == Errc::not_found)
        return make_error(Errc::not_found, "no backup at " + backup_path().string());
    return head;
}

std::filesystem::path FileStorage::dir() const
{
    return dir_of(m_path);
}

Status FileStorage::prepare_dir() const
{
    PITOOL_TRY(util::ensure_private_dir(m_path.parent_path()));
    if (auto st = util::check_private_dir(dir()); !st)
        return make_error(Errc::io, "refusing to write the vault: " + st.error().message);
    return {};
}

std::filesystem::path FileStorage::data_path(std::uint64_t id) const
{
    return m_data_base.string() + ".data-" + hex_id(id);
}

Result<std::unique_ptr<BoxLog>> FileStorage::boxes(std::uint64_t id, BoxMode mode)
{
    using M = util::PrivateFile::Mode;
    auto path = data_path(id);
    if (mode == BoxMode::create) PITOOL_TRY(util::ensure_private_dir(path.parent_path()));
    auto f = util::PrivateFile::open(path, k_max_data_file,
                                     mode == BoxMode::read     ? M::read
                                     : mode == BoxMode::append ? M::append
                                                               : M::create);
    if (!f && f.error().code == Errc::not_found)
        return make_error(Errc::not_found, "vault data file " + path.string() + " is missing");
    if (!f) return std::move(f).error();
    return std::unique_ptr<BoxLog>(
        std::make_unique<FileBoxLog>(std::move(f).value(), dir_of(path), mode == BoxMode::create));
}

void FileStorage::collect_boxes(std::span<const std::uint64_t> named)
{
    const std::string prefix = m_data_base.filename().string() + ".data-";
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir_of(m_data_base), ec)) {
        const std::string name = e.path().filename().string();
        if (name.size() != prefix.size() + 16 || name.rfind(prefix, 0) != 0) continue;
        bool kept = false;
        for (auto id : named) kept = kept || name.substr(prefix.size()) == hex_id(id);
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

void FileStorage::remove_stale_temp_files() const
{
    // Writers make temp files only while holding the lock, which the caller
    // of swap_head() holds: any temp file present now was left by a writer
    // that died before its rename. It never held the only copy of anything.
    std::string prefix = "." + m_path.filename().string() + ".tmp.";
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir_of(m_path), ec)) {
        if (e.path().filename().string().rfind(prefix, 0) != 0) continue;
        std::error_code ignored;
        if (e.is_regular_file(ignored) && !e.is_symlink(ignored)) std::filesystem::remove(e.path(), ignored);
    }
}

Result<std::unique_ptr<StorageLock>> FileStorage::lock(std::string_view name, std::chrono::milliseconds timeout)
{
    PITOOL_TRY(prepare_dir());
    const std::filesystem::path path = name == k_writer_lock
                                           ? lock_path()
                                           : std::filesystem::path(m_path.string() + "." + std::string(name) + ".lock");
    PITOOL_TRY_ASSIGN(auto l, util::FileLock::acquire(path, timeout));
    return std::unique_ptr<StorageLock>(std::make_unique<FileStorageLock>(std::move(l)));
}

} // namespace pitool::vault
