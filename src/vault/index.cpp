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

} // namespace

std::vector<std::uint8_t> encode_index(const Index& index)
{
    std::vector<std::uint8_t> out;
    out.reserve(64 + index.entries.size() * 96);
    WireWriter w(out);
    w.u8(k_index_version);
    w.u64(index.data_len);
    w.u64(index.event_count);
    w.str(index.chain_tip);
    w.varint(index.chunks.size());
    for (const auto& c : index.chunks) {
        put_box(w, c.box);
        w.u32(c.events);
    }
    w.varint(index.entries.size());
    for (const auto& e : index.entries) {
        w.str(e.name);
        put_box(w, e.meta);
        put_box(w, e.secrets);
        w.i64(e.window_end);
        w.u8(e.flags);
    }
    return out;
}

namespace {

/// Walks an index: the header fields into `ix`, then each entry to
/// `visit(name, entry-without-name)`, which returns false to stop early.
/// The name is a view into `bytes`. Checks everything it walks.
template <typename Visit> Status walk(std::span<const std::uint8_t> bytes, Index& ix, Visit visit)
{
    WireReader r(bytes);
    std::uint8_t version = 0;
    if (!r.u8(version) || version != k_index_version) return make_error(Errc::damaged, "vault index: unknown version");
    r.u64(ix.data_len);
    r.u64(ix.event_count);
    r.str(ix.chain_tip, k_max_hash);
    std::uint64_t n = 0;
    // Each chunk or entry takes at least 28 bytes: a count above the input
    // size is malformed, and checking it first bounds the allocation.
    if (r.varint(n) && n > bytes.size()) r.fail();
    std::uint64_t events = 0;
    for (std::uint64_t i = 0; i < n && r.ok(); ++i) {
        auto& c = ix.chunks.emplace_back();
        get_box(r, c.box, ix.data_len);
        r.u32(c.events);
        events += c.events;
    }
    if (r.ok() && events != ix.event_count) r.fail();
    if (r.varint(n) && n > bytes.size()) r.fail();
    std::string_view prev;
    IndexEntry e;
    for (std::uint64_t i = 0; i < n && r.ok(); ++i) {
        std::string_view name;
        r.view(name, k_max_name);
        get_box(r, e.meta, ix.data_len);
        get_box(r, e.secrets, ix.data_len);
        r.i64(e.window_end);
        r.u8(e.flags);
        if (e.flags > (entry_rotation | entry_refresh)) r.fail();
        if (i > 0 && r.ok() && !(prev < name)) r.fail();
        prev = name;
        if (r.ok() && !visit(name, e)) return {};
    }
    if (!r.at_end()) return make_error(Errc::damaged, "vault index is malformed");
    return {};
}

} // namespace

Result<Index> decode_index(std::span<const std::uint8_t> bytes, bool entries)
{
    Index ix;
    auto st = walk(bytes, ix, [&](std::string_view name, const IndexEntry& e) {
        if (!entries) return false; // the head only
        if (ix.entries.empty()) ix.entries.reserve(bytes.size() / 96);
        ix.entries.push_back(e);
        ix.entries.back().name.assign(name);
        return true;
    });
    if (!st) return std::move(st).error();
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

const IndexEntry* find_entry(const Index& index, std::string_view name) noexcept
{
    auto it = std::lower_bound(index.entries.begin(), index.entries.end(), name,
                               [](const IndexEntry& e, std::string_view n) { return e.name < n; });
    if (it == index.entries.end() || it->name != name) return nullptr;
    return &*it;
}

} // namespace pitool::vault::detail
