#pragma once
// Internal: sealing and opening the boxes of a vault (docs/vault-format.md),
// shared by the reader (vault.cpp), the writer and the legacy reader.

#include "pitool/core/model.hpp"
#include "pitool/crypto/crypto.hpp"
#include "pitool/vault/format.hpp"
#include "pitool/vault/storage.hpp"
#include "vault/index.hpp"

#include <array>
#include <string_view>
#include <vector>

namespace pitool::vault::detail {

/// The first bytes of a data file: magic, version (u16 = 1), reserved
/// (u16, u32), its id (u64).
inline constexpr std::array<std::uint8_t, 8> k_data_magic{'P', 'I', 'T', 'D', 'A', 'T', 'A', 0};
inline constexpr std::size_t k_data_header_bytes = 24;
[[nodiscard]] std::vector<std::uint8_t> data_header(std::uint64_t id);

enum class BoxKind : std::uint8_t { meta = 1, secrets = 2, history = 3, index = 4 };

/// A box's associated data: what it is and whose. A box moved to another
/// record or another role does not open.
void box_ad_into(std::vector<std::uint8_t>& ad, BoxKind kind, std::string_view name);
[[nodiscard]] std::vector<std::uint8_t> box_ad(BoxKind kind, std::string_view name);
/// The associated data of history chunk i.
[[nodiscard]] std::vector<std::uint8_t> chunk_ad(std::size_t i);

[[nodiscard]] Tag tag_of(std::span<const std::uint8_t> box);
/// Seals `plain` as a box appended to `data`; its reference.
[[nodiscard]] BoxRef append_sealed(std::vector<std::uint8_t>& data, std::span<const std::uint8_t> plain,
                                   std::span<const std::uint8_t> ad, const Secret& key);
/// Copies the box `ref` (offset into `from`) to the end of `data`, unchanged.
[[nodiscard]] BoxRef append_copy(std::vector<std::uint8_t>& data, const std::uint8_t* from, const BoxRef& ref);

[[nodiscard]] Error damaged_record(std::string_view name);
/// A record whose secrets box is all zeros: wiped by a later write once
/// neither the head nor the backup named it (Errc::damaged).
[[nodiscard]] Error wiped_record(std::string_view name);
/// Opens a non-secret box (metadata, history, index part) into a plain
/// buffer. Errc::damaged (with no message) if it is not the box `tag` pins
/// or does not authenticate.
[[nodiscard]] Result<std::vector<std::uint8_t>> open_plain(std::span<const std::uint8_t> box, const Tag& tag,
                                                           std::span<const std::uint8_t> ad, const Secret& key);
/// Opens e's metadata box, appending the plaintext to `out` (`ad` is
/// scratch). False if the box is not the one the index pins or does not
/// authenticate.
[[nodiscard]] bool open_meta_box(std::span<const std::uint8_t> box, const IndexEntry& e, const Secret& key,
                                 std::vector<std::uint8_t>& ad, std::vector<std::uint8_t>& out);
/// Decodes opened metadata into `out` and checks it against its entry.
[[nodiscard]] Status decode_checked(std::span<const std::uint8_t> plain, const IndexEntry& e, core::Integration& out);
/// open_meta_box and decode_checked.
[[nodiscard]] Status decode_meta_into(std::span<const std::uint8_t> box, const IndexEntry& e, const Secret& key,
                                      core::Integration& out);
/// Opens e's secrets box into `in` (which was sealed).
[[nodiscard]] Status decode_secrets_into(std::span<const std::uint8_t> box, const IndexEntry& e, const Secret& key,
                                         core::Integration& in);

[[nodiscard]] inline std::int64_t epoch(Timestamp t)
{
    return t.time_since_epoch().count();
}
/// The EntryFlag bits of a record.
[[nodiscard]] std::uint8_t entry_flags(const core::Integration& in);
/// The entry of `in` (boxes not set).
[[nodiscard]] IndexEntry entry_of(const core::Integration& in);
/// The earliest rotation-window end among `entries` (0 if none) and the
/// length of their boxes: what a part records about them.
void summarise(std::span<const IndexEntry> entries, std::uint64_t& bytes, std::int64_t& window_end);

/// The index (v2, v3) sealed after `header_bytes` in `head`, opened with
/// `key`. Errc::wrong_passphrase if the key does not open it.
[[nodiscard]] Result<std::vector<std::uint8_t>>
open_index(const Snapshot& head, const Header& header, std::span<const std::uint8_t> header_bytes, const Secret& key);

} // namespace pitool::vault::detail
