#pragma once
/// Where the encrypted vault bytes live: the seam between the vault format
/// and a store. The vault never touches files directly, so another store (a
/// shared one for teams, e.g. etcd) can hold the same client-side-encrypted
/// bytes. Nothing a store sees is secret: every byte is sealed by the vault.
///
/// A store holds three things:
///  - **boxes**: sealed byte strings in numbered box logs. A log's bytes,
///    once put, never change while a head or the backup names them, so an
///    offset a head names keeps its bytes for the life of the log. Boxes
///    are put in batches at a log's end. A secrets box that neither the
///    head nor the backup names any more is wiped (zeroed in place), so that
///    a replaced token cannot be read back from the log.
///  - **the head**: one small value (the vault file: header and top index)
///    naming the box log and the boxes of the current generation, read with
///    its version and replaced only by compare-and-swap on that version.
///  - **named locks** with a time limit, serialising read-modify-write
///    cycles among writers.
/// A writer takes the lock, reads the head, puts its new boxes, makes them
/// durable, swaps the head, then wipes the secrets boxes that only the
/// generation the swap dropped named and collects the logs no head names. Readers
/// take no lock: they read a head, then the boxes it names.
///
/// How an etcd store would meet this contract: the head is one key and its
/// version is that key's mod_revision (swap_head is a transaction comparing
/// MOD; "absent" compares CREATE with 0); a box log is a key prefix holding
/// one key per batch named by its offset (keys are never rewritten; a batch
/// stays under the 1.5 MiB request limit); collect_boxes deletes the
/// prefixes of other ids; a lock is a key created only if absent and
/// attached to a lease whose TTL is the time limit, revoked on release.
/// Conformance: tests/unit/vault/storage_conformance_test.cpp runs the same
/// cases against every implementation.

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
#include <string_view>
#include <vector>

namespace pitool::vault {

/// Held while a read-modify-write is in progress; releasing it (destroying
/// it) lets the next writer in.
class StorageLock {
public:
    virtual ~StorageLock() = default;
};

/// The lock writers of a vault take.
inline constexpr std::string_view k_writer_lock = "writer";

/// Which generation of the head was read: opaque, compared only for
/// equality. Empty means "there is no head".
struct HeadVersion {
    std::string token;
    [[nodiscard]] bool absent() const noexcept { return token.empty(); }
    friend bool operator==(const HeadVersion&, const HeadVersion&) = default;
};

/// One generation of the head, read piece by piece: later swaps do not
/// change what a snapshot reads.
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

/// A head as read: its bytes and their version.
struct Head {
    std::unique_ptr<Snapshot> bytes;
    HeadVersion version;
};

/// One box log (a version 3 data file): immutable boxes, put at its end.
class BoxLog {
public:
    virtual ~BoxLog() = default;
    /// Bytes put so far (what a reader opened at this moment sees).
    [[nodiscard]] virtual std::uint64_t size() const = 0;
    /// Reads exactly out.size() bytes at `offset`; Errc::damaged past the end.
    [[nodiscard]] virtual Status read(std::uint64_t offset, std::span<std::uint8_t> out) const = 0;
    /// Puts a batch of boxes at size() (a log opened for writing only).
    /// Errc::io.
    [[nodiscard]] virtual Status put(std::span<const std::uint8_t> bytes) = 0;
    /// Makes every batch put durable (and a new log's existence with it),
    /// before a head may name them. Errc::io.
    [[nodiscard]] virtual Status sync() = 0;
    /// Forgets the batches put since the log was `size` bytes long, which no
    /// head names (a write that failed before its swap). Best effort.
    [[nodiscard]] virtual Status discard_from(std::uint64_t size) = 0;
    /// Overwrites `len` bytes at `offset` with zeros, in place (a log opened
    /// for writing only), for a box neither the head nor the backup names;
    /// durable after sync(). Errc::io; Errc::damaged past the end.
    [[nodiscard]] virtual Status wipe(std::uint64_t offset, std::uint64_t len) = 0;
};

enum class BoxMode : std::uint8_t {
    read,   ///< read only; Errc::not_found if the log does not exist
    append, ///< read and put; Errc::not_found if it does not exist
    create, ///< a new empty log; Errc::conflict if the id is taken
};

class Storage {
public:
    virtual ~Storage() = default;

    /// The current head and its version. Errc::not_found if there is none
    /// yet; Errc::io for permission or ownership problems. Never torn: the
    /// bytes are one generation, and `version` is theirs.
    [[nodiscard]] virtual Result<Head> read_head() = 0;
    /// Replaces the head with `bytes` if its version is still `expected`
    /// (absent: only if there is no head), keeping the previous generation
    /// as a backup where the store keeps one; all or nothing. Returns the new
    /// version. Errc::conflict if the head changed; Errc::io, also when the
    /// place is not safe to write to. An error means the head was not
    /// replaced; once it is, the swap succeeds (what fails after that is a
    /// warning, not an error: the caller must not undo). Call only while
    /// holding lock(k_writer_lock).
    [[nodiscard]] virtual Result<HeadVersion> swap_head(const HeadVersion& expected,
                                                        std::span<const std::uint8_t> bytes) = 0;
    /// The previous generation swap_head kept as the backup. Errc::not_found
    /// if the store keeps none (yet); the errors of read_head() otherwise.
    [[nodiscard]] virtual Result<Head> read_backup() = 0;

    /// The box log `id` (never 0), opened as `mode` says; append and create
    /// only under lock(k_writer_lock). Errc::not_found, Errc::conflict
    /// (create), Errc::io.
    [[nodiscard]] virtual Result<std::unique_ptr<BoxLog>> boxes(std::uint64_t id, BoxMode mode) = 0;
    /// Removes every box log but those `named` (what the current head and
    /// the backup name), under lock(k_writer_lock) after a swap. Best
    /// effort: a log left behind costs only space.
    virtual void collect_boxes(std::span<const std::uint64_t> named) = 0;

    /// Takes the lock called `name`, waiting at most `timeout` (Errc::io on
    /// timeout, saying so). Held until the returned object is destroyed; a
    /// holder that dies releases it (a crashed process, an expired lease).
    [[nodiscard]] virtual Result<std::unique_ptr<StorageLock>> lock(std::string_view name,
                                                                    std::chrono::milliseconds timeout) = 0;
    /// For messages: where the vault is.
    [[nodiscard]] virtual std::string describe() const = 0;

    /// Where the store reports what went wrong after the head was swapped
    /// (a failed directory fsync, a box it could not wipe): the write stands,
    /// so it is no error. Not secret. Without a sink such warnings are
    /// dropped.
    void set_warning_sink(std::function<void(const std::string&)> sink) { m_warn = std::move(sink); }
    /// Passes `message` to the warning sink, if there is one.
    void warn(const std::string& message) const
    {
        if (m_warn) m_warn(message);
    }

    /// lock(k_writer_lock, timeout).
    [[nodiscard]] Result<std::unique_ptr<StorageLock>> lock(std::chrono::milliseconds timeout)
    {
        return lock(k_writer_lock, timeout);
    }
    /// The whole current head; the errors of read_head().
    [[nodiscard]] Result<std::vector<std::uint8_t>> read();

private:
    std::function<void(const std::string&)> m_warn;
};

/// A vault held in memory (tests, fuzzers, decrypt_image). Locks are real
/// (within the process); nothing is durable.
class MemoryStorage final : public Storage {
public:
    MemoryStorage();
    /// A store whose head is `bytes`.
    explicit MemoryStorage(std::vector<std::uint8_t> bytes);
    [[nodiscard]] Result<Head> read_head() override;
    [[nodiscard]] Result<HeadVersion> swap_head(const HeadVersion& expected,
                                                std::span<const std::uint8_t> bytes) override;
    [[nodiscard]] Result<Head> read_backup() override;
    [[nodiscard]] Result<std::unique_ptr<BoxLog>> boxes(std::uint64_t id, BoxMode mode) override;
    void collect_boxes(std::span<const std::uint64_t> named) override;
    using Storage::lock;
    [[nodiscard]] Result<std::unique_ptr<StorageLock>> lock(std::string_view name,
                                                            std::chrono::milliseconds timeout) override;
    [[nodiscard]] std::string describe() const override { return "(memory)"; }

    /// The head's bytes (empty if there is none).
    [[nodiscard]] const std::vector<std::uint8_t>& bytes() const { return m_head; }
    /// The box logs, by id (shared with the logs handed out).
    [[nodiscard]] std::map<std::uint64_t, std::shared_ptr<std::vector<std::uint8_t>>>& data_files() { return m_logs; }

    struct Locks; ///< the names held, shared with the lock objects
private:
    std::vector<std::uint8_t> m_head;
    std::vector<std::uint8_t> m_backup; ///< the head before the last swap (empty: none)
    std::uint64_t m_generation = 0;     ///< 0: no head
    std::map<std::uint64_t, std::shared_ptr<std::vector<std::uint8_t>>> m_logs;
    std::shared_ptr<Locks> m_locks;
};

/// A vault file `path` (the head), with `path.lock` (flock: the writer
/// lock; another name N locks `path.N.lock`), `path.bak` (the previous
/// head) and the box logs `path.data-<16 hex digits>` beside it. A head's
/// version is its file's identity (device, inode, size, times): every swap
/// renames a new file into place.
class FileStorage final : public Storage {
public:
    /// `data_base`, if given, names the data files instead of `path`: to
    /// open `vault.bak`, whose data files are the vault's.
    explicit FileStorage(std::filesystem::path path, std::filesystem::path data_base = {});
    [[nodiscard]] Result<Head> read_head() override;
    [[nodiscard]] Result<HeadVersion> swap_head(const HeadVersion& expected,
                                                std::span<const std::uint8_t> bytes) override;
    /// `path.bak`, read as a head (its data files are the vault's).
    [[nodiscard]] Result<Head> read_backup() override;
    [[nodiscard]] Result<std::unique_ptr<BoxLog>> boxes(std::uint64_t id, BoxMode mode) override;
    void collect_boxes(std::span<const std::uint64_t> named) override;
    using Storage::lock;
    [[nodiscard]] Result<std::unique_ptr<StorageLock>> lock(std::string_view name,
                                                            std::chrono::milliseconds timeout) override;
    [[nodiscard]] std::string describe() const override { return m_path.string(); }

    [[nodiscard]] const std::filesystem::path& path() const { return m_path; }
    /// The directory holding the vault ("." for a bare file name).
    [[nodiscard]] std::filesystem::path dir() const;
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
};

} // namespace pitool::vault
