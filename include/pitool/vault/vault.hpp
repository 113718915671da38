#pragma once
/// An unlocked vault: its index, the records decoded so far, and the data
/// key that seals them.
///
/// A version 3 vault seals every integration as two boxes (metadata and
/// secrets) in an append-only data file, listed by index parts that a small
/// top index in the vault file names. A command decodes only what it
/// touches: `get` reads the top index, one part and one record; `list` every
/// record's metadata but no token; a save appends the records it re-sealed
/// and the parts they changed, and rewrites only the vault file.
/// `payload()` holds the loaded records; load() and load_all() bring more
/// in. Version 1 and 2 vaults are read by their own reader
/// (src/vault/legacy_reader.hpp), version 3 like version 4 without an id;
/// all are written back as version 4 at the first save; the writer is
/// src/vault/writer.hpp.
///
/// Every save writes the next generation (the header's counter, one more
/// each time) under the vault's stable id; comparing them with what a
/// machine has seen (cli/generations.hpp) is how a rolled-back copy is
/// found.

#include "pitool/core/model.hpp"
#include "pitool/crypto/crypto.hpp"
#include "pitool/vault/format.hpp"
#include "pitool/vault/storage.hpp"

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <set>

namespace pitool::vault {

namespace detail {
struct Index;
struct IndexEntry;
class Writer;
} // namespace detail

class Vault {
public:
    /// Makes a new vault in `storage` with a fresh random data key wrapped by
    /// `passphrase` (secret) under `params`, holding `initial`. Errc::conflict
    /// if a vault exists. The caller holds storage.lock().
    [[nodiscard]] static Result<Vault> create(Storage& storage, const Secret& passphrase,
                                              const crypto::KdfParams& params, core::Payload initial = {});

    /// Reads the header and index (v1: the whole payload). Errc::not_found
    /// (no vault), Errc::wrong_passphrase, Errc::damaged (not a vault,
    /// unsupported, corrupted), Errc::io. Never writes. If `known` is an open
    /// vault whose recipients are byte-identical to the file's, its data key
    /// is reused and the (slow) key derivation skipped: open once without the
    /// lock, then again under it.
    [[nodiscard]] static Result<Vault> open(Storage& storage, const Secret& passphrase, const Vault* known = nullptr);

    /// Opens with an already unwrapped data key (secret), e.g. one held by the
    /// agent, skipping key derivation. Errc::wrong_passphrase if `key` does
    /// not open this vault; otherwise the errors of open().
    [[nodiscard]] static Result<Vault> open_with_key(Storage& storage, const Secret& key);
    /// open_with_key taking the key over (no copy in guarded memory).
    [[nodiscard]] static Result<Vault> open_with_key(Storage& storage, Secret&& key);

    Vault(Vault&&) noexcept;
    Vault& operator=(Vault&&) noexcept;
    ~Vault();

    /// The data key (secret): for handing to the agent only.
    [[nodiscard]] const Secret& data_key() const noexcept { return m_key; }
    [[nodiscard]] const Header& header() const noexcept { return m_header; }
    /// The format version of the file as it was read (1 to 4).
    [[nodiscard]] std::uint16_t file_version() const noexcept { return m_file_version; }
    /// Whether the generation read has a vault id (v4): v1 to v3 files have
    /// none until their first save.
    [[nodiscard]] bool has_id() const noexcept { return has_vault_id(m_header); }
    /// The vault's id (all zero without one).
    [[nodiscard]] const VaultId& id() const noexcept { return m_header.vault_id; }
    /// The generation read or last saved (0 without an id).
    [[nodiscard]] std::uint64_t generation() const noexcept { return m_header.generation; }
    /// Makes the next save write a generation above `seen` as well as above
    /// the current one: `restore` writes older content as a generation
    /// newer than any this machine has seen.
    void supersede(std::uint64_t seen) noexcept { m_supersede = std::max(m_supersede, seen); }

    /// contains(), names() and windows_ended() read index parts as needed:
    /// Errc::damaged if one does not authenticate.

    /// Whether an integration of that name exists, loaded or not (counting
    /// changes not yet saved).
    [[nodiscard]] Result<bool> contains(std::string_view name) const;
    /// Every integration's name, sorted.
    [[nodiscard]] Result<std::vector<std::string>> names() const;
    /// Integrations whose rotation window ends at or before `now` (reads
    /// only the parts that hold one).
    [[nodiscard]] Result<std::vector<std::string>> windows_ended(Timestamp now) const;

    /// Brings `name` into payload() if it is stored and not there yet; with
    /// `secrets`, its tokens too (also for a record loaded without them). A
    /// name that is not stored is not an error: payload().find() says so.
    /// Errc::damaged if its boxes do not authenticate. Loading may move the
    /// loaded records: take pointers into payload() after loading.
    [[nodiscard]] Status load(std::string_view name, bool secrets = true);
    /// Every integration's metadata, and with `secrets` its tokens.
    [[nodiscard]] Status load_all(bool secrets = false);
    /// The whole history into payload().history, before any event recorded
    /// since opening.
    [[nodiscard]] Status load_history();
    /// Decodes one stored record (as saved, ignoring unsaved changes)
    /// without keeping it. Errc::not_found.
    [[nodiscard]] Result<core::Integration> read_record(std::string_view name, bool secrets) const;
    /// Calls `visit` with every stored record (as saved, ignoring unsaved
    /// changes) in name order, decoded one at a time and then dropped, with
    /// its tokens if `secrets`: for passes over every record in bounded
    /// memory. Stops at the first error, `visit`'s included.
    [[nodiscard]] Status for_each_record(bool secrets,
                                         const std::function<Status(const core::Integration&)>& visit) const;

    /// Adds a new integration sealed at once, so its secrets do not stay in
    /// memory: for bulk imports. Errc::conflict if the name exists, loaded,
    /// stored or staged. It is written by the next save() but is not in
    /// payload().
    [[nodiscard]] Status stage(const core::Integration& in);

    /// The loaded integrations and the history loaded or recorded so far.
    /// Add, change or erase loaded integrations here; save() writes them.
    [[nodiscard]] core::Payload& payload() noexcept { return m_payload; }
    [[nodiscard]] const core::Payload& payload() const noexcept { return m_payload; }

    /// Writes the vault atomically: appends the loaded records re-sealed under
    /// fresh nonces and the index parts they changed to the data file (or,
    /// when that is mostly dead boxes or the file is not version 3 yet,
    /// writes a new data file with every live box), makes them durable, then
    /// swaps the head (header and top index) in the storage. The head written
    /// is the next generation: generation() + 1 (and above supersede()), a
    /// vault without an id getting a fresh random one. Until that swap
    /// the old generation is whole; a failure discards what was appended.
    /// The caller holds storage.lock(). Errc::conflict if two loaded records
    /// share a name, or if the head changed since this vault read it.
    [[nodiscard]] Status save();

    /// Gives the vault a new random data key wrapped by `passphrase` (secret)
    /// under `params` (the only recipient from now on), and saves with the
    /// changes made so far as a compaction under the new key: every record
    /// (loaded or not, its secrets included), every history chunk and every
    /// index part is opened with the old key and sealed again under the new
    /// one in a new data file; then the head is swapped as by save(). So the
    /// old passphrase, the old data key and any copy of the vault made before
    /// (`vault.bak`, which now names the previous generation, included) open
    /// nothing written after the change. No record is decoded into
    /// payload(): each stored box's plaintext passes through one guarded
    /// buffer (the new data file is built as a compaction builds it). On success
    /// data_key() is the new key. On failure nothing is written and the
    /// vault keeps its header and key. Errc::damaged if `params` are outside
    /// the caps or a stored box does not authenticate; the errors of save().
    /// The caller holds storage.lock().
    [[nodiscard]] Status change_passphrase(const Secret& passphrase, const crypto::KdfParams& params);

private:
    friend class detail::Writer;
    struct Opened;
    Vault(Storage& storage, Secret key, Header header);
    [[nodiscard]] Status read_box(std::uint64_t off, std::uint32_t len, std::vector<std::uint8_t>& out) const;
    [[nodiscard]] std::size_t part_count() const noexcept;
    /// The part that holds `name`, or would.
    [[nodiscard]] std::size_t part_of(std::string_view name) const noexcept;
    /// Part i's entries, authenticated and checked against the top index.
    [[nodiscard]] Result<std::vector<detail::IndexEntry>> decode_part_at(std::size_t i) const;
    /// decode_part_at, kept for later use.
    [[nodiscard]] Result<const std::vector<detail::IndexEntry>*> part(std::size_t i) const;
    struct Fetched;
    /// Part i read and its metadata opened. Thread-safe: touches no cache.
    [[nodiscard]] Result<Fetched> fetch_part(std::size_t i, bool secrets) const;
    /// Visits the records of every part, the next parts read ahead on a
    /// second thread.
    [[nodiscard]] Status for_each_fetched(bool secrets, const std::function<Status(const Fetched&)>& visit) const;
    /// The stored entry called `name`, if any.
    [[nodiscard]] Result<std::optional<detail::IndexEntry>> lookup(std::string_view name) const;
    [[nodiscard]] bool is_loaded(std::string_view name) const { return m_all_loaded || m_loaded.contains(name); }
    /// Reads the head and parses its header.
    [[nodiscard]] static Result<Opened> read_header(Storage& storage);
    /// Parses the header of `head`, read from a store.
    [[nodiscard]] static Result<Opened> parse_head(Head head);
    /// The top index of the store's backup generation, if it lies in this
    /// vault's data file and opens with its key (else nullopt: missing,
    /// older than version 3, another data file or key, damaged).
    [[nodiscard]] std::optional<detail::Index> backup_index() const;
    /// Opens again after the data file was not found (Errc::not_found from
    /// open_parsed); a data file still missing is Errc::damaged.
    [[nodiscard]] static Result<Vault> reopen(Storage& storage, Secret& key);
    /// Opens the head read with `key`, which moves into the vault on success
    /// only.
    [[nodiscard]] static Result<Vault> open_parsed(Storage& storage, Secret& key, Opened o);
    /// open_parsed of a version 3 head.
    [[nodiscard]] Status open_current(Opened& o, const Secret& key);
    /// After a save: the vault now describes the generation written.
    void adopt(Header header, HeadVersion version, std::unique_ptr<detail::Index> index, std::unique_ptr<BoxLog> data);

    Storage* m_storage;
    Secret m_key; ///< secret: the data key
    Header m_header;
    HeadVersion m_head_version; ///< of the head read (absent for a new vault)
    std::uint16_t m_file_version = k_format_version;
    std::uint64_t m_supersede = 0; ///< the next save's generation is above this
    core::Payload m_payload;
    /// The top index as read (its parts are decoded on demand into
    /// m_part_cache); null for v1 and new vaults.
    std::unique_ptr<detail::Index> m_index;
    mutable std::vector<std::optional<std::vector<detail::IndexEntry>>> m_part_cache;
    std::unique_ptr<BoxLog> m_data;              ///< the boxes this generation names
    std::set<std::string, std::less<>> m_loaded; ///< stored records decoded into the payload
    bool m_all_loaded = false;                   ///< every stored record is (m_loaded unused)
    std::set<std::string, std::less<>> m_staged_names;
    std::vector<std::uint8_t> m_staged_data;  ///< boxes of staged records
    std::vector<detail::IndexEntry> m_staged; ///< their entries, offsets into m_staged_data
    bool m_history_loaded = false;
};

/// What the error of a record whose tokens were wiped says: a secrets box
/// zeroed by a later write, once neither the head nor the backup named it
/// (docs/vault-format.md, "Dead secrets"). Reached by an older generation
/// than the backup (a copy put in its place), or by a reader that two writes
/// overtook.
inline constexpr std::string_view k_wiped_phrase = "were wiped by a later write";
/// Whether `e` is such an error (Errc::damaged).
[[nodiscard]] inline bool wiped_tokens(const Error& e)
{
    return e.code == Errc::damaged && e.message.find(k_wiped_phrase) != std::string::npos;
}

/// Opens `storage` with a passphrase and decodes everything: every record
/// with its secrets, and the history (verify, tests). Same errors as
/// Vault::open.
[[nodiscard]] Result<core::Payload> decrypt_storage(Storage& storage, const Secret& passphrase);

/// decrypt_storage of a vault file's bytes held in memory (tests, fuzzers);
/// a version 3 file's boxes are `data`, its data file.
[[nodiscard]] Result<core::Payload> decrypt_image(std::span<const std::uint8_t> file, const Secret& passphrase,
                                                  std::span<const std::uint8_t> data = {});

} // namespace pitool::vault
