#include "pitool/vault/storage.hpp"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <set>

namespace pitool::vault {

struct MemoryStorage::Locks {
    std::mutex mu;
    std::condition_variable cv;
    std::set<std::string, std::less<>> held;
};

namespace {

class MemoryLock final : public StorageLock {
public:
    MemoryLock(std::shared_ptr<MemoryStorage::Locks> locks, std::string name)
        : m_locks(std::move(locks)), m_name(std::move(name))
    {
    }
    MemoryLock(const MemoryLock&) = delete;
    MemoryLock& operator=(const MemoryLock&) = delete;
    ~MemoryLock() override
    {
        {
            std::lock_guard lock(m_locks->mu);
            m_locks->held.erase(m_name);
        }
        m_locks->cv.notify_all();
    }

private:
    std::shared_ptr<MemoryStorage::Locks> m_locks;
    std::string m_name;
};

class MemoryBoxLog final : public BoxLog {
public:
    MemoryBoxLog(std::shared_ptr<std::vector<std::uint8_t>> bytes, bool writable)
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
    [[nodiscard]] Status put(std::span<const std::uint8_t> bytes) override
    {
        if (!m_writable) return make_error(Errc::internal, "data file opened read-only");
        m_bytes->insert(m_bytes->end(), bytes.begin(), bytes.end());
        return {};
    }
    [[nodiscard]] Status sync() override { return {}; }
    [[nodiscard]] Status discard_from(std::uint64_t size) override
    {
        if (size < m_bytes->size()) m_bytes->resize(static_cast<std::size_t>(size));
        return {};
    }
    [[nodiscard]] Status wipe(std::uint64_t offset, std::uint64_t len) override
    {
        if (!m_writable) return make_error(Errc::internal, "data file opened read-only");
        if (offset > m_bytes->size() || len > m_bytes->size() - offset)
            return make_error(Errc::damaged, "wiping past the end of the vault data file");
        std::fill_n(m_bytes->begin() + static_cast<std::ptrdiff_t>(offset), len, std::uint8_t{0});
        return {};
    }

private:
    std::shared_ptr<std::vector<std::uint8_t>> m_bytes;
    bool m_writable;
};

} // namespace

Status MemorySnapshot::read(std::uint64_t offset, std::span<std::uint8_t> out) const
{
    if (offset > m_bytes.size() || out.size() > m_bytes.size() - offset)
        return make_error(Errc::damaged, "vault is truncated");
    std::copy_n(m_bytes.begin() + static_cast<std::ptrdiff_t>(offset), out.size(), out.begin());
    return {};
}

Result<std::vector<std::uint8_t>> Storage::read()
{
    PITOOL_TRY_ASSIGN(auto head, read_head());
    std::vector<std::uint8_t> data(static_cast<std::size_t>(head.bytes->size()));
    auto st = head.bytes->read(0, data);
    // A file that shrank underneath us: the decoder sees what is there.
    if (!st && st.error().code != Errc::damaged) return std::move(st).error();
    return data;
}

MemoryStorage::MemoryStorage() : m_locks(std::make_shared<Locks>()) {}

MemoryStorage::MemoryStorage(std::vector<std::uint8_t> bytes)
    : m_head(std::move(bytes)), m_generation(1), m_locks(std::make_shared<Locks>())
{
}

Result<Head> MemoryStorage::read_head()
{
    if (m_generation == 0) return make_error(Errc::not_found, "no vault in memory");
    return Head{std::make_unique<MemorySnapshot>(m_head), HeadVersion{std::to_string(m_generation)}};
}

Result<HeadVersion> MemoryStorage::swap_head(const HeadVersion& expected, std::span<const std::uint8_t> bytes)
{
    const HeadVersion current{m_generation == 0 ? std::string() : std::to_string(m_generation)};
    if (current != expected) return make_error(Errc::conflict, "the vault in memory changed while it was written");
    m_backup = std::move(m_head);
    m_head.assign(bytes.begin(), bytes.end());
    return HeadVersion{std::to_string(++m_generation)};
}

Result<Head> MemoryStorage::read_backup()
{
    if (m_backup.empty()) return make_error(Errc::not_found, "no backup in memory");
    return Head{std::make_unique<MemorySnapshot>(m_backup), HeadVersion{"backup-" + std::to_string(m_generation)}};
}

Result<std::unique_ptr<BoxLog>> MemoryStorage::boxes(std::uint64_t id, BoxMode mode)
{
    auto it = m_logs.find(id);
    if (mode == BoxMode::create) {
        if (it != m_logs.end()) return make_error(Errc::conflict, "data file exists");
        it = m_logs.emplace(id, std::make_shared<std::vector<std::uint8_t>>()).first;
    } else if (it == m_logs.end()) {
        return make_error(Errc::not_found, "no vault data file in memory");
    }
    return std::unique_ptr<BoxLog>(std::make_unique<MemoryBoxLog>(it->second, mode != BoxMode::read));
}

void MemoryStorage::collect_boxes(std::span<const std::uint64_t> named)
{
    std::erase_if(m_logs,
                  [&](const auto& kv) { return std::find(named.begin(), named.end(), kv.first) == named.end(); });
}

Result<std::unique_ptr<StorageLock>> MemoryStorage::lock(std::string_view name, std::chrono::milliseconds timeout)
{
    std::unique_lock lock(m_locks->mu);
    if (!m_locks->cv.wait_for(lock, timeout, [&] { return !m_locks->held.contains(name); }))
        return make_error(Errc::io,
                          "timed out waiting for the lock '" + std::string(name) + "' of the vault in memory");
    m_locks->held.emplace(name);
    return std::unique_ptr<StorageLock>(std::make_unique<MemoryLock>(m_locks, std::string(name)));
}

} // namespace pitool::vault
