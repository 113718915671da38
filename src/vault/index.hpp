#pragma once
// The index of a version 2 vault (docs/vault-format.md): where every box is,
// and the tag it must carry, sealed as one box under the header.

#include "pitool/util/result.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace pitool::vault::detail {

inline constexpr std::uint8_t k_index_version = 1;
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

struct Index {
    std::uint64_t data_len = 0;
    std::uint64_t event_count = 0;
    std::string chain_tip; ///< hash of the last event
    std::vector<HistoryChunk> chunks;
    std::vector<IndexEntry> entries; ///< sorted by name, unique
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
[[nodiscard]] const IndexEntry* find_entry(const Index& index, std::string_view name) noexcept;

} // namespace pitool::vault::detail
