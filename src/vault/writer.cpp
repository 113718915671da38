#include "vault/writer.hpp"

#include "pitool/core/record_codec.hpp"
#include "vault/boxes.hpp"

#include <algorithm>
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

    BoxRef seal(std::span<const std::uint8_t> plain, std::span<const std::uint8_t> ad)
    {
        BoxRef b = append_sealed(out, plain, ad, v.m_key);
        b.off += base;
        return b;
    }
    /// A stored box: kept where it is when appending, else copied over.
    Result<BoxRef> keep(const BoxRef& old)
    {
        if (appending) return old;
        PITOOL_TRY(v.read_box(old.off, old.len, scratch));
        BoxRef b = old;
        b.off = base + out.size();
        out.insert(out.end(), scratch.begin(), scratch.end());
        return b;
    }
    /// A staged record's box, copied from where stage() sealed it.
    BoxRef copy_staged(const BoxRef& ref)
    {
        BoxRef b = append_copy(out, v.m_staged_data.data(), ref);
        b.off += base;
        return b;
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
        PITOOL_TRY_ASSIGN(e.secrets, keep(old->secrets));
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
    for (;;) {
        std::array<std::uint8_t, 8> r{};
        crypto::random_bytes(r);
        std::uint64_t id = 0;
        for (auto b : r) id = (id << 8) | b;
        if (id == 0 || id == v.m_header.data_id) continue;
        auto log = v.m_storage->boxes(id, BoxMode::create);
        if (!log && log.error().code == Errc::conflict) continue;
        if (!log) return std::move(log).error();
        sink.id = id;
        sink.log = std::move(log).value();
        break;
    }
    sink.out = data_header(sink.id);
    return write(v, sink);
}

Status Writer::write(Vault& v, Sink& sink)
{
    Index next;
    PITOOL_TRY(build(v, sink, next));
    return commit(v, sink, std::move(next));
}

Status Writer::build(Vault& v, Sink& sink, Index& next)
{
    // History: the stored chunks as they are plus one chunk of new events,
    // or everything as one chunk once it has been loaded whole.
    if (!v.m_history_loaded && v.m_index) {
        for (const auto& c : v.m_index->chunks) {
            PITOOL_TRY_ASSIGN(auto b, sink.keep(c.box));
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
                PITOOL_TRY_ASSIGN(kept.meta, sink.keep(e.meta));
                PITOOL_TRY_ASSIGN(kept.secrets, sink.keep(e.secrets));
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
            e.meta = sink.copy_staged(st->meta);
            e.secrets = sink.copy_staged(st->secrets);
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
    auto sealed_index = crypto::seal(index, h.payload_nonce, file, v.m_key);
    file.insert(file.end(), sealed_index.begin(), sealed_index.end());
    auto version = v.m_storage->swap_head(v.m_head_version, file);
    if (!version) return undo(std::move(version).error());
    if (!sink.appending) {
        // The new file and the one the backup now names (if version 3) stay.
        std::vector<std::uint64_t> named{sink.id};
        if (v.m_file_version >= k_format_v3 && v.m_index) named.push_back(v.m_header.data_id);
        v.m_storage->collect_boxes(named);
    }
    v.m_supersede = 0;
    v.adopt(std::move(h), std::move(version).value(), std::make_unique<Index>(std::move(next)), std::move(sink.log));
    return {};
}

} // namespace pitool::vault::detail
