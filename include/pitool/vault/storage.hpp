#pragma once
/// Where the encrypted vault bytes live. The vault never touches files
/// directly, so another backend (a shared store for teams) can hold the same
/// client-side-encrypted bytes.

#include "pitool/util/fs.hpp"
#include "pitool/util/result.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
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

/// A version 3 data file: sealed boxes, only ever appended to, so every
/// offset an index names keeps its bytes for the life of the file.
class DataLog {
public:
    virtual ~DataLog() = default;
    [[nodiscard]] virtual std::uint64_t size() const = 0;
    /// Reads exactly out.size() bytes at `offset`; Errc::damaged past the end.
    [[nodiscard]] virtual Status read(std::uint64_t offset, std::span<std::uint8_t> out) const = 0;
    /// Appends at size() (a log opened for writing only).
    [[nodiscard]] virtual Status append(std::span<const std::uint8_t> bytes) = 0;
    /// Makes everything appended durable, the file's name included.
    [[nodiscard]] virtual Status sync() = 0;
    /// Undoes the appends of a write that failed.
    [[nodiscard]] virtual Status truncate(std::uint64_t size) = 0;
};

enum class DataMode : std::uint8_t { read, append, create };

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
    /// generation as a backup. Call only while holding lock(). An error means
    /// the vault was not replaced; once it is, the write succeeds (what fails
    /// after that is a warning, not an error: the caller must not undo).
    [[nodiscard]] virtual Status write(std::span<const std::uint8_t> bytes) = 0;
    /// Takes the exclusive writer lock, waiting at most `timeout`
    /// (Errc::io on timeout, or when the place is not safe to write to).
    [[nodiscard]] virtual Result<std::unique_ptr<StorageLock>> lock(std::chrono::milliseconds timeout) = 0;
    /// For messages: where the vault is.
    [[nodiscard]] virtual std::string describe() const = 0;

    /// The data file `id`: for reading, for appending (under lock()), or
    /// created empty (Errc::conflict if it exists). Errc::not_found, Errc::io.
    [[nodiscard]] virtual Result<std::unique_ptr<DataLog>> data(std::uint64_t id, DataMode mode) = 0;
    /// Removes every data file but `keep` (under lock(), after a write that
    /// started a new one). Best effort: a file left behind costs only space.
    virtual void remove_data_except(std::span<const std::uint64_t> keep) = 0;
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
    [[nodiscard]] Result<std::unique_ptr<DataLog>> data(std::uint64_t id, DataMode mode) override;
    void remove_data_except(std::span<const std::uint64_t> keep) override;
    [[nodiscard]] const std::vector<std::uint8_t>& bytes() const { return m_bytes; }
    /// The data files, by id (shared with the logs handed out).
    [[nodiscard]] std::map<std::uint64_t, std::shared_ptr<std::vector<std::uint8_t>>>& data_files() { return m_data; }

private:
    std::vector<std::uint8_t> m_bytes;
    bool m_exists = false;
    std::map<std::uint64_t, std::shared_ptr<std::vector<std::uint8_t>>> m_data;
};

/// A vault file `path`, with `path.lock` (flock), `path.bak` and the data
/// files `path.data-<16 hex digits>` beside it.
class FileStorage final : public Storage {
public:
    /// `data_base`, if given, names the data files instead of `path`: to
    /// open `vault.bak`, whose data files are the vault's.
    explicit FileStorage(std::filesystem::path path, std::filesystem::path data_base = {});
    [[nodiscard]] Result<std::vector<std::uint8_t>> read() override;
    [[nodiscard]] Result<std::unique_ptr<Snapshot>> snapshot() override;
    [[nodiscard]] Status write(std::span<const std::uint8_t> bytes) override;
    [[nodiscard]] Result<std::unique_ptr<StorageLock>> lock(std::chrono::milliseconds timeout) override;
    [[nodiscard]] std::string describe() const override { return m_path.string(); }
    [[nodiscard]] Result<std::unique_ptr<DataLog>> data(std::uint64_t id, DataMode mode) override;
    void remove_data_except(std::span<const std::uint64_t> keep) override;

    [[nodiscard]] const std::filesystem::path& path() const { return m_path; }
    /// The directory holding the vault ("." for a bare file name).
    [[nodiscard]] std::filesystem::path dir() const;
    /// Where write() reports what went wrong after the vault was replaced (a
    /// failed directory fsync): the write stands, so it is no error. Not
    /// secret. Without a sink such warnings are dropped.
    void set_warning_sink(std::function<void(const std::string&)> sink) { m_warn = std::move(sink); }
    [[nodiscard]] std::filesystem::path data_path(std::uint64_t id) const;
    [[nodiscard]] std::filesystem::path backup_path() const;
    [[nodiscard]] std::filesystem::path lock_path() const;

private:
    void remove_stale_temp_files() const;
    /// Creates the vault directory if missing; Errc::io when it breaks
    /// util::check_private_dir (no write goes into a directory others control).
    [[nodiscard]] Status prepare_dir() const;
    std::filesystem::path m_path;
    std::filesystem::path m_data_base;
    std::function<void(const std::string&)> m_warn;
};

} // namespace pitool::vault
