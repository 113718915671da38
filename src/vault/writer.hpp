#pragma once
// Internal: the write path of a vault (Vault::save). A save writes a new
// generation in one of two ways:
//  - append: the loaded records re-sealed and the index parts they changed
//    are put at the end of the current data file; every other box stays
//    where it is;
//  - compact: a new data file receives every live box (the old file was
//    mostly dead boxes, or the vault was not version 3 yet, or is new).
// Either way the boxes are made durable first, then the head is swapped,
// so until the swap the old generation is whole.

#include "pitool/vault/vault.hpp"

namespace pitool::vault::detail {

class Writer {
public:
    /// Whether `v`'s next save appends: it has a version 3 data file that
    /// is not mostly dead boxes.
    [[nodiscard]] static bool appends(const Vault& v);
    /// The append path. On failure the data file is as it was.
    [[nodiscard]] static Status append(Vault& v);
    /// The compaction path: a new data file; after the swap, the data files
    /// neither the new head nor the backup names are collected.
    [[nodiscard]] static Status compact(Vault& v);

private:
    struct Sink;
    [[nodiscard]] static Status write(Vault& v, Sink& sink);
    [[nodiscard]] static Status build(Vault& v, Sink& sink, Index& next);
    [[nodiscard]] static Status build_records(Vault& v, Sink& sink, Index& next);
    [[nodiscard]] static Status commit(Vault& v, Sink& sink, Index next);
};

} // namespace pitool::vault::detail
