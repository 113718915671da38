#include "vault/index.hpp"

#include "pitool/crypto/crypto.hpp"
#include "pitool/util/wire.hpp"

#include <algorithm>

namespace pitool::vault::detail {
namespace {

constexpr std::size_t k_max_name = 1024;
constexpr std::size_t k_max_hash = 256;

void put_box(WireWriter<std::vector<std::uint8_t>>& w, const BoxRef& b)
{
    w.u64(b.off);
    w.u32(b.len);
    w.raw(b.tag);
}

bool get_box(WireReader& r, BoxRef& b, std::uint64_t data_len)
{
    std::span<const std::uint8_t> tag;
    if (!r.u64(b.off) || !r.u32(b.len) || !r.raw(tag, b.tag.size())) return false;
    std::copy(tag.begin(), tag.end(), b.tag.begin());
    if (b.len < crypto::k_box_overhead || b.off > data_len || b.len > data_len - b.off) r.fail();
    return r.ok();
}

void put_entries(WireWriter<std::vector<std::uint8_t>>& w, std::span<const IndexEntry> entries)
{
    w.varint(entries.size());
    for (const auto& e : entries) {
        w.str(e.name);
        put_box(w, e.meta);
        put_box(w, e.secrets);
        w.i64(e.window_end);
        w.u8(e.flags);
    }
}

void put_head(WireWriter<std::vector<std::uint8_t>>& w, std::uint8_t version, const Index& index)
{
    w.u8(version);
    w.u64(index.data_len);
    w.u64(index.event_count);
    w.str(index.chain_tip);
    w.varint(index.chunks.size());
    for (const auto& c : index.chunks) {
        put_box(w, c.box);
        w.u32(c.events);
    }
}

/// Reads the head (version, sizes, history chunks) into `ix`.
void get_head(WireReader& r, std::uint8_t version, std::size_t input_size, Index& ix)
{
    std::uint8_t v = 0;
    if (!r.u8(v) || v != version) {
        r.fail();
        return;
    }
    r.u64(ix.data_len);
    r.u64(ix.event_count);
    r.str(ix.chain_tip, k_max_hash);
    std::uint64_t n = 0;
    // Each chunk or entry takes at least 28 bytes: a count above the input
    // size is malformed, and checking it first bounds the allocation.
    if (r.varint(n) && n > input_size) r.fail();
    std::uint64_t events = 0;
    for (std::uint64_t i = 0; i < n && r.ok(); ++i) {
        auto& c = ix.chunks.emplace_back();
        get_box(r, c.box, ix.data_len);
        r.u32(c.events);
        events += c.events;
    }
    if (r.ok() && events != ix.event_count) r.fail();
}

/// Walks a list of entries, each to `visit(name, entry-without-name)`,
/// which returns false to stop early. The name is a view into the input.
/// Checks everything it walks: false if malformed or stopped.
template <typename Visit> bool walk_entries(WireReader& r, std::size_t input_size, std::uint64_t data_len, Visit visit)
{
    std::uint64_t n = 0;
    if (r.varint(n) && n > input_size) r.fail();
    std::string_view prev;
    IndexEntry e;
    for (std::uint64_t i = 0; i < n && r.ok(); ++i) {
        std::string_view name;
        r.view(name, k_max_name);
        get_box(r, e.meta, data_len);
        get_box(r, e.secrets, data_len);
        r.i64(e.window_end);
        r.u8(e.flags);
        if (e.flags > (entry_rotation | entry_refresh)) r.fail();
        if (i > 0 && r.ok() && !(prev < name)) r.fail();
        prev = name;
        if (r.ok() && !visit(name, e)) return false;
    }
    return r.ok();
}

} // namespace

std::vector<std::uint8_t> encode_index(const Index& index)
{
    std::vector<std::uint8_t> out;
    out.reserve(64 + index.entries.size() * 96);
    WireWriter w(out);
    put_head(w, k_index_version, index);
    put_entries(w, index.entries);
    return out;
}

namespace {

/// Walks a v2 index: the head into `ix`, then each entry to `visit`.
template <typename Visit> Status walk(std::span<const std::uint8_t> bytes, Index& ix, Visit visit)
{
    WireReader r(bytes);
    get_head(r, k_index_version, bytes.size(), ix);
    if (!r.ok()) return make_error(Errc::damaged, "vault index is malformed");
    if (!walk_entries(r, bytes.size(), ix.data_len, visit) && r.ok()) return {}; // stopped early
    if (!r.at_end()) return make_error(Errc::damaged, "vault index is malformed");
    return {};
}

} // namespace

Result<Index> decode_index(std::span<const std::uint8_t> bytes, bool entries)
{
    Index ix;
    PITOOL_TRY(walk(bytes, ix, [&](std::string_view name, const IndexEntry& e) {
        if (!entries) return false; // the head only
        if (ix.entries.empty()) ix.entries.reserve(bytes.size() / 96);
        ix.entries.push_back(e);
        ix.entries.back().name.assign(name);
        return true;
    }));
    return ix;
}

std::optional<IndexEntry> scan_entry(std::span<const std::uint8_t> bytes, std::string_view name)
{
    Index ix;
    std::optional<IndexEntry> found;
    (void)walk(bytes, ix, [&](std::string_view n, const IndexEntry& e) {
        if (n < name) return true;
        if (n == name) {
            found = e;
            found->name.assign(n);
        }
        return false; // sorted: past it
    });
    return found;
}

const IndexEntry* find_entry(std::span<const IndexEntry> entries, std::string_view name) noexcept
{
    auto it = std::lower_bound(entries.begin(), entries.end(), name,
                               [](const IndexEntry& e, std::string_view n) { return e.name < n; });
    if (it == entries.end() || it->name != name) return nullptr;
    return &*it;
}

std::vector<std::uint8_t> encode_top(const Index& index)
{
    std::vector<std::uint8_t> out;
    out.reserve(64 + index.parts.size() * 96);
    WireWriter w(out);
    put_head(w, k_top_version, index);
    w.varint(index.parts.size());
    for (const auto& p : index.parts) {
        w.str(p.first);
        put_box(w, p.box);
        w.u32(p.count);
        w.u64(p.bytes);
        w.i64(p.window_end);
    }
    return out;
}

Result<Index> decode_top(std::span<const std::uint8_t> bytes)
{
    Index ix;
    WireReader r(bytes);
    get_head(r, k_top_version, bytes.size(), ix);
    std::uint64_t n = 0;
    if (r.varint(n) && n > bytes.size()) r.fail();
    for (std::uint64_t i = 0; i < n && r.ok(); ++i) {
        auto& p = ix.parts.emplace_back();
        r.str(p.first, k_max_name);
        get_box(r, p.box, ix.data_len);
        r.u32(p.count);
        r.u64(p.bytes);
        r.i64(p.window_end);
        if (p.count == 0 || (i > 0 && r.ok() && !(ix.parts[i - 1].first < p.first))) r.fail();
    }
    if (!r.at_end()) return make_error(Errc::damaged, "vault index is malformed");
    return ix;
}

std::vector<std::uint8_t> encode_part(std::span<const IndexEntry> entries)
{
    std::vector<std::uint8_t> out;
    out.reserve(8 + entries.size() * 96);
    WireWriter w(out);
    w.u8(k_part_version);
    put_entries(w, entries);
    return out;
}

Result<std::vector<IndexEntry>> decode_part(std::span<const std::uint8_t> bytes, std::uint64_t data_len)
{
    std::vector<IndexEntry> out;
    WireReader r(bytes);
    std::uint8_t v = 0;
    if (!r.u8(v) || v != k_part_version) r.fail();
    if (r.ok())
        walk_entries(r, bytes.size(), data_len, [&](std::string_view name, const IndexEntry& e) {
            if (out.empty()) out.reserve(bytes.size() / 80);
            out.push_back(e);
            out.back().name.assign(name);
            return true;
        });
    if (!r.at_end()) return make_error(Errc::damaged, "vault index part is malformed");
    return out;
}

std::size_t route(std::span<const Part> parts, std::string_view name) noexcept
{
    auto it = std::upper_bound(parts.begin(), parts.end(), name,
                               [](std::string_view n, const Part& p) { return n < p.first; });
    return it == parts.begin() ? 0 : static_cast<std::size_t>(it - parts.begin() - 1);
}

} // namespace pitool::vault::detail
