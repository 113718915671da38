#pragma once
// The index of a vault (docs/vault-format.md): where every box is, and the
// tag it must carry. Version 2 seals one index listing every entry under the
// header. Version 3 seals a small top index under the header that lists
// parts: boxes in the data file, each holding the entries of a run of names.

#include "pitool/util/result.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace pitool::vault::detail {

inline constexpr std::uint8_t k_index_version = 1; ///< v2: every entry in the index
inline constexpr std::uint8_t k_top_version = 2;   ///< v3: the top index, entries in parts
inline constexpr std::uint8_t k_part_version = 1;
/// Entries a part gets when parts are cut; a part that grows past twice
/// this is cut again.
inline constexpr std::size_t k_part_entries = 256;
using Tag = std::array<std::uint8_t, 16>;

/// A box in the data region: offset from the region's start, length, and its
/// Poly1305 tag (the box's last 16 bytes), which the index pins.
struct BoxRef {
    std::uint64_t off = 0;
    std::uint32_t len = 0;
    Tag tag{};
};

enum EntryFlag : std::uint8_t { entry_rotation = 1, entry_refresh = 2 };

struct IndexEntry {
    std::string name;
    BoxRef meta;
    BoxRef secrets;
    std::int64_t window_end = 0; ///< end of the rotation window (epoch s), 0 if none
    std::uint8_t flags = 0;      ///< EntryFlag bits: which secret slots the record has
};

struct HistoryChunk {
    BoxRef box;
    std::uint32_t events = 0;
};

/// v3: one sealed box of index entries, for the names from `first` up to the
/// next part's first.
struct Part {
    std::string first; ///< its first entry's name
    BoxRef box;
    std::uint32_t count = 0;     ///< entries in it
    std::uint64_t bytes = 0;     ///< the length of its entries' boxes, summed
    std::int64_t window_end = 0; ///< the earliest rotation-window end in it, 0 if none
};

struct Index {
    std::uint64_t data_len = 0; ///< v2: the data region's length; v3: the data file's, when written
    std::uint64_t event_count = 0;
    std::string chain_tip; ///< hash of the last event
    std::vector<HistoryChunk> chunks;
    std::vector<IndexEntry> entries; ///< v2: sorted by name, unique
    std::vector<Part> parts;         ///< v3: sorted by first name, unique, none empty
};

[[nodiscard]] std::vector<std::uint8_t> encode_index(const Index& index);
/// Errc::damaged when malformed, unsorted, or a box lies outside the data
/// region. With `entries` false only the head (sizes, counts, history
/// chunks) is read: what a command that reads one record needs; its entry is
/// then found by scan_entry, and the rest is checked when all are decoded.
[[nodiscard]] Result<Index> decode_index(std::span<const std::uint8_t> bytes, bool entries = true);
/// The entry named `name` in index bytes that decode_index accepted, found
/// by a scan that allocates nothing but the result.
[[nodiscard]] std::optional<IndexEntry> scan_entry(std::span<const std::uint8_t> bytes, std::string_view name);

/// Binary search by name; nullptr if absent.
[[nodiscard]] const IndexEntry* find_entry(std::span<const IndexEntry> entries, std::string_view name) noexcept;

/// v3: the top index (head and parts, no entries).
[[nodiscard]] std::vector<std::uint8_t> encode_top(const Index& index);
/// Errc::damaged when malformed, parts unsorted or empty, or a box lies
/// outside the data file's first data_len bytes.
[[nodiscard]] Result<Index> decode_top(std::span<const std::uint8_t> bytes);
/// v3: one part's entries (sorted by name, unique).
[[nodiscard]] std::vector<std::uint8_t> encode_part(std::span<const IndexEntry> entries);
/// Errc::damaged when malformed, unsorted, or a box lies past `data_len`.
[[nodiscard]] Result<std::vector<IndexEntry>> decode_part(std::span<const std::uint8_t> bytes, std::uint64_t data_len);
/// The part that holds (or would hold) `name`: the last whose first name is
/// not after it, or the first part. 0 when there are none.
[[nodiscard]] std::size_t route(std::span<const Part> parts, std::string_view name) noexcept;

} // namespace pitool::vault::detail
