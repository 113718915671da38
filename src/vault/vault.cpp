#include "pitool/vault/vault.hpp"

#include "pitool/core/record_codec.hpp"
#include "vault/boxes.hpp"
#include "vault/index.hpp"
#include "vault/legacy_reader.hpp"
#include "vault/writer.hpp"

#include <algorithm>
#include <array>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <new>
#include <thread>

namespace pitool::vault {

using namespace detail;

namespace {

/// Chunks of history kept before save() merges them into one.
constexpr std::size_t k_max_history_chunks = 64;

Result<Recipient> wrap_key(const Secret& data_key, const Secret& passphrase, const crypto::KdfParams& params)
{
    Recipient r;
    r.params = params;
    crypto::random_bytes(r.salt);
    crypto::random_bytes(r.wrap_nonce);
    PITOOL_TRY_ASSIGN(auto kek, crypto::derive_key(passphrase, r.salt, params));
    auto ad = recipient_ad(r);
    auto sealed = crypto::seal({data_key.data(), data_key.size()}, r.wrap_nonce, ad, kek);
    std::copy(sealed.begin(), sealed.end(), r.wrapped_key.begin());
    return r;
}

Result<Secret> unwrap_key(const Header& h, const Secret& passphrase)
{
    for (const auto& r : h.recipients) {
        PITOOL_TRY_ASSIGN(auto kek, crypto::derive_key(passphrase, r.salt, r.params));
        auto ad = recipient_ad(r);
        if (auto key = crypto::open(r.wrapped_key, r.wrap_nonce, ad, kek); key && key->size() == crypto::k_key_bytes)
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
    PITOOL_TRY_ASSIGN(auto r, wrap_key(key, passphrase, params));
    Header h;
    h.recipients.push_back(r);
    Vault v(storage, std::move(key), std::move(h));
    v.m_payload = std::move(initial);
    v.m_history_loaded = true;
    PITOOL_TRY(v.save());
    return v;
}

/// A head read and its header parsed.
struct Vault::Opened {
    Header header;
    std::vector<std::uint8_t> header_bytes;
    std::unique_ptr<Snapshot> snap;
    HeadVersion version;
};

Result<Vault::Opened> Vault::read_header(Storage& storage)
{
    PITOOL_TRY_ASSIGN(auto head, storage.read_head());
    return parse_head(std::move(head));
}

Result<Vault::Opened> Vault::parse_head(Head head)
{
    auto& s = *head.bytes;
    std::vector<std::uint8_t> prefix(std::min<std::uint64_t>(k_prefix_bytes, s.size()));
    PITOOL_TRY(s.read(0, prefix));
    PITOOL_TRY_ASSIGN(auto hsize, header_size_of(prefix));
    if (s.size() < hsize) return make_error(Errc::damaged, "vault is truncated (incomplete header)");
    std::vector<std::uint8_t> bytes(hsize);
    PITOOL_TRY(s.read(0, bytes));
    PITOOL_TRY_ASSIGN(auto h, parse_header(bytes, s.size()));
    return Opened{std::move(h), std::move(bytes), std::move(head.bytes), std::move(head.version)};
}

std::optional<Index> Vault::backup_index() const
{
    if (m_file_version < k_format_v3 || !m_index) return std::nullopt;
    auto head = m_storage->read_backup();
    if (!head) return std::nullopt;
    auto o = parse_head(std::move(head).value());
    if (!o || o->header.version < k_format_v3 || o->header.data_id != m_header.data_id) return std::nullopt;
    auto plain = open_index(*o->snap, o->header, o->header_bytes, m_key);
    if (!plain) return std::nullopt;
    auto top = decode_top(plain.value());
    if (!top) return std::nullopt;
    return std::move(top).value();
}

Result<Vault> Vault::open(Storage& storage, const Secret& passphrase, const Vault* known)
{
    PITOOL_TRY_ASSIGN(auto o, read_header(storage));
    Secret key;
    if (known != nullptr && same_recipients(known->m_header, o.header)) {
        key = known->m_key.clone();
    } else {
        PITOOL_TRY_ASSIGN(key, unwrap_key(o.header, passphrase));
    }
    auto v = open_parsed(storage, key, std::move(o));
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
    PITOOL_TRY_ASSIGN(auto o, read_header(storage));
    auto v = open_parsed(storage, key, std::move(o));
    if (!v && v.error().code == Errc::not_found) return reopen(storage, key);
    return v;
}

Result<Vault> Vault::reopen(Storage& storage, Secret& key)
{
    // The data file the header named is gone: a compaction replaced the vault
    // after we read it and removed the data file two generations back. Read
    // the vault again, once; still missing means damaged.
    PITOOL_TRY_ASSIGN(auto o, read_header(storage));
    auto v = open_parsed(storage, key, std::move(o));
    if (!v && v.error().code == Errc::not_found) return make_error(Errc::damaged, v.error().message);
    return v;
}

Result<Vault> Vault::open_parsed(Storage& storage, Secret& key, Opened o)
{
    // The key moves into the vault only once it opened: a caller may retry.
    Vault v(storage, Secret(), std::move(o.header));
    v.m_file_version = v.m_header.version;
    v.m_head_version = std::move(o.version);
    if (v.m_file_version >= k_format_v3) {
        // Version 3 is version 4 without the vault's id and generation.
        PITOOL_TRY(v.open_current(o, key));
    } else {
        PITOOL_TRY_ASSIGN(auto old, read_legacy(v.m_header, o.header_bytes, std::move(o.snap), key));
        v.m_payload = std::move(old.payload);
        v.m_index = std::move(old.index);
        v.m_data = std::move(old.boxes);
    }
    if (v.m_index) {
        v.m_part_cache.resize(v.m_index->parts.size());
        v.m_payload.chain_tip = v.m_index->chain_tip;
    }
    v.m_history_loaded = v.m_index == nullptr || v.m_index->event_count == 0;
    v.m_key = std::move(key);
    return v;
}

Status Vault::open_current(Opened& o, const Secret& key)
{
    PITOOL_TRY_ASSIGN(auto plain, open_index(*o.snap, m_header, o.header_bytes, key));
    PITOOL_TRY_ASSIGN(auto index, decode_top(plain));
    PITOOL_TRY_ASSIGN(auto log, m_storage->boxes(m_header.data_id, BoxMode::read));
    std::vector<std::uint8_t> head(k_data_header_bytes);
    if (log->size() < std::max<std::uint64_t>(index.data_len, k_data_header_bytes))
        return make_error(Errc::damaged, "vault data file is truncated (shorter than its index says)");
    PITOOL_TRY(log->read(0, head));
    if (head != data_header(m_header.data_id))
        return make_error(Errc::damaged, "vault data file does not belong to this vault");
    m_index = std::make_unique<Index>(std::move(index));
    m_data = std::move(log);
    return {};
}

std::size_t Vault::part_count() const noexcept
{
    return m_index == nullptr ? 0 : m_index->parts.size();
}

std::size_t Vault::part_of(std::string_view name) const noexcept
{
    return m_index == nullptr ? 0 : route(m_index->parts, name);
}

Result<std::vector<IndexEntry>> Vault::decode_part_at(std::size_t i) const
{
    const auto& parts = m_index->parts;
    const auto& p = parts[i];
    std::vector<std::uint8_t> box;
    PITOOL_TRY(read_box(p.box.off, p.box.len, box));
    auto plain = open_plain(box, p.box.tag, box_ad(BoxKind::index, ""), m_key);
    if (!plain) return make_error(Errc::damaged, "vault index is corrupted (authentication failed)");
    PITOOL_TRY_ASSIGN(auto entries, decode_part(plain.value(), m_index->data_len));
    std::uint64_t bytes = 0;
    std::int64_t window = 0;
    summarise(entries, bytes, window);
    if (entries.size() != p.count || entries.front().name != p.first || bytes != p.bytes || window != p.window_end ||
        (i + 1 < parts.size() && !(entries.back().name < parts[i + 1].first)))
        return make_error(Errc::damaged, "vault index part does not match the index");
    return entries;
}

Result<const std::vector<IndexEntry>*> Vault::part(std::size_t i) const
{
    if (!m_part_cache[i]) {
        PITOOL_TRY_ASSIGN(m_part_cache[i], decode_part_at(i));
    }
    return &*m_part_cache[i];
}

Result<std::optional<IndexEntry>> Vault::lookup(std::string_view name) const
{
    if (part_count() == 0) return std::optional<IndexEntry>();
    PITOOL_TRY_ASSIGN(const auto* p, part(part_of(name)));
    const IndexEntry* e = find_entry(*p, name);
    return e ? std::optional<IndexEntry>(*e) : std::nullopt;
}

Status Vault::read_box(std::uint64_t off, std::uint32_t len, std::vector<std::uint8_t>& out) const
{
    out.resize(len);
    return m_data->read(off, out);
}

Result<bool> Vault::contains(std::string_view name) const
{
    if (m_staged_names.contains(name) || m_payload.find(name) != nullptr) return true;
    if (is_loaded(name)) return false; // loaded, then erased
    PITOOL_TRY_ASSIGN(auto e, lookup(name));
    return e.has_value();
}

Result<std::vector<std::string>> Vault::names() const
{
    std::vector<std::string> out;
    if (m_index && !m_all_loaded) {
        for (std::size_t i = 0; i < part_count(); ++i) {
            PITOOL_TRY_ASSIGN(auto p, part(i));
            for (const auto& e : *p)
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
        // A part says when its earliest window ends.
        const auto end = m_index->parts[i].window_end;
        if (end == 0 || end > epoch(now)) continue;
        PITOOL_TRY_ASSIGN(auto p, part(i));
        for (const auto& e : *p)
            if (e.window_end != 0 && e.window_end <= epoch(now)) out.push_back(e.name);
    }
    return out;
}

Status Vault::load(std::string_view name_view, bool secrets)
{
    if (!m_index) return {};
    // The name may live inside a loaded record, which loading can move.
    const std::string name(name_view);
    PITOOL_TRY_ASSIGN(auto found, lookup(name));
    if (!found.has_value()) return {};
    const IndexEntry& e = *found;
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
        PITOOL_TRY_ASSIGN(auto p, part(i));
        for (const auto& e : *p) {
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
    PITOOL_TRY_ASSIGN(auto entries, decode_part_at(i));
    f.entries = std::move(entries);
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
        PITOOL_TRY(m_data->read(lo, f.span));
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
            PITOOL_TRY_ASSIGN(auto copy, read_record(in->name, secrets));
            PITOOL_TRY(visit(copy));
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
    return for_each_fetched(secrets, visit_part);
}

Status Vault::for_each_fetched(bool secrets, const std::function<Status(const Fetched&)>& visit_part) const
{
    const std::size_t n = part_count();
    if (n <= 2) {
        for (std::size_t i = 0; i < n; ++i) {
            PITOOL_TRY_ASSIGN(auto f, fetch_part(i, secrets));
            PITOOL_TRY(visit_part(f));
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
        PITOOL_TRY_ASSIGN(auto events, core::decode_events(plain.value()));
        if (events.size() != c.events) return make_error(Errc::damaged, "vault history does not match the index");
        std::move(events.begin(), events.end(), std::back_inserter(all));
    }
    std::move(m_payload.history.begin(), m_payload.history.end(), std::back_inserter(all));
    m_payload.history = std::move(all);
    m_payload.chain_tip.clear();
    m_history_loaded = true;
    return {};
}

Result<core::Integration> Vault::read_record(std::string_view name, bool secrets) const
{
    PITOOL_TRY_ASSIGN(auto found, lookup(name));
    if (!found.has_value()) {
        const auto* in = m_payload.find(name);
        if (in == nullptr) return make_error(Errc::not_found, "no integration named '" + std::string(name) + "'");
        // Not saved as version 3 yet (a v1 vault): copy it through the codec.
        PITOOL_TRY_ASSIGN(auto copy, core::decode_meta(core::encode_meta(*in)));
        if (secrets && !in->sealed) {
            auto bytes = core::encode_secrets(*in);
            PITOOL_TRY(core::decode_secrets(bytes, copy));
        }
        return copy;
    }
    const IndexEntry& e = *found;
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
    PITOOL_TRY_ASSIGN(auto exists, contains(in.name));
    if (exists) return make_error(Errc::conflict, "an integration named '" + in.name + "' already exists");
    IndexEntry e = entry_of(in);
    e.meta = append_sealed(m_staged_data, core::encode_meta(in), box_ad(BoxKind::meta, in.name), m_key);
    e.secrets = append_sealed(m_staged_data, core::encode_secrets(in), box_ad(BoxKind::secrets, in.name), m_key);
    m_staged.push_back(std::move(e));
    m_staged_names.insert(in.name);
    return {};
}

Status Vault::save()
{
    if (m_index && m_index->chunks.size() >= k_max_history_chunks) PITOOL_TRY(load_history());
    return Writer::appends(*this) ? Writer::append(*this) : Writer::compact(*this);
}

void Vault::adopt(Header header, HeadVersion version, std::unique_ptr<Index> index, std::unique_ptr<BoxLog> data)
{
    m_header = std::move(header);
    m_head_version = std::move(version);
    m_file_version = k_format_version;
    m_index = std::move(index);
    m_part_cache.assign(m_index->parts.size(), std::nullopt);
    m_data = std::move(data);
    // Staged records are stored but not in the payload: not "all loaded".
    m_all_loaded = m_all_loaded && m_staged.empty();
    m_loaded.clear();
    if (!m_all_loaded)
        for (const auto& in : m_payload.integrations) m_loaded.emplace(in.name);
    m_staged.clear();
    m_staged_names.clear();
    m_staged_data.clear();
    m_history_loaded = m_history_loaded || m_index->event_count == 0;
}

Status Vault::change_passphrase(const Secret& passphrase, const crypto::KdfParams& params)
{
    PITOOL_TRY(crypto::check_params(params));
    // A new data key, not the old one re-wrapped: whoever kept the old key
    // (an old copy of the file and its passphrase, an agent, a process that
    // fetched it) opens nothing written from now on.
    Secret key = crypto::random_key();
    PITOOL_TRY_ASSIGN(auto r, wrap_key(key, passphrase, params));
    if (m_index && m_index->chunks.size() >= k_max_history_chunks) PITOOL_TRY(load_history());
    Header saved = m_header;
    m_header.recipients.assign(1, r);
    auto st = Writer::rekey(*this, std::move(key));
    if (!st) m_header = std::move(saved);
    return st;
}

Result<core::Payload> decrypt_storage(Storage& storage, const Secret& passphrase)
{
    PITOOL_TRY_ASSIGN(auto v, Vault::open(storage, passphrase));
    PITOOL_TRY(v.load_all(/*secrets=*/true));
    PITOOL_TRY(v.load_history());
    return std::move(v.payload());
}

Result<core::Payload> decrypt_image(std::span<const std::uint8_t> file, const Secret& passphrase,
                                    std::span<const std::uint8_t> data)
{
    PITOOL_TRY_ASSIGN(auto parsed, parse(file));
    MemoryStorage storage(std::vector<std::uint8_t>(file.begin(), file.end()));
    if (parsed.header.version >= 3)
        storage.data_files()[parsed.header.data_id] =
            std::make_shared<std::vector<std::uint8_t>>(data.begin(), data.end());
    return decrypt_storage(storage, passphrase);
}

} // namespace pitool::vault
