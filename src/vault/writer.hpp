#pragma once
// Internal: the write path of a vault (Vault::save). A save writes a new
// generation in one of two ways:
//  - append: the loaded records re-sealed and the index parts they changed
//    are put at the end of the current data file; every other box stays
//    where it is;
//  - compact: a new data file receives every live box (the old file was
//    mostly dead boxes, or the vault was not version 3 yet, or is new);
//  - rekey: compaction under a new data key (passwd): every live box is
//    opened with the old key and sealed again under the new one.
// Either way the boxes are made durable first, then the head is swapped,
// so until the swap the old generation is whole. After the swap, the
// secrets boxes that only the dropped backup named are wiped, and the data
// files neither the new head nor the new backup names are removed: a token
// replaced by one write is unreadable from the store after the next.

#include "pitool/vault/vault.hpp"
#include "vault/index.hpp"

#include <span>
#include <vector>

namespace pitool::vault::detail {

class Writer {
public:
    /// Whether `v`'s next save appends: it has a version 3 data file that
    /// is not mostly dead boxes.
    [[nodiscard]] static bool appends(const Vault& v);
    /// The append path. On failure the data file is as it was.
    [[nodiscard]] static Status append(Vault& v);
    /// The compaction path: a new data file, made once its boxes are built
    /// (a failure before leaves none); after the swap, the data files
    /// neither the new head nor the backup names are collected.
    [[nodiscard]] static Status compact(Vault& v);
    /// The compaction path under `key` (secret), a new data key: every box
    /// the new generation names (records, history, index parts, top index) is
    /// sealed under it, none is copied, so nothing written from now on opens
    /// with the old key. The caller has put the recipients wrapping `key` in
    /// v's header. On success the vault holds `key`; on failure the vault,
    /// its key and its head are as they were (the new data file is made only
    /// once every box is sealed; if a later step fails it is left empty and
    /// collected by a later compaction). Errc::damaged if a stored box does
    /// not authenticate.
    [[nodiscard]] static Status rekey(Vault& v, Secret key);

private:
    struct Sink;
    /// The secrets boxes that die when the next swap drops the backup: those
    /// the backup generation names in the current generation's data file and
    /// the current generation does not. Read before the swap, which replaces
    /// the backup. Empty when the backup is missing, older than version 3,
    /// in another data file (that file is collected instead), not sealed
    /// under the vault's key, or does not decode: nothing is wiped on a
    /// guess. Touches only the index parts the two generations do not share.
    [[nodiscard]] static std::vector<BoxRef> dying_secrets(const Vault& v);
    /// After the swap: zeroes `dying` in the data file the previous
    /// generation is in and makes that durable. The write stands whatever
    /// happens here: a failure is a warning through the storage.
    static void wipe(Vault& v, Sink& sink, std::span<const BoxRef> dying);
    /// Makes the data file `sink.id` for a compaction whose boxes are built
    /// (another id if that one exists).
    [[nodiscard]] static Status create_data_file(Vault& v, Sink& sink);
    [[nodiscard]] static Status write(Vault& v, Sink& sink);
    [[nodiscard]] static Status build(Vault& v, Sink& sink, Index& next);
    [[nodiscard]] static Status build_records(Vault& v, Sink& sink, Index& next);
    [[nodiscard]] static Status commit(Vault& v, Sink& sink, Index next);
};

} // namespace pitool::vault::detail
