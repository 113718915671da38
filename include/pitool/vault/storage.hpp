#pragma once
/// Where the encrypted vault bytes live. The vault never touches files
/// directly, so another backend (a shared store for teams) can hold the same
/// client-side-encrypted bytes.

#include "pitool/util/fs.hpp"
#include "pitool/util/result.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace pitool::vault {

/// Held while a read-modify-write is in progress; releases on destruction.
class StorageLock {
public:
    virtual ~StorageLock() = default;
};

/// One generation of the stored vault, read piece by piece: later writes
/// (which replace the vault) do not change what a snapshot reads.
class Snapshot {
public:
    virtual ~Snapshot() = default;
    [[nodiscard]] virtual std::uint64_t size() const = 0;
    /// Reads exactly out.size() bytes at `offset`; Errc::damaged past the end.
    [[nodiscard]] virtual Status read(std::uint64_t offset, std::span<std::uint8_t> out) const = 0;
};

/// A snapshot of bytes held in memory.
class MemorySnapshot final : public Snapshot {
public:
    explicit MemorySnapshot(std::vector<std::uint8_t> bytes) : m_bytes(std::move(bytes)) {}
    [[nodiscard]] std::uint64_t size() const override { return m_bytes.size(); }
    [[nodiscard]] Status read(std::uint64_t offset, std::span<std::uint8_t> out) const override;

private:
    std::vector<std::uint8_t> m_bytes;
};

class Storage {
public:
    virtual ~Storage() = default;
    /// The current generation, for reading in pieces. Same errors as read();
    /// the default reads it whole.
    [[nodiscard]] virtual Result<std::unique_ptr<Snapshot>> snapshot();
    /// The whole encrypted vault. Errc::not_found if there is none yet;
    /// Errc::io for permission or ownership problems. Never a torn read.
    [[nodiscard]] virtual Result<std::vector<std::uint8_t>> read() = 0;
    /// Replaces the vault atomically (all or nothing), keeping the previous
    /// generation as a backup. Call only while holding lock().
    [[nodiscard]] virtual Status write(std::span<const std::uint8_t> bytes) = 0;
    /// Takes the exclusive writer lock, waiting at most `timeout`
    /// (Errc::io on timeout).
    [[nodiscard]] virtual Result<std::unique_ptr<StorageLock>> lock(std::chrono::milliseconds timeout) = 0;
    /// For messages: where the vault is.
    [[nodiscard]] virtual std::string describe() const = 0;
};

/// A vault held in memory (tests, fuzzers, decrypt_image). The lock is a no-op.
class MemoryStorage final : public Storage {
public:
    MemoryStorage() = default;
    explicit MemoryStorage(std::vector<std::uint8_t> bytes) : m_bytes(std::move(bytes)), m_exists(true) {}
    [[nodiscard]] Result<std::vector<std::uint8_t>> read() override;
    [[nodiscard]] Status write(std::span<const std::uint8_t> bytes) override;
    [[nodiscard]] Result<std::unique_ptr<StorageLock>> lock(std::chrono::milliseconds timeout) override;
    [[nodiscard]] std::string describe() const override { return "(memory)"; }
    [[nodiscard]] const std::vector<std::uint8_t>& bytes() const { return m_bytes; }

private:
    std::vector<std::uint8_t> m_bytes;
    bool m_exists = false;
};

/// A vault file `path`, with `path.lock` (flock) and `path.bak` beside it.
class FileStorage final : public Storage {
public:
    explicit FileStorage(std::filesystem::path path);
    [[nodiscard]] Result<std::vector<std::uint8_t>> read() override;
    [[nodiscard]] Result<std::unique_ptr<Snapshot>> snapshot() override;
    [[nodiscard]] Status write(std::span<const std::uint8_t> bytes) override;
    [[nodiscard]] Result<std::unique_ptr<StorageLock>> lock(std::chrono::milliseconds timeout) override;
    [[nodiscard]] std::string describe() const override { return m_path.string(); }

    [[nodiscard]] const std::filesystem::path& path() const { return m_path; }
    [[nodiscard]] std::filesystem::path backup_path() const;
    [[nodiscard]] std::filesystem::path lock_path() const;

private:
    void remove_stale_temp_files() const;
    std::filesystem::path m_path;
};

} // namespace pitool::vault
