#include "pitool/vault/vault.hpp"

#include "pitool/core/codec.hpp"
#include "pitool/core/record_codec.hpp"
#include "vault/index.hpp"

#include <algorithm>
#include <array>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <new>
#include <thread>
#include <cstring>
#include <map>

namespace pitool::vault {

using detail::BoxRef;
using detail::Index;
using detail::IndexEntry;

namespace {

/// Chunks of history kept before save() merges them into one.
constexpr std::size_t k_max_history_chunks = 64;
/// A data file is rewritten with only its live boxes once it holds more
/// than twice their length plus this.
constexpr std::uint64_t k_compact_slack = 1ULL << 20;

/// The first bytes of a data file: magic, version (u16 = 1), reserved
/// (u16, u32), its id (u64).
constexpr std::array<std::uint8_t, 8> k_data_magic{'P', 'I', 'T', 'D', 'A', 'T', 'A', 0};
constexpr std::size_t k_data_header_bytes = 24;

std::vector<std::uint8_t> data_header(std::uint64_t id)
{
    std::vector<std::uint8_t> out(k_data_magic.begin(), k_data_magic.end());
    out.push_back(1);
    out.resize(k_data_header_bytes - 8, 0);
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(id >> (8 * i)));
    return out;
}

Result<Recipient> wrap_key(const Secret& data_key, const Secret& passphrase, const crypto::KdfParams& params)
{
    Recipient r;
    r.params = params;
    crypto::random_bytes(r.salt);
    crypto::random_bytes(r.wrap_nonce);
    auto kek = crypto::derive_key(passphrase, r.salt, params);
    if (!kek) return std::move(kek).error();
    auto ad = recipient_ad(r);
    auto sealed = crypto::seal({data_key.data(), data_key.size()}, r.wrap_nonce, ad, kek.value());
    std::copy(sealed.begin(), sealed.end(), r.wrapped_key.begin());
    return r;
}

Result<Secret> unwrap_key(const Header& h, const Secret& passphrase)
{
    for (const auto& r : h.recipients) {
        auto kek = crypto::derive_key(passphrase, r.salt, r.params);
        if (!kek) return std::move(kek).error();
        auto ad = recipient_ad(r);
        if (auto key = crypto::open(r.wrapped_key, r.wrap_nonce, ad, kek.value());
            key && key->size() == crypto::k_key_bytes)
            return std::move(*key);
    }
    return make_error(Errc::wrong_passphrase, "wrong passphrase");
}

/// Whether two headers have the same version and byte-identical recipients
/// (their data file, nonce and index length aside).
bool same_recipients(const Header& a, const Header& b)
{
    auto recipients_only = [](const Header& h) {
        Header r;
        r.version = h.version;
        r.recipients = h.recipients;
        return encode_header(r);
    };
    return recipients_only(a) == recipients_only(b);
}

enum class BoxKind : std::uint8_t { meta = 1, secrets = 2, history = 3, index = 4 };

/// A box's associated data: what it is and whose. A box moved to another
/// record or another role does not open.
void box_ad_into(std::vector<std::uint8_t>& ad, BoxKind kind, std::string_view name)
{
    static constexpr char k_domain[] = "pitool/v2/box";
    ad.assign(k_domain, k_domain + sizeof k_domain);
    ad.push_back(static_cast<std::uint8_t>(kind));
    ad.insert(ad.end(), name.begin(), name.end());
}

std::vector<std::uint8_t> box_ad(BoxKind kind, std::string_view name)
{
    std::vector<std::uint8_t> ad;
    box_ad_into(ad, kind, name);
    return ad;
}

std::vector<std::uint8_t> chunk_ad(std::size_t i)
{
    return box_ad(BoxKind::history, std::to_string(i));
}

detail::Tag tag_of(std::span<const std::uint8_t> box)
{
    detail::Tag t{};
    std::copy(box.end() - static_cast<std::ptrdiff_t>(t.size()), box.end(), t.begin());
    return t;
}

/// Seals `plain` as a box appended to `data`; its reference.
BoxRef append_sealed(std::vector<std::uint8_t>& data, std::span<const std::uint8_t> plain,
                     std::span<const std::uint8_t> ad, const Secret& key)
{
    BoxRef b;
    b.off = data.size();
    crypto::seal_box(plain, ad, key, data);
    b.len = static_cast<std::uint32_t>(data.size() - b.off);
    b.tag = tag_of({data.data() + b.off, b.len});
    return b;
}

/// Copies the box `ref` (offset into `from`) to the end of `data`, unchanged.
BoxRef append_copy(std::vector<std::uint8_t>& data, const std::uint8_t* from, const BoxRef& ref)
{
    BoxRef b = ref;
    b.off = data.size();
    data.insert(data.end(), from + ref.off, from + ref.off + ref.len);
    return b;
}

Error damaged_record(std::string_view name)
{
    return make_error(Errc::damaged, "vault record '" + std::string(name) + "' is corrupted (authentication failed)");
}

/// Opens a non-secret box (metadata, history) into a plain buffer.
Result<std::vector<std::uint8_t>> open_plain(std::span<const std::uint8_t> box, const detail::Tag& tag,
                                             std::span<const std::uint8_t> ad, const Secret& key)
{
    std::vector<std::uint8_t> plain(box.size() >= crypto::k_box_overhead ? box.size() - crypto::k_box_overhead : 0);
    if (box.size() < crypto::k_box_overhead || tag_of(box) != tag || !crypto::open_box(box, ad, key, plain))
        return make_error(Errc::damaged, "");
    return plain;
}

/// Opens e's metadata box, appending the plaintext to `out` (`ad` is
/// scratch). False if the box is not the one the index pins or does not
/// authenticate.
bool open_meta_box(std::span<const std::uint8_t> box, const IndexEntry& e, const Secret& key,
                   std::vector<std::uint8_t>& ad, std::vector<std::uint8_t>& out)
{
    if (box.size() < crypto::k_box_overhead || tag_of(box) != e.meta.tag) return false;
    box_ad_into(ad, BoxKind::meta, e.name);
    const std::size_t at = out.size();
    out.resize(at + box.size() - crypto::k_box_overhead);
    return crypto::open_box(box, ad, key, std::span<std::uint8_t>(out).subspan(at));
}

/// Decodes opened metadata into `out` and checks it against its entry.
Status decode_checked(std::span<const std::uint8_t> plain, const IndexEntry& e, core::Integration& out)
{
    PITOOL_TRY(core::decode_meta_into(plain, out));
    if (out.name != e.name || out.rotation.has_value() != ((e.flags & detail::entry_rotation) != 0) ||
        (out.oauth && out.oauth->refresh_token.has_value()) != ((e.flags & detail::entry_refresh) != 0))
        return make_error(Errc::damaged, "vault record '" + e.name + "' does not match the index");
    return {};
}

Status decode_meta_into(std::span<const std::uint8_t> box, const IndexEntry& e, const Secret& key,
                        core::Integration& out)
{
    // Metadata is not secret: one buffer each for the plaintext and the
    // associated data serves every record a pass over 100,000 decodes.
    thread_local std::vector<std::uint8_t> ad;
    thread_local std::vector<std::uint8_t> plain;
    plain.clear();
    if (!open_meta_box(box, e, key, ad, plain)) return damaged_record(e.name);
    return decode_checked(plain, e, out);
}

Status decode_secrets_into(std::span<const std::uint8_t> box, const IndexEntry& e, const Secret& key,
                           core::Integration& in)
{
    if (box.size() < crypto::k_box_overhead || tag_of(box) != e.secrets.tag) return damaged_record(e.name);
    Secret plain(box.size() - crypto::k_box_overhead);
    if (!crypto::open_box(box, box_ad(BoxKind::secrets, e.name), key, {plain.data(), plain.size()}))
        return damaged_record(e.name);
    return core::decode_secrets(std::move(plain), in);
}

std::int64_t epoch(Timestamp t)
{
    return t.time_since_epoch().count();
}

/// Reads `len` bytes at `off` of whatever holds the boxes.
using BoxReader = std::function<Status(std::uint64_t off, std::span<std::uint8_t> out)>;

/// The live bytes an index describes: what a compacted data file would hold.
std::uint64_t live_bytes(const Index& ix)
{
    std::uint64_t n = k_data_header_bytes;
    for (const auto& c : ix.chunks) n += c.box.len;
    for (const auto& p : ix.parts) n += p.box.len + p.bytes;
    return n;
}

std::uint8_t entry_flags(const core::Integration& in)
{
    return static_cast<std::uint8_t>((in.rotation ? detail::entry_rotation : 0) |
                                     (in.oauth && in.oauth->refresh_token ? detail::entry_refresh : 0));
}

} // namespace

Vault::Vault(Storage& storage, Secret key, Header header)
    : m_storage(&storage), m_key(std::move(key)), m_header(std::move(header))
{
}

Vault::Vault(Vault&&) noexcept = default;
Vault& Vault::operator=(Vault&&) noexcept = default;
Vault::~Vault() = default;

Result<Vault> Vault::create(Storage& storage, const Secret& passphrase, const crypto::KdfParams& params,
                            core::Payload initial)
{
    auto existing = storage.read();
    if (existing) return make_error(Errc::conflict, "a vault already exists at " + storage.describe());
    if (existing.error().code != Errc::not_found) return std::move(existing).error();
    PITOOL_TRY(crypto::check_params(params));
    Secret key = crypto::random_key();
    auto r = wrap_key(key, passphrase, params);
    if (!r) return std::move(r).error();
    Header h;
    h.recipients.push_back(r.value());
    Vault v(storage, std::move(key), std::move(h));
    v.m_payload = std::move(initial);
    v.m_history_loaded = true;
    PITOOL_TRY(v.save());
    return v;
}

namespace {

struct Opened {
    Header header;
    std::vector<std::uint8_t> header_bytes;
    std::unique_ptr<Snapshot> snap;
};

Result<Opened> read_header(Storage& storage)
{
    auto snap = storage.snapshot();
    if (!snap) return std::move(snap).error();
    auto& s = *snap.value();
    std::vector<std::uint8_t> prefix(std::min<std::uint64_t>(k_prefix_bytes, s.size()));
    PITOOL_TRY(s.read(0, prefix));
    auto hsize = header_size_of(prefix);
    if (!hsize) return std::move(hsize).error();
    if (s.size() < hsize.value()) return make_error(Errc::damaged, "vault is truncated (incomplete header)");
    std::vector<std::uint8_t> bytes(hsize.value());
    PITOOL_TRY(s.read(0, bytes));
    auto h = parse_header(bytes, s.size());
    if (!h) return std::move(h).error();
    return Opened{std::move(h).value(), std::move(bytes), std::move(snap).value()};
}

} // namespace

Result<Vault> Vault::open(Storage& storage, const Secret& passphrase, const Vault* known)
{
    auto o = read_header(storage);
    if (!o) return std::move(o).error();
    Secret key;
    if (known != nullptr && same_recipients(known->m_header, o->header)) {
        key = known->m_key.clone();
    } else {
        auto k = unwrap_key(o->header, passphrase);
        if (!k) return std::move(k).error();
        key = std::move(k).value();
    }
    auto v = open_parsed(storage, key, std::move(o->header), std::move(o->header_bytes), std::move(o->snap));
    if (!v && v.error().code == Errc::not_found) v = reopen(storage, key);
    if (!v && v.error().code == Errc::wrong_passphrase)
        return make_error(Errc::damaged, "vault payload is corrupted (authentication failed)");
    return v;
}

Result<Vault> Vault::open_with_key(Storage& storage, const Secret& key)
{
    return open_with_key(storage, key.clone());
}

Result<Vault> Vault::open_with_key(Storage& storage, Secret&& key)
{
    auto o = read_header(storage);
    if (!o) return std::move(o).error();
    auto v = open_parsed(storage, key, std::move(o->header), std::move(o->header_bytes), std::move(o->snap));
    if (!v && v.error().code == Errc::not_found) return reopen(storage, key);
    return v;
}

Result<Vault> Vault::reopen(Storage& storage, Secret& key)
{
    // The data file the header named is gone: a compaction replaced the vault
    // after we read it and removed the data file two generations back. Read
    // the vault again, once; still missing means damaged.
    auto o = read_header(storage);
    if (!o) return std::move(o).error();
    auto v = open_parsed(storage, key, std::move(o->header), std::move(o->header_bytes), std::move(o->snap));
    if (!v && v.error().code == Errc::not_found) return make_error(Errc::damaged, v.error().message);
    return v;
}

Result<Vault> Vault::open_parsed(Storage& storage, Secret& key, Header header, std::vector<std::uint8_t> header_bytes,
                                 std::unique_ptr<Snapshot> snap)
{
    std::vector<std::uint8_t> sealed(static_cast<std::size_t>(header.payload_len));
    PITOOL_TRY(snap->read(header_bytes.size(), sealed));
    // The key moves into the vault only once it opened: a caller may retry.
    Vault v(storage, Secret(), std::move(header));
    v.m_file_version = v.m_header.version;
    if (v.m_file_version == k_format_v1) {
        // Version 1: one JSON payload holding every token.
        auto plain = crypto::open(sealed, v.m_header.payload_nonce, header_bytes, key);
        // The first recipient that unwraps a key decides; a key that does not
        // open the payload is a wrong (agent) key, or a damaged file.
        if (!plain) return make_error(Errc::wrong_passphrase, "the key does not open this vault");
        auto payload = core::decode_payload(plain->view());
        if (!payload) return std::move(payload).error();
        v.m_payload = std::move(payload).value();
        v.m_history_loaded = true;
        v.m_header.version = k_format_version;
        v.m_key = std::move(key);
        return v;
    }
    // The index holds no secret: a plain buffer, not guarded memory.
    // It is decrypted in place (libsodium's stream XOR allows out == in), so
    // a large index costs one buffer, not two.
    const std::size_t sealed_len = sealed.size();
    std::vector<std::uint8_t> plain = std::move(sealed);
    if (!crypto::open_into(std::span<const std::uint8_t>(plain), v.m_header.payload_nonce, header_bytes, key,
                           std::span<std::uint8_t>(plain.data(), sealed_len - crypto::k_tag_bytes)))
        return make_error(Errc::wrong_passphrase, "the key does not open this vault");
    plain.resize(sealed_len - crypto::k_tag_bytes);
    if (v.m_file_version == k_format_v2) {
        // The head now; entries are scanned for one name, or decoded (and
        // checked) when a command needs them all.
        auto index = detail::decode_index(plain, /*entries=*/false);
        if (!index) return std::move(index).error();
        v.m_data_at = header_bytes.size() + sealed_len;
        if (snap->size() - v.m_data_at != index->data_len)
            return make_error(Errc::damaged,
                              "vault is truncated or has trailing bytes (size does not match its index)");
        v.m_index = std::make_unique<Index>(std::move(index).value());
        v.m_index_plain = std::move(plain);
        v.m_snapshot = std::move(snap);
        v.m_part_cache.resize(1);
    } else {
        auto index = detail::decode_top(plain);
        if (!index) return std::move(index).error();
        auto log = storage.data(v.m_header.data_id, DataMode::read);
        if (!log) return std::move(log).error();
        std::vector<std::uint8_t> head(k_data_header_bytes);
        if ((*log)->size() < std::max<std::uint64_t>(index->data_len, k_data_header_bytes))
            return make_error(Errc::damaged, "vault data file is truncated (shorter than its index says)");
        PITOOL_TRY((*log)->read(0, head));
        if (head != data_header(v.m_header.data_id))
            return make_error(Errc::damaged, "vault data file does not belong to this vault");
        v.m_index = std::make_unique<Index>(std::move(index).value());
        v.m_data = std::move(log).value();
        v.m_part_cache.resize(v.m_index->parts.size());
    }
    v.m_payload.chain_tip = v.m_index->chain_tip;
    v.m_history_loaded = v.m_index->event_count == 0;
    v.m_key = std::move(key);
    return v;
}

std::size_t Vault::part_count() const noexcept
{
    return m_index == nullptr ? 0 : m_file_version == k_format_v2 ? 1 : m_index->parts.size();
}

std::size_t Vault::part_of(std::string_view name) const noexcept
{
    return m_file_version == k_format_v2 || m_index == nullptr ? 0 : detail::route(m_index->parts, name);
}

Result<std::vector<IndexEntry>> Vault::decode_part_at(std::size_t i) const
{
    if (m_file_version == k_format_v2) {
        // Authenticated bytes that we wrote: malformed only through a bug.
        auto full = detail::decode_index(m_index_plain);
        if (!full) return std::move(full).error();
        return std::move(full->entries);
    }
    const auto& parts = m_index->parts;
    const auto& p = parts[i];
    std::vector<std::uint8_t> box;
    PITOOL_TRY(read_box(p.box.off, p.box.len, box));
    auto plain = open_plain(box, p.box.tag, box_ad(BoxKind::index, ""), m_key);
    if (!plain) return make_error(Errc::damaged, "vault index is corrupted (authentication failed)");
    auto entries = detail::decode_part(plain.value(), m_index->data_len);
    if (!entries) return std::move(entries).error();
    std::uint64_t bytes = 0;
    std::int64_t window = 0;
    for (const auto& e : *entries) {
        bytes += std::uint64_t{e.meta.len} + e.secrets.len;
        if (e.window_end != 0 && (window == 0 || e.window_end < window)) window = e.window_end;
    }
    if (entries->size() != p.count || entries->front().name != p.first || bytes != p.bytes || window != p.window_end ||
        (i + 1 < parts.size() && !(entries->back().name < parts[i + 1].first)))
        return make_error(Errc::damaged, "vault index part does not match the index");
    return entries;
}

Result<const std::vector<IndexEntry>*> Vault::part(std::size_t i) const
{
    if (!m_part_cache[i]) {
        auto entries = decode_part_at(i);
        if (!entries) return std::move(entries).error();
        m_part_cache[i] = std::move(entries).value();
    }
    return &*m_part_cache[i];
}

Result<std::optional<IndexEntry>> Vault::lookup(std::string_view name) const
{
    if (part_count() == 0) return std::optional<IndexEntry>();
    // Version 2: one name is found by a scan of the index bytes.
    if (m_file_version == k_format_v2 && !m_part_cache[0]) return detail::scan_entry(m_index_plain, name);
    auto p = part(part_of(name));
    if (!p) return std::move(p).error();
    const IndexEntry* e = detail::find_entry(*p.value(), name);
    return e ? std::optional<IndexEntry>(*e) : std::nullopt;
}

Status Vault::read_box(std::uint64_t off, std::uint32_t len, std::vector<std::uint8_t>& out) const
{
    out.resize(len);
    if (m_data) return m_data->read(off, out);
    return m_snapshot->read(m_data_at + off, out);
}

Result<bool> Vault::contains(std::string_view name) const
{
    if (m_staged_names.contains(name) || m_payload.find(name) != nullptr) return true;
    if (is_loaded(name)) return false; // loaded, then erased
    auto e = lookup(name);
    if (!e) return std::move(e).error();
    return e->has_value();
}

Result<std::vector<std::string>> Vault::names() const
{
    std::vector<std::string> out;
    if (m_index && !m_all_loaded) {
        for (std::size_t i = 0; i < part_count(); ++i) {
            auto p = part(i);
            if (!p) return std::move(p).error();
            for (const auto& e : *p.value())
                if (!m_loaded.contains(e.name)) out.push_back(e.name);
        }
    }
    for (const auto& in : m_payload.integrations) out.push_back(in.name);
    out.insert(out.end(), m_staged_names.begin(), m_staged_names.end());
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

Result<std::vector<std::string>> Vault::windows_ended(Timestamp now) const
{
    std::vector<std::string> out;
    for (std::size_t i = 0; i < part_count(); ++i) {
        // A version 3 part says when its earliest window ends.
        if (m_file_version != k_format_v2) {
            const auto end = m_index->parts[i].window_end;
            if (end == 0 || end > epoch(now)) continue;
        }
        auto p = part(i);
        if (!p) return std::move(p).error();
        for (const auto& e : *p.value())
            if (e.window_end != 0 && e.window_end <= epoch(now)) out.push_back(e.name);
    }
    return out;
}

Status Vault::load(std::string_view name_view, bool secrets)
{
    if (!m_index) return {};
    // The name may live inside a loaded record, which loading can move.
    const std::string name(name_view);
    auto found = lookup(name);
    if (!found) return std::move(found).error();
    if (!found->has_value()) return {};
    const IndexEntry& e = **found;
    core::Integration* in = nullptr;
    std::vector<std::uint8_t> box;
    if (is_loaded(name)) {
        in = m_payload.find(name);
        if (in == nullptr || !in->sealed || !secrets) return {};
    } else {
        PITOOL_TRY(read_box(e.meta.off, e.meta.len, box));
        core::Integration fresh;
        PITOOL_TRY(decode_meta_into(box, e, m_key, fresh));
        m_payload.integrations.push_back(std::move(fresh));
        m_loaded.emplace(name);
        in = &m_payload.integrations.back();
        if (!secrets) return {};
    }
    PITOOL_TRY(read_box(e.secrets.off, e.secrets.len, box));
    return decode_secrets_into(box, e, m_key, *in);
}

Status Vault::load_all(bool secrets)
{
    if (!m_index) return {};
    if (m_all_loaded && !secrets) return {};
    std::vector<std::uint8_t> box;
    for (std::size_t i = 0; i < part_count(); ++i) {
        auto p = part(i);
        if (!p) return std::move(p).error();
        for (const auto& e : *p.value()) {
            core::Integration* in = nullptr;
            if (is_loaded(e.name)) {
                in = m_payload.find(e.name);
                if (in == nullptr || !in->sealed || !secrets) continue;
            } else {
                PITOOL_TRY(read_box(e.meta.off, e.meta.len, box));
                core::Integration fresh;
                PITOOL_TRY(decode_meta_into(box, e, m_key, fresh));
                in = &m_payload.integrations.emplace_back(std::move(fresh));
                if (!secrets) continue;
            }
            PITOOL_TRY(read_box(e.secrets.off, e.secrets.len, box));
            PITOOL_TRY(decode_secrets_into(box, e, m_key, *in));
        }
    }
    m_all_loaded = true;
    m_loaded.clear();
    return {};
}

/// One index part's entries, its boxes read (in one go when they lie
/// together) and its metadata boxes already opened: what for_each_record
/// prepares for a part, on a second thread, while the caller visits the one
/// before.
struct Vault::Fetched {
    std::vector<IndexEntry> entries;
    std::vector<std::uint8_t> span; ///< the bytes [lo, lo + span.size()) of the data
    std::uint64_t lo = 0;
    bool one_read = false;
    std::vector<std::uint8_t> metas;    ///< the metadata plaintexts, one after another
    std::vector<std::size_t> meta_ends; ///< where each ends in `metas`
};

Result<Vault::Fetched> Vault::fetch_part(std::size_t i, bool secrets) const
{
    Fetched f;
    // Not from m_part_cache, which the visiting thread may fill meanwhile.
    auto entries = decode_part_at(i);
    if (!entries) return std::move(entries).error();
    f.entries = std::move(entries).value();
    std::uint64_t lo = UINT64_MAX;
    std::uint64_t hi = 0;
    std::uint64_t want = 0;
    for (const auto& e : f.entries) {
        for (const BoxRef* b : {&e.meta, &e.secrets}) {
            if (b == &e.secrets && !secrets) continue;
            lo = std::min(lo, b->off);
            hi = std::max(hi, b->off + b->len);
            want += b->len;
        }
    }
    f.one_read = !f.entries.empty() && hi - lo <= 2 * want + (64U << 10);
    if (f.one_read) {
        f.lo = lo;
        f.span.resize(static_cast<std::size_t>(hi - lo));
        if (m_data)
            PITOOL_TRY(m_data->read(lo, f.span));
        else
            PITOOL_TRY(m_snapshot->read(m_data_at + lo, f.span));
    }
    std::vector<std::uint8_t> box;
    std::vector<std::uint8_t> ad;
    f.metas.reserve(static_cast<std::size_t>(want));
    for (const auto& e : f.entries) {
        std::span<const std::uint8_t> b;
        if (f.one_read) {
            b = std::span<const std::uint8_t>(f.span.data() + (e.meta.off - lo), e.meta.len);
        } else {
            PITOOL_TRY(read_box(e.meta.off, e.meta.len, box));
            b = box;
        }
        if (!open_meta_box(b, e, m_key, ad, f.metas)) return damaged_record(e.name);
        f.meta_ends.push_back(f.metas.size());
    }
    return f;
}

Status Vault::for_each_record(bool secrets, const std::function<Status(const core::Integration&)>& visit) const
{
    if (!m_index) {
        // Not saved as version 3 yet (a v1 vault, or a new one): the payload.
        std::vector<const core::Integration*> all;
        for (const auto& in : m_payload.integrations) all.push_back(&in);
        std::sort(all.begin(), all.end(), [](auto* a, auto* b) { return a->name < b->name; });
        for (const auto* in : all) {
            auto copy = read_record(in->name, secrets);
            if (!copy) return std::move(copy).error();
            PITOOL_TRY(visit(copy.value()));
        }
        return {};
    }
    std::vector<std::uint8_t> box;
    core::Integration in; // reused: decoding overwrites every field
    auto visit_part = [&](const Fetched& f) -> Status {
        std::size_t at = 0;
        for (std::size_t k = 0; k < f.entries.size(); ++k) {
            const auto& e = f.entries[k];
            PITOOL_TRY(decode_checked(std::span<const std::uint8_t>(f.metas).subspan(at, f.meta_ends[k] - at), e, in));
            at = f.meta_ends[k];
            if (secrets) {
                std::span<const std::uint8_t> b;
                if (f.one_read) {
                    b = std::span<const std::uint8_t>(f.span.data() + (e.secrets.off - f.lo), e.secrets.len);
                } else {
                    PITOOL_TRY(read_box(e.secrets.off, e.secrets.len, box));
                    b = box;
                }
                PITOOL_TRY(decode_secrets_into(b, e, m_key, in));
            }
            PITOOL_TRY(visit(in));
        }
        return {};
    };
    const std::size_t n = part_count();
    if (n <= 2) {
        for (std::size_t i = 0; i < n; ++i) {
            auto f = fetch_part(i, secrets);
            if (!f) return std::move(f).error();
            PITOOL_TRY(visit_part(f.value()));
        }
        return {};
    }
    // Many parts: a second thread reads and decrypts the next parts (at most
    // two ahead) while this one decodes and visits, in order.
    std::mutex mu;
    std::condition_variable cv;
    std::deque<Result<Fetched>> ready;
    bool stop = false;
    std::thread worker([&] {
        for (std::size_t i = 0; i < n; ++i) {
            Result<Fetched> f = make_error(Errc::internal, "out of memory");
            try {
                f = fetch_part(i, secrets);
            } catch (const std::bad_alloc&) {
                // Reported to the visiting thread like any other failure.
            }
            const bool failed = !f;
            std::unique_lock lock(mu);
            cv.wait(lock, [&] { return ready.size() < 2 || stop; });
            if (stop) return;
            ready.push_back(std::move(f));
            cv.notify_all();
            if (failed) return;
        }
    });
    struct Join {
        std::mutex& mu;
        std::condition_variable& cv;
        bool& stop;
        std::thread& t;
        ~Join()
        {
            {
                std::lock_guard lock(mu);
                stop = true;
            }
            cv.notify_all();
            t.join();
        }
    } join{mu, cv, stop, worker};
    for (std::size_t i = 0; i < n; ++i) {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return !ready.empty(); });
        auto f = std::move(ready.front());
        ready.pop_front();
        cv.notify_all();
        lock.unlock();
        if (!f) return std::move(f).error();
        PITOOL_TRY(visit_part(f.value()));
    }
    return {};
}

Status Vault::load_history()
{
    if (m_history_loaded || !m_index) return {};
    std::vector<core::Event> all;
    all.reserve(static_cast<std::size_t>(m_index->event_count) + m_payload.history.size());
    std::vector<std::uint8_t> box;
    for (std::size_t i = 0; i < m_index->chunks.size(); ++i) {
        const auto& c = m_index->chunks[i];
        PITOOL_TRY(read_box(c.box.off, c.box.len, box));
        auto plain = open_plain(box, c.box.tag, chunk_ad(i), m_key);
        if (!plain) return make_error(Errc::damaged, "vault history is corrupted (authentication failed)");
        auto events = core::decode_events(plain.value());
        if (!events) return std::move(events).error();
        if (events->size() != c.events) return make_error(Errc::damaged, "vault history does not match the index");
        std::move(events->begin(), events->end(), std::back_inserter(all));
    }
    std::move(m_payload.history.begin(), m_payload.history.end(), std::back_inserter(all));
    m_payload.history = std::move(all);
    m_payload.chain_tip.clear();
    m_history_loaded = true;
    return {};
}

Result<core::Integration> Vault::read_record(std::string_view name, bool secrets) const
{
    auto found = lookup(name);
    if (!found) return std::move(found).error();
    if (!found->has_value()) {
        const auto* in = m_payload.find(name);
        if (in == nullptr) return make_error(Errc::not_found, "no integration named '" + std::string(name) + "'");
        // Not saved as version 3 yet (a v1 vault): copy it through the codec.
        auto copy = core::decode_meta(core::encode_meta(*in));
        if (!copy) return std::move(copy).error();
        if (secrets && !in->sealed) {
            auto bytes = core::encode_secrets(*in);
            PITOOL_TRY(core::decode_secrets(bytes, copy.value()));
        }
        return copy;
    }
    const IndexEntry& e = **found;
    std::vector<std::uint8_t> box;
    PITOOL_TRY(read_box(e.meta.off, e.meta.len, box));
    core::Integration in;
    PITOOL_TRY(decode_meta_into(box, e, m_key, in));
    if (secrets) {
        PITOOL_TRY(read_box(e.secrets.off, e.secrets.len, box));
        PITOOL_TRY(decode_secrets_into(box, e, m_key, in));
    }
    return in;
}

Status Vault::stage(const core::Integration& in)
{
    if (in.sealed) return make_error(Errc::internal, "cannot stage a record without its secrets");
    auto exists = contains(in.name);
    if (!exists) return std::move(exists).error();
    if (exists.value()) return make_error(Errc::conflict, "an integration named '" + in.name + "' already exists");
    IndexEntry e;
    e.name = in.name;
    e.flags = entry_flags(in);
    e.window_end = in.rotation ? epoch(in.rotation->old_expires_at) : 0;
    e.meta = append_sealed(m_staged_data, core::encode_meta(in), box_ad(BoxKind::meta, in.name), m_key);
    e.secrets = append_sealed(m_staged_data, core::encode_secrets(in), box_ad(BoxKind::secrets, in.name), m_key);
    m_staged.push_back(std::move(e));
    m_staged_names.insert(in.name);
    return {};
}

Status Vault::save()
{
    if (m_index && m_index->chunks.size() >= k_max_history_chunks) PITOOL_TRY(load_history());

    // Append to the data file this generation uses, unless there is none yet
    // (a new vault, or a v1/v2 file) or it is mostly dead boxes: then start
    // a new one holding only the live boxes.
    const bool append = m_data != nullptr && m_data->size() <= 2 * live_bytes(*m_index) + k_compact_slack;
    std::uint64_t id = m_header.data_id;
    std::unique_ptr<DataLog> log;
    std::vector<std::uint8_t> out; // appended at `base`
    std::uint64_t base = 0;
    if (append) {
        auto l = m_storage->data(id, DataMode::append);
        if (!l) return std::move(l).error();
        log = std::move(l).value();
        base = log->size();
    } else {
        for (;;) {
            std::array<std::uint8_t, 8> r{};
            crypto::random_bytes(r);
            id = 0;
            for (auto b : r) id = (id << 8) | b;
            if (id == 0 || id == m_header.data_id) continue;
            auto l = m_storage->data(id, DataMode::create);
            if (!l && l.error().code == Errc::conflict) continue;
            if (!l) return std::move(l).error();
            log = std::move(l).value();
            break;
        }
        out = data_header(id);
    }
    auto seal = [&](std::span<const std::uint8_t> plain, std::span<const std::uint8_t> ad) {
        BoxRef b = append_sealed(out, plain, ad, m_key);
        b.off += base;
        return b;
    };
    // A stored box: kept where it is when appending, else copied over.
    std::vector<std::uint8_t> scratch;
    auto keep = [&](const BoxRef& old) -> Result<BoxRef> {
        if (append) return old;
        PITOOL_TRY(read_box(old.off, old.len, scratch));
        BoxRef b = old;
        b.off = base + out.size();
        out.insert(out.end(), scratch.begin(), scratch.end());
        return b;
    };

    Index next;
    // History: the stored chunks as they are plus one chunk of new events,
    // or everything as one chunk once it has been loaded whole.
    if (!m_history_loaded && m_index) {
        for (const auto& c : m_index->chunks) {
            auto b = keep(c.box);
            if (!b) return std::move(b).error();
            next.chunks.push_back({b.value(), c.events});
            next.event_count += c.events;
        }
    }
    if (!m_payload.history.empty()) {
        auto bytes = core::encode_events(m_payload.history);
        next.chunks.push_back(
            {seal(bytes, chunk_ad(next.chunks.size())), static_cast<std::uint32_t>(m_payload.history.size())});
        next.event_count += m_payload.history.size();
    }
    next.chain_tip = m_payload.history.empty() ? m_payload.chain_tip : m_payload.history.back().hash;

    // Records. A part none of whose names was loaded, added or staged is
    // kept as it is; the others are merged with the changes and cut again.
    std::map<std::string_view, const core::Integration*> loaded;
    for (const auto& in : m_payload.integrations)
        if (!loaded.emplace(in.name, &in).second)
            return make_error(Errc::conflict, "two integrations are named '" + in.name + "'");
    const std::size_t parts = std::max<std::size_t>(part_count(), 1);
    std::vector<bool> touched(parts, !append || m_all_loaded);
    std::vector<std::vector<const core::Integration*>> fresh(parts); // loaded, maybe not stored
    std::vector<std::vector<const IndexEntry*>> staged(parts);
    for (const auto& [name, in] : loaded) fresh[part_of(name)].push_back(in);
    for (const auto& name : m_loaded) touched[part_of(name)] = true;
    for (const auto& e : m_staged) staged[part_of(e.name)].push_back(&e);
    // In name order, so that a part's boxes lie together in the data file
    // and a pass over every record reads each part in one go.
    for (auto& s : staged)
        std::sort(s.begin(), s.end(), [](const IndexEntry* a, const IndexEntry* b) { return a->name < b->name; });
    for (std::size_t i = 0; i < parts; ++i) touched[i] = touched[i] || !fresh[i].empty() || !staged[i].empty();

    auto emit = [&](const core::Integration& in, const IndexEntry* old) -> Result<IndexEntry> {
        IndexEntry e;
        e.name = in.name;
        e.flags = entry_flags(in);
        e.window_end = in.rotation ? epoch(in.rotation->old_expires_at) : 0;
        e.meta = seal(core::encode_meta(in), box_ad(BoxKind::meta, in.name));
        if (in.sealed) {
            // Secrets never read: keep their box, which must still fit.
            if (old == nullptr || old->flags != e.flags)
                return make_error(Errc::internal, "integration '" + in.name + "' changed without its secrets loaded");
            auto b = keep(old->secrets);
            if (!b) return std::move(b).error();
            e.secrets = b.value();
        } else {
            e.secrets = seal(core::encode_secrets(in), box_ad(BoxKind::secrets, in.name));
        }
        return e;
    };
    std::vector<IndexEntry> pending; // merged entries of consecutive touched parts
    auto cut = [&]() {
        // Parts of about k_part_entries; a run up to twice that stays whole.
        const std::size_t n = pending.size();
        const std::size_t pieces =
            n <= 2 * detail::k_part_entries ? 1 : (n + detail::k_part_entries - 1) / detail::k_part_entries;
        for (std::size_t k = 0, at = 0; k < pieces && n > 0; ++k) {
            const std::size_t len = n / pieces + (k < n % pieces ? 1 : 0);
            std::span<const IndexEntry> piece(pending.data() + at, len);
            detail::Part p;
            p.first = piece.front().name;
            p.count = static_cast<std::uint32_t>(len);
            for (const auto& e : piece) {
                p.bytes += std::uint64_t{e.meta.len} + e.secrets.len;
                if (e.window_end != 0 && (p.window_end == 0 || e.window_end < p.window_end))
                    p.window_end = e.window_end;
            }
            p.box = seal(detail::encode_part(piece), box_ad(BoxKind::index, ""));
            next.parts.push_back(std::move(p));
            at += len;
        }
        pending.clear();
    };
    for (std::size_t i = 0; i < parts; ++i) {
        if (!touched[i]) {
            cut();
            if (i < part_count()) next.parts.push_back(m_index->parts[i]);
            continue;
        }
        const std::size_t run_start = pending.size();
        static const std::vector<IndexEntry> k_none;
        const std::vector<IndexEntry>* old = &k_none;
        if (i < part_count()) {
            auto p = part(i);
            if (!p) return std::move(p).error();
            old = p.value();
        }
        for (const auto& e : *old) {
            if (!is_loaded(e.name)) {
                IndexEntry kept = e;
                auto m = keep(e.meta);
                if (!m) return std::move(m).error();
                auto s = keep(e.secrets);
                if (!s) return std::move(s).error();
                kept.meta = m.value();
                kept.secrets = s.value();
                pending.push_back(std::move(kept));
            } else if (auto it = loaded.find(e.name); it != loaded.end()) {
                auto emitted = emit(*it->second, &e);
                if (!emitted) return std::move(emitted).error();
                pending.push_back(std::move(emitted).value());
            } // else erased
        }
        for (const auto* in : fresh[i]) {
            if (detail::find_entry(*old, in->name) != nullptr) continue; // done above
            auto emitted = emit(*in, nullptr);
            if (!emitted) return std::move(emitted).error();
            pending.push_back(std::move(emitted).value());
        }
        for (const auto* st : staged[i]) {
            IndexEntry e = *st;
            e.meta = append_copy(out, m_staged_data.data(), st->meta);
            e.secrets = append_copy(out, m_staged_data.data(), st->secrets);
            e.meta.off += base;
            e.secrets.off += base;
            pending.push_back(std::move(e));
        }
        auto run = pending.begin() + static_cast<std::ptrdiff_t>(run_start);
        std::sort(run, pending.end(), [](const IndexEntry& a, const IndexEntry& b) { return a.name < b.name; });
        auto dup = std::adjacent_find(run, pending.end(),
                                      [](const IndexEntry& a, const IndexEntry& b) { return a.name == b.name; });
        if (dup != pending.end()) return make_error(Errc::conflict, "two integrations are named '" + dup->name + "'");
    }
    cut();
    next.data_len = base + out.size();

    // The boxes first, durable; then the header and index name them.
    auto undo = [&]() {
        // Nothing names the appended bytes; a failed write leaves the data
        // file as it was (a new one empty, removed by a later compaction).
        (void)log->truncate(base);
    };
    if (auto st = log->append(out); !st) {
        undo();
        return st;
    }
    if (auto st = log->sync(); !st) {
        undo();
        return st;
    }
    Header h = m_header;
    h.version = k_format_version;
    h.data_id = id;
    crypto::random_bytes(h.payload_nonce);
    auto index = detail::encode_top(next);
    h.payload_len = index.size() + crypto::k_tag_bytes;
    auto file = encode_header(h);
    auto sealed_index = crypto::seal(index, h.payload_nonce, file, m_key);
    file.insert(file.end(), sealed_index.begin(), sealed_index.end());
    if (auto st = m_storage->write(file); !st) {
        undo(); // an error means the vault was not replaced (Storage::write): nothing names the bytes
        return st;
    }
    if (!append) {
        // The new file and the one vault.bak now names (if version 3) stay.
        std::vector<std::uint64_t> keep_ids{id};
        if (m_file_version == k_format_version && m_index) keep_ids.push_back(m_header.data_id);
        m_storage->remove_data_except(keep_ids);
    }

    // The vault now describes what it wrote.
    m_header = std::move(h);
    m_file_version = k_format_version;
    m_index = std::make_unique<Index>(std::move(next));
    m_part_cache.assign(m_index->parts.size(), std::nullopt);
    m_data = std::move(log);
    m_snapshot.reset();
    m_index_plain.clear();
    // Staged records are stored but not in the payload: not "all loaded".
    const bool staged_any = !m_staged.empty();
    m_all_loaded = m_all_loaded && !staged_any;
    m_loaded.clear();
    if (!m_all_loaded)
        for (const auto& in : m_payload.integrations) m_loaded.emplace(in.name);
    m_staged.clear();
    m_staged_names.clear();
    m_staged_data.clear();
    m_history_loaded = m_history_loaded || m_index->event_count == 0;
    return {};
}

Status Vault::change_passphrase(const Secret& passphrase, const crypto::KdfParams& params)
{
    PITOOL_TRY(crypto::check_params(params));
    auto r = wrap_key(m_key, passphrase, params);
    if (!r) return std::move(r).error();
    Header saved = m_header;
    m_header.recipients.assign(1, r.value());
    auto st = save();
    if (!st) m_header = std::move(saved);
    return st;
}

Result<core::Payload> decrypt_storage(Storage& storage, const Secret& passphrase)
{
    auto v = Vault::open(storage, passphrase);
    if (!v) return std::move(v).error();
    PITOOL_TRY(v->load_all(/*secrets=*/true));
    PITOOL_TRY(v->load_history());
    return std::move(v->payload());
}

Result<core::Payload> decrypt_image(std::span<const std::uint8_t> file, const Secret& passphrase,
                                    std::span<const std::uint8_t> data)
{
    auto parsed = parse(file);
    if (!parsed) return std::move(parsed).error();
    MemoryStorage storage(std::vector<std::uint8_t>(file.begin(), file.end()));
    if (parsed->header.version >= 3)
        storage.data_files()[parsed->header.data_id] =
            std::make_shared<std::vector<std::uint8_t>>(data.begin(), data.end());
    return decrypt_storage(storage, passphrase);
}

} // namespace pitool::vault
