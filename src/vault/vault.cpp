#include "pitool/vault/vault.hpp"

#include "pitool/core/codec.hpp"
#include "pitool/core/record_codec.hpp"
#include "vault/index.hpp"

#include <algorithm>
#include <cstring>
#include <map>

namespace pitool::vault {

using detail::BoxRef;
using detail::Index;
using detail::IndexEntry;

namespace {

/// Chunks of history kept before save() merges them into one.
constexpr std::size_t k_max_history_chunks = 64;

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

bool same_recipients(const Header& a, const Header& b)
{
    auto ea = encode_header(Header{a.version, a.recipients, {}, 0});
    auto eb = encode_header(Header{b.version, b.recipients, {}, 0});
    return ea == eb;
}

enum class BoxKind : std::uint8_t { meta = 1, secrets = 2, history = 3 };

/// A box's associated data: what it is and whose. A box moved to another
/// record or another role does not open.
std::vector<std::uint8_t> box_ad(BoxKind kind, std::string_view name)
{
    static constexpr char k_domain[] = "pitool/v2/box";
    std::vector<std::uint8_t> ad(k_domain, k_domain + sizeof k_domain);
    ad.push_back(static_cast<std::uint8_t>(kind));
    ad.insert(ad.end(), name.begin(), name.end());
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

Status decode_meta_into(std::span<const std::uint8_t> box, const IndexEntry& e, const Secret& key,
                        core::Integration& out)
{
    auto plain = open_plain(box, e.meta.tag, box_ad(BoxKind::meta, e.name), key);
    if (!plain) return damaged_record(e.name);
    auto in = core::decode_meta(plain.value());
    if (!in) return std::move(in).error();
    if (in->name != e.name || in->rotation.has_value() != ((e.flags & detail::entry_rotation) != 0) ||
        (in->oauth && in->oauth->refresh_token.has_value()) != ((e.flags & detail::entry_refresh) != 0))
        return make_error(Errc::damaged, "vault record '" + e.name + "' does not match the index");
    out = std::move(in).value();
    return {};
}

Status decode_secrets_into(std::span<const std::uint8_t> box, const IndexEntry& e, const Secret& key,
                           core::Integration& in)
{
    if (box.size() < crypto::k_box_overhead || tag_of(box) != e.secrets.tag) return damaged_record(e.name);
    Secret plain(box.size() - crypto::k_box_overhead);
    if (!crypto::open_box(box, box_ad(BoxKind::secrets, e.name), key, {plain.data(), plain.size()}))
        return damaged_record(e.name);
    return core::decode_secrets({plain.data(), plain.size()}, in);
}

std::int64_t epoch(Timestamp t)
{
    return t.time_since_epoch().count();
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
    auto v = open_parsed(storage, std::move(key), std::move(o->header), std::move(o->header_bytes), std::move(o->snap));
    if (!v && v.error().code == Errc::wrong_passphrase)
        return make_error(Errc::damaged, "vault payload is corrupted (authentication failed)");
    return v;
}

Result<Vault> Vault::open_with_key(Storage& storage, const Secret& key)
{
    auto o = read_header(storage);
    if (!o) return std::move(o).error();
    return open_parsed(storage, key.clone(), std::move(o->header), std::move(o->header_bytes), std::move(o->snap));
}

Result<Vault> Vault::open_parsed(Storage& storage, Secret key, Header header, std::vector<std::uint8_t> header_bytes,
                                 std::unique_ptr<Snapshot> snap)
{
    std::vector<std::uint8_t> sealed(static_cast<std::size_t>(header.payload_len));
    PITOOL_TRY(snap->read(header_bytes.size(), sealed));
    Vault v(storage, std::move(key), std::move(header));
    v.m_file_version = v.m_header.version;
    if (v.m_file_version == k_format_v1) {
        // Version 1: one JSON payload holding every token.
        auto plain = crypto::open(sealed, v.m_header.payload_nonce, header_bytes, v.m_key);
        // The first recipient that unwraps a key decides; a key that does not
        // open the payload is a wrong (agent) key, or a damaged file.
        if (!plain) return make_error(Errc::wrong_passphrase, "the key does not open this vault");
        auto payload = core::decode_payload(plain->view());
        if (!payload) return std::move(payload).error();
        v.m_payload = std::move(payload).value();
        v.m_history_loaded = true;
        v.m_header.version = k_format_version;
        return v;
    }
    // The index holds no secret: a plain buffer, not guarded memory.
    // It is decrypted in place (libsodium's stream XOR allows out == in), so
    // a large index costs one buffer, not two.
    const std::size_t sealed_len = sealed.size();
    std::vector<std::uint8_t> plain = std::move(sealed);
    if (!crypto::open_into(std::span<const std::uint8_t>(plain), v.m_header.payload_nonce, header_bytes, v.m_key,
                           std::span<std::uint8_t>(plain.data(), sealed_len - crypto::k_tag_bytes)))
        return make_error(Errc::wrong_passphrase, "the key does not open this vault");
    plain.resize(sealed_len - crypto::k_tag_bytes);
    // The head now; entries are scanned for one name, or decoded (and
    // checked) when a command needs them all.
    auto index = detail::decode_index(plain, /*entries=*/false);
    if (!index) return std::move(index).error();
    v.m_data_at = header_bytes.size() + sealed_len;
    if (snap->size() - v.m_data_at != index->data_len)
        return make_error(Errc::damaged, "vault is truncated or has trailing bytes (size does not match its index)");
    v.m_index = std::make_unique<Index>(std::move(index).value());
    v.m_index_plain = std::move(plain);
    v.m_payload.chain_tip = v.m_index->chain_tip;
    v.m_history_loaded = v.m_index->event_count == 0;
    v.m_snapshot = std::move(snap);
    return v;
}

const std::vector<IndexEntry>& Vault::entries() const
{
    if (!m_entries_built && m_index) {
        // Authenticated bytes that we wrote: malformed only through a bug.
        // Then no entry is trusted, and verify reports the vault empty.
        auto full = detail::decode_index(m_index_plain);
        if (full) m_index->entries = std::move(full->entries);
        m_entries_built = true;
    }
    static const std::vector<IndexEntry> k_none;
    return m_index ? m_index->entries : k_none;
}

std::optional<IndexEntry> Vault::lookup(std::string_view name) const
{
    if (!m_index) return std::nullopt;
    if (m_entries_built) {
        const IndexEntry* e = detail::find_entry(*m_index, name);
        return e ? std::optional<IndexEntry>(*e) : std::nullopt;
    }
    return detail::scan_entry(m_index_plain, name);
}

Status Vault::read_box(std::uint64_t off, std::uint32_t len, std::vector<std::uint8_t>& out) const
{
    out.resize(len);
    if (!m_image.empty()) {
        std::memcpy(out.data(), m_image.data() + m_data_at + off, len);
        return {};
    }
    return m_snapshot->read(m_data_at + off, out);
}

Status Vault::ensure_image()
{
    if (!m_image.empty() || !m_snapshot) return {};
    std::vector<std::uint8_t> image(static_cast<std::size_t>(m_snapshot->size()));
    PITOOL_TRY(m_snapshot->read(0, image));
    m_image = std::move(image);
    return {};
}

std::size_t Vault::size() const
{
    return names().size();
}

bool Vault::contains(std::string_view name) const
{
    if (m_staged_names.contains(name) || m_payload.find(name) != nullptr) return true;
    if (is_loaded(name)) return false; // loaded, then erased
    return lookup(name).has_value();
}

std::vector<std::string> Vault::names() const
{
    std::vector<std::string> out;
    if (m_index && !m_all_loaded)
        for (const auto& e : entries())
            if (!m_loaded.contains(e.name)) out.push_back(e.name);
    for (const auto& in : m_payload.integrations) out.push_back(in.name);
    out.insert(out.end(), m_staged_names.begin(), m_staged_names.end());
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

std::vector<std::string> Vault::windows_ended(Timestamp now) const
{
    std::vector<std::string> out;
    if (!m_index) return out;
    for (const auto& e : entries())
        if (e.window_end != 0 && e.window_end <= epoch(now)) out.push_back(e.name);
    return out;
}

Status Vault::load(std::string_view name_view, bool secrets)
{
    if (!m_index) return {};
    // The name may live inside a loaded record, which loading can move.
    const std::string name(name_view);
    const auto found = lookup(name);
    if (!found) return {};
    const IndexEntry* e = &*found;
    core::Integration* in = nullptr;
    std::vector<std::uint8_t> box;
    if (is_loaded(name)) {
        in = m_payload.find(name);
        if (in == nullptr || !in->sealed || !secrets) return {};
    } else {
        PITOOL_TRY(read_box(e->meta.off, e->meta.len, box));
        core::Integration fresh;
        PITOOL_TRY(decode_meta_into(box, *e, m_key, fresh));
        m_payload.integrations.push_back(std::move(fresh));
        m_loaded.emplace(name);
        in = &m_payload.integrations.back();
        if (!secrets) return {};
    }
    PITOOL_TRY(read_box(e->secrets.off, e->secrets.len, box));
    return decode_secrets_into(box, *e, m_key, *in);
}

Status Vault::load_all(bool secrets)
{
    if (!m_index) return {};
    PITOOL_TRY(ensure_image());
    if (m_all_loaded && !secrets) return {};
    m_payload.integrations.reserve(m_payload.integrations.size() + entries().size());
    std::vector<std::uint8_t> box;
    for (const auto& e : entries()) {
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
    m_all_loaded = true;
    m_loaded.clear();
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
    const auto found = m_index ? lookup(name) : std::nullopt;
    const IndexEntry* e = found ? &*found : nullptr;
    if (e == nullptr) {
        const auto* in = m_payload.find(name);
        if (in == nullptr) return make_error(Errc::not_found, "no integration named '" + std::string(name) + "'");
        // Not saved as version 2 yet (a v1 vault): copy it through the codec.
        auto copy = core::decode_meta(core::encode_meta(*in));
        if (!copy) return std::move(copy).error();
        if (secrets && !in->sealed) {
            auto bytes = core::encode_secrets(*in);
            PITOOL_TRY(core::decode_secrets(bytes, copy.value()));
        }
        return copy;
    }
    std::vector<std::uint8_t> box;
    PITOOL_TRY(read_box(e->meta.off, e->meta.len, box));
    core::Integration in;
    PITOOL_TRY(decode_meta_into(box, *e, m_key, in));
    if (secrets) {
        PITOOL_TRY(read_box(e->secrets.off, e->secrets.len, box));
        PITOOL_TRY(decode_secrets_into(box, *e, m_key, in));
    }
    return in;
}

Status Vault::stage(const core::Integration& in)
{
    if (in.sealed) return make_error(Errc::internal, "cannot stage a record without its secrets");
    if (contains(in.name)) return make_error(Errc::conflict, "an integration named '" + in.name + "' already exists");
    if (!m_staged) m_staged = std::make_unique<Index>();
    IndexEntry e;
    e.name = in.name;
    e.flags = static_cast<std::uint8_t>((in.rotation ? detail::entry_rotation : 0) |
                                        (in.oauth && in.oauth->refresh_token ? detail::entry_refresh : 0));
    e.window_end = in.rotation ? in.rotation->old_expires_at.time_since_epoch().count() : 0;
    e.meta = append_sealed(m_staged_data, core::encode_meta(in), box_ad(BoxKind::meta, in.name), m_key);
    e.secrets = append_sealed(m_staged_data, core::encode_secrets(in), box_ad(BoxKind::secrets, in.name), m_key);
    m_staged->entries.push_back(std::move(e));
    m_staged_names.insert(in.name);
    return {};
}

Status Vault::save()
{
    // Old boxes are copied from the generation the index describes.
    PITOOL_TRY(ensure_image());
    if (m_index && m_index->chunks.size() >= k_max_history_chunks) PITOOL_TRY(load_history());

    std::vector<std::uint8_t> data;
    data.reserve(m_image.size() + 4096);
    Index next;
    auto copy_box = [&](const BoxRef& old) { return append_copy(data, m_image.data() + m_data_at, old); };
    auto seal = [&](std::span<const std::uint8_t> plain, std::span<const std::uint8_t> ad) {
        return append_sealed(data, plain, ad, m_key);
    };

    // History: the stored chunks as they are plus one chunk of new events,
    // or everything as one chunk once it has been loaded whole.
    auto add_chunk = [&](std::span<const core::Event> events) {
        if (events.empty()) return;
        auto bytes = core::encode_events(events);
        next.chunks.push_back({seal(bytes, chunk_ad(next.chunks.size())), static_cast<std::uint32_t>(events.size())});
        next.event_count += events.size();
    };
    if (!m_history_loaded && m_index) {
        for (const auto& c : m_index->chunks) {
            next.chunks.push_back({copy_box(c.box), c.events});
            next.event_count += c.events;
        }
    }
    add_chunk(m_payload.history);
    next.chain_tip = m_payload.history.empty() ? m_payload.chain_tip : m_payload.history.back().hash;

    // Records: the loaded ones re-sealed, the others copied.
    std::map<std::string_view, const core::Integration*> loaded;
    for (const auto& in : m_payload.integrations)
        if (!loaded.emplace(in.name, &in).second)
            return make_error(Errc::conflict, "two integrations are named '" + in.name + "'");
    next.entries.reserve((m_index ? entries().size() : 0) + loaded.size());
    auto emit = [&](const core::Integration& in, const IndexEntry* old) -> Status {
        IndexEntry e;
        e.name = in.name;
        e.flags = static_cast<std::uint8_t>((in.rotation ? detail::entry_rotation : 0) |
                                            (in.oauth && in.oauth->refresh_token ? detail::entry_refresh : 0));
        e.window_end = in.rotation ? epoch(in.rotation->old_expires_at) : 0;
        auto meta = core::encode_meta(in);
        e.meta = seal(meta, box_ad(BoxKind::meta, in.name));
        if (in.sealed) {
            // Secrets never read: keep their box, which must still fit.
            if (old == nullptr || old->flags != e.flags)
                return make_error(Errc::internal, "integration '" + in.name + "' changed without its secrets loaded");
            e.secrets = copy_box(old->secrets);
        } else {
            auto secrets = core::encode_secrets(in);
            e.secrets = seal(secrets, box_ad(BoxKind::secrets, in.name));
        }
        next.entries.push_back(std::move(e));
        return {};
    };
    if (m_index) {
        for (const auto& old : entries()) {
            if (!is_loaded(old.name)) {
                IndexEntry e = old;
                e.meta = copy_box(old.meta);
                e.secrets = copy_box(old.secrets);
                next.entries.push_back(std::move(e));
            } else if (auto it = loaded.find(old.name); it != loaded.end()) {
                PITOOL_TRY(emit(*it->second, &old));
            }
        }
    }
    for (const auto& [name, in] : loaded)
        if (!m_index || detail::find_entry(*m_index, name) == nullptr) PITOOL_TRY(emit(*in, nullptr));
    if (m_staged) {
        for (const auto& st : m_staged->entries) {
            IndexEntry e = st;
            e.meta = append_copy(data, m_staged_data.data(), st.meta);
            e.secrets = append_copy(data, m_staged_data.data(), st.secrets);
            next.entries.push_back(std::move(e));
        }
    }
    std::sort(next.entries.begin(), next.entries.end(),
              [](const IndexEntry& a, const IndexEntry& b) { return a.name < b.name; });
    auto dup = std::adjacent_find(next.entries.begin(), next.entries.end(),
                                  [](const IndexEntry& a, const IndexEntry& b) { return a.name == b.name; });
    if (dup != next.entries.end()) return make_error(Errc::conflict, "two integrations are named '" + dup->name + "'");
    next.data_len = data.size();

    auto index = detail::encode_index(next);
    Header h = m_header;
    h.version = k_format_version;
    crypto::random_bytes(h.payload_nonce);
    h.payload_len = index.size() + crypto::k_tag_bytes;
    auto file = encode_header(h);
    auto sealed_index = crypto::seal(index, h.payload_nonce, file, m_key);
    std::size_t data_at = file.size() + sealed_index.size();
    file.reserve(data_at + data.size());
    file.insert(file.end(), sealed_index.begin(), sealed_index.end());
    file.insert(file.end(), data.begin(), data.end());
    PITOOL_TRY(m_storage->write(file));

    // The vault now describes what it wrote.
    m_header = std::move(h);
    m_file_version = k_format_version;
    const bool staged_any = m_staged != nullptr;
    m_index = std::make_unique<Index>(std::move(next));
    m_entries_built = true;
    m_index_plain.clear();
    m_image = std::move(file);
    m_data_at = data_at;
    m_snapshot.reset();
    // Staged records are stored but not in the payload: not "all loaded".
    m_all_loaded = m_all_loaded && !staged_any;
    m_loaded.clear();
    if (!m_all_loaded)
        for (const auto& in : m_payload.integrations) m_loaded.emplace(in.name);
    m_staged.reset();
    m_staged_names.clear();
    m_staged_data.clear();
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

Result<core::Payload> decrypt_image(std::span<const std::uint8_t> file, const Secret& passphrase)
{
    auto parsed = parse(file);
    if (!parsed) return std::move(parsed).error();
    auto key = unwrap_key(parsed->header, passphrase);
    if (!key) return std::move(key).error();
    MemoryStorage storage(std::vector<std::uint8_t>(file.begin(), file.end()));
    auto v = Vault::open_with_key(storage, key.value());
    if (!v && v.error().code == Errc::wrong_passphrase)
        return make_error(Errc::damaged, "vault payload is corrupted (authentication failed)");
    if (!v) return std::move(v).error();
    PITOOL_TRY(v->load_all(/*secrets=*/true));
    PITOOL_TRY(v->load_history());
    return std::move(v->payload());
}

} // namespace pitool::vault
