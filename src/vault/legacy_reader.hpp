#pragma once
// Internal: the reader of version 1 and 2 vault files (docs/vault-format.md).
// The current code speaks versions 3 and 4 only: an old file is read here,
// once, into the shape of a version 3 generation held in memory, and the
// first save writes it out as version 4.

#include "pitool/core/model.hpp"
#include "pitool/vault/format.hpp"
#include "pitool/vault/storage.hpp"
#include "vault/index.hpp"

#include <memory>

namespace pitool::vault::detail {

/// An old file, converted.
struct Converted {
    /// v1: every record with its secrets, and the history. v2: empty.
    core::Payload payload;
    /// v2: a top index whose one part lists every entry (its box sealed in
    /// memory); null for v1.
    std::unique_ptr<Index> index;
    /// v2: the file's boxes, followed by that part's box.
    std::unique_ptr<BoxLog> boxes;
};

/// Opens the payload (v1) or index (v2) sealed after `header_bytes` in
/// `snap` with `key` (secret). A v1 header is marked as the current version
/// (with no vault id yet), as the payload it held is now in memory. Errc::wrong_passphrase if `key` does
/// not open it; Errc::damaged if it is malformed or its size is not the one
/// its index gives.
[[nodiscard]] Result<Converted> read_legacy(Header& header, std::span<const std::uint8_t> header_bytes,
                                            std::unique_ptr<Snapshot> snap, const Secret& key);

} // namespace pitool::vault::detail
