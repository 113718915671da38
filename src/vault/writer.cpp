#include "vault/writer.hpp"

#include "pitool/core/record_codec.hpp"
#include "vault/boxes.hpp"

#include <algorithm>
#include <array>
#include <map>

namespace pitool::vault::detail {
namespace {

/// A data file is rewritten with only its live boxes once it holds more
/// than twice their length plus this.
constexpr std::uint64_t k_compact_slack = 1ULL << 20;

/// The live bytes an index describes: what a compacted data file would hold.
std::uint64_t live_bytes(const Index& ix)
{
    std::uint64_t n = k_data_header_bytes;
    for (const auto& c : ix.chunks) n += c.box.len;
    for (const auto& p : ix.parts) n += p.box.len + p.bytes;
    return n;
}

bool by_name(const IndexEntry& a, const IndexEntry& b)
{
    return a.name < b.name;
}

/// A random data file id: not 0, not the current one.
std::uint64_t fresh_id(std::uint64_t current)
{
    for (;;) {
        std::array<std::uint8_t, 8> r{};
        crypto::random_bytes(r);
        std::uint64_t id = 0;
        for (auto x : r) id = (id << 8) | x;
        if (id != 0 && id != current) return id;
    }
}

} // namespace

/// Where a generation's new boxes go: `out`, put at `base` of the data file
/// `id` when the generation is committed.
struct Writer::Sink {
    Sink(const Vault& vault, bool append) : v(vault), appending(append) {}
    const Vault& v;
    bool appending;
    std::uint64_t id = 0;
    std::unique_ptr<BoxLog> log;
    std::vector<std::uint8_t> out;
    std::uint64_t base = 0;
    std::vector<std::uint8_t> scratch;
    /// Rekeying (never when appending): the new data key (secret) every box
    /// is sealed under; empty otherwise.
    Secret fresh_key;
    /// secret: a stored box's plaintext while it is sealed again under
    /// fresh_key; one guarded buffer, grown as needed, for every box.
    Secret plain;
    std::vector<std::uint8_t> ad;

    /// The key this generation is sealed under.
    [[nodiscard]] const Secret& key() const noexcept { return fresh_key.empty() ? v.m_key : fresh_key; }
    [[nodiscard]] bool rekeying() const noexcept { return !fresh_key.empty(); }

    BoxRef seal(std::span<const std::uint8_t> plain_bytes, std::span<const std::uint8_t> box_ad_bytes)
    {
        BoxRef b = append_sealed(out, plain_bytes, box_ad_bytes, key());
        b.off += base;
        return b;
    }
    /// A stored box of `kind` for `name` (a history chunk: its position,
    /// counted from 0): kept where it is when appending, copied over when
    /// compacting, opened with the old key and sealed again when rekeying.
    Result<BoxRef> keep(const BoxRef& old, BoxKind kind, std::string_view name)
    {
        if (appending) return old;
        PITOOL_TRY(v.read_box(old.off, old.len, scratch));
        if (rekeying()) return reseal(scratch, old.tag, kind, name);
        BoxRef b = old;
        b.off = base + out.size();
        out.insert(out.end(), scratch.begin(), scratch.end());
        return b;
    }
    /// A staged record's box, copied from where stage() sealed it (sealed
    /// again when rekeying).
    Result<BoxRef> copy_staged(const BoxRef& ref, BoxKind kind, std::string_view name)
    {
        if (rekeying())
            return reseal(std::span<const std::uint8_t>(v.m_staged_data).subspan(ref.off, ref.len), ref.tag, kind,
                          name);
        BoxRef b = append_copy(out, v.m_staged_data.data(), ref);
        b.off += base;
        return b;
    }
    /// Opens `box` (which the index pins with `tag`) under the vault's key
    /// and seals its plaintext under fresh_key with the same associated data.
    Result<BoxRef> reseal(std::span<const std::uint8_t> box, const Tag& tag, BoxKind kind, std::string_view name)
    {
        auto damaged = [&] {
            return kind == BoxKind::history
                       ? make_error(Errc::damaged, "vault history is corrupted (authentication failed)")
                       : damaged_record(name);
        };
        if (box.size() < crypto::k_box_overhead || tag_of(box) != tag) return damaged();
        const std::size_t n = box.size() - crypto::k_box_overhead;
        if (plain.size() < n) plain = Secret(std::max<std::size_t>({n, 2 * plain.size(), 4096}));
        const std::span<std::uint8_t> p(plain.data(), n);
        box_ad_into(ad, kind, name);
        if (!crypto::open_box(box, ad, v.m_key, p)) return damaged();
        return seal(p, ad);
    }
    /// The entry of a loaded record, re-sealed; `old` is its stored entry.
    Result<IndexEntry> emit(const core::Integration& in, const IndexEntry* old)
    {
        IndexEntry e = entry_of(in);
        e.meta = seal(core::encode_meta(in), box_ad(BoxKind::meta, in.name));
        if (!in.sealed) {
            e.secrets = seal(core::encode_secrets(in), box_ad(BoxKind::secrets, in.name));
            return e;
        }
        // Secrets never read: keep their box, which must still fit.
        if (old == nullptr || old->flags != e.flags)
            return make_error(Errc::internal, "integration '" + in.name + "' changed without its secrets loaded");
        PITOOL_TRY_ASSIGN(e.secrets, keep(old->secrets, BoxKind::secrets, in.name));
        return e;
    }
    /// Cuts `pending` (the merged entries of consecutive touched parts)
    /// into parts of about k_part_entries; a run up to twice that stays
    /// whole.
    void cut(std::vector<IndexEntry>& pending, Index& next)
    {
        const std::size_t n = pending.size();
        const std::size_t pieces = n <= 2 * k_part_entries ? 1 : (n + k_part_entries - 1) / k_part_entries;
        for (std::size_t k = 0, at = 0; k < pieces && n > 0; ++k) {
            const std::size_t len = n / pieces + (k < n % pieces ? 1 : 0);
            std::span<const IndexEntry> piece(pending.data() + at, len);
            Part p;
            p.first = piece.front().name;
            p.count = static_cast<std::uint32_t>(len);
            summarise(piece, p.bytes, p.window_end);
            p.box = seal(encode_part(piece), box_ad(BoxKind::index, ""));
            next.parts.push_back(std::move(p));
            at += len;
        }
        pending.clear();
    }
};

bool Writer::appends(const Vault& v)
{
    // A version 3 data file is the same as version 4's: appended to as well.
    return v.m_data != nullptr && v.m_file_version >= k_format_v3 &&
           v.m_data->size() <= 2 * live_bytes(*v.m_index) + k_compact_slack;
}

Status Writer::append(Vault& v)
{
    Sink sink(v, /*append=*/true);
    sink.id = v.m_header.data_id;
    PITOOL_TRY_ASSIGN(sink.log, v.m_storage->boxes(sink.id, BoxMode::append));
    sink.base = sink.log->size();
    return write(v, sink);
}

Status Writer::compact(Vault& v)
{
    Sink sink(v, /*append=*/false);
    return write(v, sink);
}

Status Writer::rekey(Vault& v, Secret key)
{
    if (key.size() != crypto::k_key_bytes) return make_error(Errc::internal, "a data key is 32 bytes");
    Sink sink(v, /*append=*/false);
    sink.fresh_key = std::move(key);
    return write(v, sink);
}

Status Writer::create_data_file(Vault& v, Sink& sink)
{
    // Made once the boxes are built, so that a build that fails (a box that
    // does not authenticate) leaves no file behind. The id is only in the
    // first bytes: another is patched in when this one is taken.
    for (;;) {
        auto log = v.m_storage->boxes(sink.id, BoxMode::create);
        if (log) {
            sink.log = std::move(log).value();
            return {};
        }
        if (log.error().code != Errc::conflict) return std::move(log).error();
        sink.id = fresh_id(v.m_header.data_id);
        const auto head = data_header(sink.id);
        std::copy(head.begin(), head.end(), sink.out.begin());
    }
}

Status Writer::write(Vault& v, Sink& sink)
{
    if (!sink.appending) {
        sink.id = fresh_id(v.m_header.data_id);
        sink.out = data_header(sink.id);
    }
    Index next;
    PITOOL_TRY(build(v, sink, next));
    if (!sink.appending) PITOOL_TRY(create_data_file(v, sink));
    return commit(v, sink, std::move(next));
}

Status Writer::build(Vault& v, Sink& sink, Index& next)
{
    // History: the stored chunks as they are plus one chunk of new events,
    // or everything as one chunk once it has been loaded whole.
    if (!v.m_history_loaded && v.m_index) {
        for (std::size_t i = 0; i < v.m_index->chunks.size(); ++i) {
            const auto& c = v.m_index->chunks[i];
            // Kept at the same position: chunk i's associated data holds.
            PITOOL_TRY_ASSIGN(auto b, sink.keep(c.box, BoxKind::history, std::to_string(i)));
            next.chunks.push_back({b, c.events});
            next.event_count += c.events;
        }
    }
    const auto& history = v.m_payload.history;
    if (!history.empty()) {
        auto bytes = core::encode_events(history);
        next.chunks.push_back(
            {sink.seal(bytes, chunk_ad(next.chunks.size())), static_cast<std::uint32_t>(history.size())});
        next.event_count += history.size();
    }
    next.chain_tip = history.empty() ? v.m_payload.chain_tip : history.back().hash;
    PITOOL_TRY(build_records(v, sink, next));
    next.data_len = sink.base + sink.out.size();
    return {};
}

Status Writer::build_records(Vault& v, Sink& sink, Index& next)
{
    // A part none of whose names was loaded, added or staged is kept as it
    // is; the others are merged with the changes and cut again.
    std::map<std::string_view, const core::Integration*> loaded;
    for (const auto& in : v.m_payload.integrations)
        if (!loaded.emplace(in.name, &in).second)
            return make_error(Errc::conflict, "two integrations are named '" + in.name + "'");
    const std::size_t parts = std::max<std::size_t>(v.part_count(), 1);
    std::vector<bool> touched(parts, !sink.appending || v.m_all_loaded);
    std::vector<std::vector<const core::Integration*>> fresh(parts); // loaded, maybe not stored
    std::vector<std::vector<const IndexEntry*>> staged(parts);
    for (const auto& [name, in] : loaded) fresh[v.part_of(name)].push_back(in);
    for (const auto& name : v.m_loaded) touched[v.part_of(name)] = true;
    for (const auto& e : v.m_staged) staged[v.part_of(e.name)].push_back(&e);
    // In name order, so that a part's boxes lie together in the data file
    // and a pass over every record reads each part in one go.
    for (auto& s : staged)
        std::sort(s.begin(), s.end(), [](const IndexEntry* a, const IndexEntry* b) { return a->name < b->name; });
    for (std::size_t i = 0; i < parts; ++i) touched[i] = touched[i] || !fresh[i].empty() || !staged[i].empty();

    std::vector<IndexEntry> pending; // merged entries of consecutive touched parts
    static const std::vector<IndexEntry> k_none;
    for (std::size_t i = 0; i < parts; ++i) {
        if (!touched[i]) {
            sink.cut(pending, next);
            if (i < v.part_count()) next.parts.push_back(v.m_index->parts[i]);
            continue;
        }
        const std::size_t run_start = pending.size();
        const std::vector<IndexEntry>* old = &k_none;
        if (i < v.part_count()) {
            PITOOL_TRY_ASSIGN(old, v.part(i));
        }
        for (const auto& e : *old) {
            if (!v.is_loaded(e.name)) {
                IndexEntry kept = e;
                PITOOL_TRY_ASSIGN(kept.meta, sink.keep(e.meta, BoxKind::meta, e.name));
                PITOOL_TRY_ASSIGN(kept.secrets, sink.keep(e.secrets, BoxKind::secrets, e.name));
                pending.push_back(std::move(kept));
            } else if (auto it = loaded.find(e.name); it != loaded.end()) {
                PITOOL_TRY_ASSIGN(auto emitted, sink.emit(*it->second, &e));
                pending.push_back(std::move(emitted));
            } // else erased
        }
        for (const auto* in : fresh[i]) {
            if (find_entry(*old, in->name) != nullptr) continue; // done above
            PITOOL_TRY_ASSIGN(auto emitted, sink.emit(*in, nullptr));
            pending.push_back(std::move(emitted));
        }
        for (const auto* st : staged[i]) {
            IndexEntry e = *st;
            PITOOL_TRY_ASSIGN(e.meta, sink.copy_staged(st->meta, BoxKind::meta, st->name));
            PITOOL_TRY_ASSIGN(e.secrets, sink.copy_staged(st->secrets, BoxKind::secrets, st->name));
            pending.push_back(std::move(e));
        }
        auto run = pending.begin() + static_cast<std::ptrdiff_t>(run_start);
        std::sort(run, pending.end(), by_name);
        auto dup = std::adjacent_find(run, pending.end(),
                                      [](const IndexEntry& a, const IndexEntry& b) { return a.name == b.name; });
        if (dup != pending.end()) return make_error(Errc::conflict, "two integrations are named '" + dup->name + "'");
    }
    sink.cut(pending, next);
    return {};
}

Status Writer::commit(Vault& v, Sink& sink, Index next)
{
    // The boxes first, durable; then the head names them. A failure
    // forgets what was put: nothing names it (a new file stays empty, and a
    // later compaction removes it).
    auto undo = [&](Status st) {
        (void)sink.log->discard_from(sink.base);
        return st;
    };
    if (auto st = sink.log->put(sink.out); !st) return undo(std::move(st));
    if (auto st = sink.log->sync(); !st) return undo(std::move(st));
    Header h = v.m_header;
    h.version = k_format_version;
    h.data_id = sink.id;
    // The next generation of the same vault; an old (v1 to v3) or new vault
    // gets its id now, and generation 1.
    if (!has_vault_id(v.m_header)) {
        do {
            crypto::random_bytes(h.vault_id);
        } while (!has_vault_id(h));
        h.generation = 0;
    }
    h.generation = std::max(h.generation, v.m_supersede) + 1;
    crypto::random_bytes(h.payload_nonce);
    auto index = encode_top(next);
    h.payload_len = index.size() + crypto::k_tag_bytes;
    auto file = encode_header(h);
    auto sealed_index = crypto::seal(index, h.payload_nonce, file, sink.key());
    file.insert(file.end(), sealed_index.begin(), sealed_index.end());
    const auto dying = dying_secrets(v);
    auto version = v.m_storage->swap_head(v.m_head_version, file);
    if (!version) return undo(std::move(version).error());
    // The generation read is now the backup; the one before it is named by
    // nothing: its replaced secrets are wiped, its data file (if another)
    // removed. Only the new file and the one the backup names (if version 3)
    // stay.
    wipe(v, sink, dying);
    std::vector<std::uint64_t> named{sink.id};
    if (v.m_file_version >= k_format_v3 && v.m_index && v.m_header.data_id != sink.id)
        named.push_back(v.m_header.data_id);
    v.m_storage->collect_boxes(named);
    v.m_supersede = 0;
    v.adopt(std::move(h), std::move(version).value(), std::make_unique<Index>(std::move(next)), std::move(sink.log));
    // Rekeyed: the generation now read is sealed under the new key.
    if (sink.rekeying()) v.m_key = std::move(sink.fresh_key);
    return {};
}

} // namespace pitool::vault::detail

namespace pitool::vault::detail {

std::vector<BoxRef> Writer::dying_secrets(const Vault& v)
{
    if (!v.m_data) return {};
    const auto top = v.backup_index();
    if (!top) return {};
    // A part both generations name (same place, same tag) holds the same
    // entries: only the parts that differ are opened.
    auto shared = [](const Part& p, std::span<const Part> in) {
        return std::any_of(in.begin(), in.end(), [&](const Part& q) {
            return q.box.off == p.box.off && q.box.len == p.box.len && q.box.tag == p.box.tag;
        });
    };
    const auto& now = v.m_index->parts;
    std::map<std::uint64_t, BoxRef> dying; // by offset
    std::vector<std::uint8_t> box;
    for (const auto& p : top->parts) {
        if (shared(p, now)) continue;
        if (!v.read_box(p.box.off, p.box.len, box)) return {};
        auto part = open_plain(box, p.box.tag, box_ad(BoxKind::index, ""), v.m_key);
        if (!part) return {};
        auto entries = decode_part(part.value(), top->data_len);
        if (!entries) return {};
        for (const auto& e : entries.value()) dying.emplace(e.secrets.off, e.secrets);
    }
    // A name in a part that changed is in a changed part of the current
    // generation too (names are unique in each): those boxes live on.
    for (std::size_t i = 0; i < now.size() && !dying.empty(); ++i) {
        if (shared(now[i], top->parts)) continue;
        auto entries = v.part(i);
        if (!entries) return {};
        for (const auto& e : *entries.value()) dying.erase(e.secrets.off);
    }
    std::vector<BoxRef> out;
    out.reserve(dying.size());
    for (const auto& [off, b] : dying) out.push_back(b);
    return out;
}

void Writer::wipe(Vault& v, Sink& sink, std::span<const BoxRef> dying)
{
    if (dying.empty()) return;
    const std::uint64_t id = v.m_header.data_id;
    std::unique_ptr<BoxLog> opened;
    BoxLog* log = sink.appending ? sink.log.get() : nullptr;
    auto failed = [&](const Error& e) {
        v.m_storage->warn("could not wipe " + std::to_string(dying.size()) +
                          " replaced secret(s) from the vault's data file (" + e.message +
                          "): they stay there, sealed, until the file is compacted");
    };
    if (log == nullptr) {
        auto l = v.m_storage->boxes(id, BoxMode::append);
        if (!l) return failed(l.error());
        opened = std::move(l).value();
        log = opened.get();
    }
    for (const auto& b : dying)
        if (auto st = log->wipe(b.off, b.len); !st) return failed(st.error());
    if (auto st = log->sync(); !st) failed(st.error());
}

} // namespace pitool::vault::detail
