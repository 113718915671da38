// Written from docs/vault-format.md only (see vault_reader.hpp): every
// constant below is quoted from that document, not from src/.
#include "oracle/vault_reader.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace pitool::oracle {
namespace {

using nlohmann::json;

/// Thrown inside the reader; read_vault turns it into nullopt + why.
struct Refused : std::runtime_error {
    using std::runtime_error::runtime_error;
};

[[noreturn]] void refuse(const std::string& why)
{
    throw Refused(why);
}

constexpr std::size_t k_recipient = 112;
constexpr std::size_t k_nonce = 24;
constexpr std::size_t k_tag = 16;
constexpr std::uint64_t k_gib = 1ULL << 30;

const unsigned char* uc(const std::string& s, std::size_t at = 0)
{
    return reinterpret_cast<const unsigned char*>(s.data() + at);
}

/// Little-endian fields, LEB128 varints, strings as a LEB128 length then bytes.
class Cursor {
public:
    explicit Cursor(std::string_view in, std::string what) : m_in(in), m_what(std::move(what)) {}

    std::uint64_t le(int n)
    {
        need(static_cast<std::size_t>(n));
        std::uint64_t v = 0;
        for (int i = 0; i < n; ++i)
            v |= static_cast<std::uint64_t>(static_cast<unsigned char>(m_in[m_pos + static_cast<std::size_t>(i)]))
                 << (8 * i);
        m_pos += static_cast<std::size_t>(n);
        return v;
    }
    std::uint8_t u8() { return static_cast<std::uint8_t>(le(1)); }
    std::uint32_t u32() { return static_cast<std::uint32_t>(le(4)); }
    std::uint64_t u64() { return le(8); }
    std::int64_t i64() { return static_cast<std::int64_t>(le(8)); }
    std::uint64_t varint()
    {
        std::uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            const std::uint8_t b = u8();
            v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
            if ((b & 0x80) == 0) return v;
        }
        refuse(m_what + ": varint too long");
    }
    std::string raw(std::size_t n)
    {
        need(n);
        std::string s(m_in.substr(m_pos, n));
        m_pos += n;
        return s;
    }
    std::string str()
    {
        const std::uint64_t n = varint();
        if (n > m_in.size() - m_pos) refuse(m_what + ": string past the end");
        return raw(static_cast<std::size_t>(n));
    }
    /// A count of items each taking at least one byte.
    std::uint64_t count()
    {
        const std::uint64_t n = varint();
        if (n > m_in.size() - m_pos) refuse(m_what + ": count larger than its input");
        return n;
    }
    [[nodiscard]] bool at_end() const { return m_pos == m_in.size(); }
    void end() const
    {
        if (!at_end()) refuse(m_what + ": trailing bytes");
    }

private:
    void need(std::size_t n) const
    {
        if (n > m_in.size() - m_pos) refuse(m_what + ": truncated");
    }
    std::string_view m_in;
    std::size_t m_pos = 0;
    std::string m_what;
};

/// "offset (u64), length (u32), and the box's 16-byte tag".
struct BoxRef {
    std::uint64_t off = 0;
    std::uint32_t len = 0;
    std::string tag;
};

BoxRef box_ref(Cursor& c)
{
    BoxRef b;
    b.off = c.u64();
    b.len = c.u32();
    b.tag = c.raw(k_tag);
    return b;
}

struct Entry {
    std::string name;
    BoxRef meta, secrets;
    std::int64_t window_end = 0;
    std::uint8_t flags = 0; ///< 1 old token present, 2 refresh token present
};

/// "varint count, then per integration, sorted by name, unique: name
/// (string), metadata box ref, secrets box ref, rotation window end (i64
/// Unix s, 0 = none), flags (u8: 1 old token present, 2 refresh token present)".
std::vector<Entry> entries(Cursor& c)
{
    std::vector<Entry> out;
    const std::uint64_t n = c.count();
    for (std::uint64_t i = 0; i < n; ++i) {
        Entry e;
        e.name = c.str();
        e.meta = box_ref(c);
        e.secrets = box_ref(c);
        e.window_end = c.i64();
        e.flags = c.u8();
        if ((e.flags & ~3) != 0) refuse("index entry '" + e.name + "': unknown flags");
        if (!out.empty() && !(out.back().name < e.name)) refuse("index entries not sorted by name, unique");
        out.push_back(std::move(e));
    }
    return out;
}

struct Chunk {
    BoxRef box;
    std::uint32_t events = 0;
};

/// The head shared by the v2 index and the v3 top index: version, data
/// length D, event count, chain tip, history chunks.
struct Head {
    std::uint64_t data_len = 0;
    std::uint64_t event_count = 0;
    std::string chain_tip;
    std::vector<Chunk> chunks;
};

Head head(Cursor& c, std::uint8_t version)
{
    if (c.u8() != version) refuse("index version is not " + std::to_string(version));
    Head h;
    h.data_len = c.u64();
    h.event_count = c.u64();
    h.chain_tip = c.str();
    const std::uint64_t n = c.count();
    std::uint64_t sum = 0;
    for (std::uint64_t i = 0; i < n; ++i) {
        Chunk ch;
        ch.box = box_ref(c);
        ch.events = c.u32();
        sum += ch.events;
        h.chunks.push_back(std::move(ch));
    }
    if (sum != h.event_count) refuse("event count is not the sum over the chunks");
    return h;
}

/// Where the boxes are: the v2 data region or the v3 data file.
struct Boxes {
    std::string_view region; ///< offsets count from its start
    std::uint64_t limit = 0; ///< a box must end within this many bytes
    const std::array<unsigned char, 32>* key = nullptr;
    std::vector<OpenedBox>* opened = nullptr; ///< where every box opened is noted

    /// A box is nonce (24) ‖ ciphertext ‖ tag (16), under the data key, with
    /// associated data "pitool/v2/box\0" ‖ role ‖ name. The index pins the tag.
    [[nodiscard]] std::string open(const BoxRef& b, std::uint8_t role, const std::string& name,
                                   const std::string& what) const
    {
        if (b.len < k_nonce + k_tag || b.off > limit || b.len > limit - b.off) refuse(what + ": box outside the data");
        const std::string box(region.substr(static_cast<std::size_t>(b.off), b.len));
        if (box.compare(box.size() - k_tag, k_tag, b.tag) != 0) refuse(what + ": tag differs from the index's");
        std::string ad("pitool/v2/box\0", 14);
        ad.push_back(static_cast<char>(role));
        ad += name;
        std::string plain(box.size() - k_nonce - k_tag, '\0');
        unsigned long long plen = 0;
        if (crypto_aead_xchacha20poly1305_ietf_decrypt(reinterpret_cast<unsigned char*>(plain.data()), &plen, nullptr,
                                                       uc(box, k_nonce), box.size() - k_nonce, uc(ad), ad.size(),
                                                       uc(box), key->data()) != 0)
            refuse(what + ": box does not authenticate");
        plain.resize(static_cast<std::size_t>(plen));
        if (opened != nullptr) opened->push_back({b.off, b.len, ad});
        return plain;
    }
};

constexpr std::uint8_t k_role_meta = 1, k_role_secrets = 2, k_role_history = 3, k_role_part = 4;

// Metadata flags: 1 rotation, 2 OAuth, 4 last check, 8 refresh token, 16 access expiry.
constexpr std::uint8_t k_rotation = 1, k_oauth = 2, k_check = 4, k_refresh = 8, k_access_expiry = 16;

std::string enum_name(std::uint8_t v, std::initializer_list<const char*> names, const char* what)
{
    if (v >= names.size()) refuse(std::string("metadata: unknown ") + what + " " + std::to_string(v));
    return *(names.begin() + v);
}

/// One integration, metadata and secrets, in the v1 payload shape.
json record(const Entry& e, const Boxes& boxes)
{
    const std::string what = "record '" + e.name + "'";
    const std::string m = boxes.open(e.meta, k_role_meta, e.name, what + " metadata");
    Cursor c(m, what + " metadata");
    if (c.u8() != 1) refuse(what + ": metadata version");
    const std::uint8_t flags = c.u8();
    if ((flags & ~0x1f) != 0) refuse(what + ": unknown metadata flags");
    json in;
    in["name"] = c.str();
    if (in["name"] != e.name) refuse(what + ": metadata names another record");
    in["provider"] = enum_name(c.u8(), {"leadconnector", "hint"}, "provider");
    in["kind"] = enum_name(c.u8(), {"pit", "oauth-app", "oauth", "partner-key", "practice-key"}, "kind");
    in["level"] = enum_name(c.u8(), {"", "agency", "location"}, "level");
    in["description"] = c.str();
    in["account_id"] = c.str();
    json scopes = json::array();
    for (std::uint64_t n = c.count(); n > 0; --n) scopes.push_back(c.str());
    in["scopes"] = scopes;
    in["base_url"] = c.str();
    in["client_id"] = c.str();
    in["created_at"] = c.i64();
    in["token"]["issued_at"] = c.i64();
    in["token"]["fingerprint"] = c.str();
    if ((flags & k_rotation) != 0) {
        auto& r = in["rotation"];
        r["started_at"] = c.i64();
        r["old_expires_at"] = c.i64();
        r["old"]["issued_at"] = c.i64();
        r["old"]["fingerprint"] = c.str();
    }
    if ((flags & k_oauth) != 0) {
        auto& o = in["oauth"];
        const std::int64_t expires = c.i64();
        if ((flags & k_access_expiry) != 0) o["access_expires_at"] = expires;
        o["user_type"] = c.str();
        o["user_id"] = c.str();
        o["app"] = c.str();
    } else if ((flags & (k_refresh | k_access_expiry)) != 0) {
        refuse(what + ": OAuth flags without OAuth");
    }
    if ((flags & k_check) != 0) {
        auto& l = in["last_check"];
        l["at"] = c.i64();
        l["status"] = c.i64();
        const std::uint8_t ok = c.u8();
        if (ok > 1) refuse(what + ": last check ok is not 0 or 1");
        l["ok"] = ok == 1;
        l["summary"] = c.str();
    }
    json extra = json::object();
    for (std::uint64_t n = c.count(); n > 0; --n) {
        std::string k = c.str();
        extra[k] = c.str();
    }
    if (!extra.empty()) in["extra"] = extra;
    c.end();

    // The index says which secret slots exist and when the window ends.
    const bool rotation = (flags & k_rotation) != 0, refresh = (flags & k_refresh) != 0;
    if (((e.flags & 1) != 0) != rotation || ((e.flags & 2) != 0) != refresh)
        refuse(what + ": index flags disagree with the metadata");
    if (e.window_end != (rotation ? in["rotation"]["old_expires_at"].get<std::int64_t>() : 0))
        refuse(what + ": index window end disagrees with the metadata");

    // Secrets: u8 version 1, then slots u8 slot ‖ string: 1 current token,
    // 2 old token (exactly when the metadata has a rotation), 3 refresh token
    // (exactly when flagged).
    const std::string s = boxes.open(e.secrets, k_role_secrets, e.name, what + " secrets");
    Cursor sc(s, what + " secrets");
    if (sc.u8() != 1) refuse(what + ": secrets version");
    std::map<int, std::string> slots;
    while (!sc.at_end()) {
        const int slot = sc.u8();
        if (slot < 1 || slot > 3 || slots.contains(slot)) refuse(what + ": unknown or repeated secret slot");
        slots[slot] = sc.str();
    }
    if (!slots.contains(1) || slots.contains(2) != rotation || slots.contains(3) != refresh)
        refuse(what + ": secret slots disagree with the metadata");
    in["token"]["secret"] = slots[1];
    if (rotation) in["rotation"]["old"]["secret"] = slots[2];
    if (refresh) in["oauth"]["refresh_token"] = slots[3];
    return in;
}

/// History chunks: box role 3, named by the chunk's position (0, 1, ...) in
/// decimal; u8 version 1, varint count, then per event at (i64), action,
/// name, fingerprint, actor, detail, hash (strings).
json history(const Head& h, const Boxes& boxes)
{
    json events = json::array();
    for (std::size_t i = 0; i < h.chunks.size(); ++i) {
        const std::string what = "history chunk " + std::to_string(i);
        const std::string p = boxes.open(h.chunks[i].box, k_role_history, std::to_string(i), what);
        Cursor c(p, what);
        if (c.u8() != 1) refuse(what + ": version");
        const std::uint64_t n = c.count();
        if (n != h.chunks[i].events) refuse(what + ": event count differs from the index's");
        for (std::uint64_t k = 0; k < n; ++k) {
            json ev;
            ev["at"] = c.i64();
            for (const char* f : {"action", "name", "fingerprint", "actor", "detail", "hash"}) ev[f] = c.str();
            events.push_back(std::move(ev));
        }
        c.end();
    }
    const std::string tip = events.empty() ? std::string() : events.back()["hash"].get<std::string>();
    if (tip != h.chain_tip) refuse("chain tip is not the last event's hash");
    return events;
}

std::string read_whole(const std::filesystem::path& p, bool* found)
{
    std::ifstream in(p, std::ios::binary);
    *found = static_cast<bool>(in);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::mutex g_cache_mu;
std::map<std::string, std::array<unsigned char, 32>> g_kek_cache;

/// Argon2id of the passphrase with the recipient's salt and limits.
std::array<unsigned char, 32> kek_for(const std::string& pass, const std::string& salt, std::uint64_t ops,
                                      std::uint64_t mem)
{
    std::string key = pass;
    key.push_back('\0');
    key += salt + std::to_string(ops) + "/" + std::to_string(mem);
    std::lock_guard lock(g_cache_mu);
    if (auto it = g_kek_cache.find(key); it != g_kek_cache.end()) return it->second;
    std::array<unsigned char, 32> kek{};
    if (crypto_pwhash(kek.data(), kek.size(), pass.data(), pass.size(), uc(salt), ops, static_cast<std::size_t>(mem),
                      crypto_pwhash_ALG_ARGON2ID13) != 0)
        refuse("Argon2id failed (out of memory?)");
    g_kek_cache[key] = kek;
    return kek;
}

Contents read(const std::string& b, const std::string& pass, const std::filesystem::path& vault_path)
{
    // 1-3: magic, version, flags, recipient count, reserved, size.
    if (b.size() < 16 || b.compare(0, 8, "PITVAULT") != 0) refuse("not a pitool vault");
    Cursor h(b, "header");
    h.raw(8);
    const auto version = static_cast<int>(h.le(2));
    if (version < 1 || version > 4) refuse("format version " + std::to_string(version) + " is not supported");
    if (h.le(2) != 0) refuse("header flags are not 0");
    const std::size_t n = h.u8();
    if (n < 1 || n > 16) refuse("recipient count out of range");
    if (h.le(3) != 0) refuse("reserved header bytes are not zero");
    const std::size_t id_at = 16 + k_recipient * n;
    // v3: the data file id (8); v4: that, the vault id (16) and the generation (8).
    const std::size_t nonce_at = id_at + (version == 3 ? 8 : version == 4 ? 8 + 16 + 8 : 0);
    const std::size_t hsize = nonce_at + 24 + 8 + 16;
    if (b.size() < hsize) refuse("truncated header");
    // 4: BLAKE2b-128 of every header byte before the checksum.
    unsigned char sum[16];
    crypto_generichash(sum, sizeof sum, uc(b), hsize - 16, nullptr, 0);
    if (sodium_memcmp(sum, uc(b, hsize - 16), 16) != 0) refuse("vault header is corrupted");
    Contents out;
    out.version = version;
    Cursor tail(std::string_view(b).substr(id_at), "header");
    if (version >= 3) {
        out.data_id = tail.u64();
        if (out.data_id == 0) refuse("data file id is 0");
    }
    if (version == 4) {
        const std::string id = tail.raw(16);
        if (id == std::string(16, '\0')) refuse("vault id is all zero");
        static constexpr char k_hex[] = "0123456789abcdef";
        for (unsigned char c : id) {
            out.vault_id.push_back(k_hex[c >> 4]);
            out.vault_id.push_back(k_hex[c & 15]);
        }
        out.generation = tail.u64();
        if (out.generation == 0) refuse("generation is 0");
    }
    const std::string index_nonce = tail.raw(24);
    const std::uint64_t len = tail.u64();
    // 6: lengths.
    if (len > k_gib) refuse("index longer than 1 GiB");
    if (len < k_tag) refuse("index shorter than its tag");
    const std::uint64_t left = b.size() - hsize;
    if (version != 2 && len != left) refuse(len < left ? "trailing bytes" : "truncated");
    if (version == 2 && len > left) refuse("truncated");

    // 5: recipients, checked before any key derivation.
    std::uint64_t work = 0;
    for (std::size_t i = 0; i < n; ++i) {
        Cursor r(std::string_view(b).substr(16 + k_recipient * i, k_recipient), "recipient");
        if (r.u8() != 1) refuse("unknown recipient type");
        if (r.u8() != crypto_pwhash_ALG_ARGON2ID13) refuse("unknown KDF");
        if (r.le(6) != 0) refuse("reserved recipient bytes are not zero");
        const std::uint64_t ops = r.u64(), mem = r.u64();
        if (ops > 16 || mem > k_gib || ops < crypto_pwhash_OPSLIMIT_MIN || mem < crypto_pwhash_MEMLIMIT_MIN)
            refuse("KDF limits out of range");
        work += ops * (mem / 1024);
    }
    if (work > 16 * (k_gib / 1024)) refuse("KDF work over all recipients above the cap");

    // 7: unwrap the data key. AD: magic ‖ u16 1 ‖ the recipient's first 64 bytes.
    std::array<unsigned char, 32> data_key{};
    bool opened = false;
    for (std::size_t i = 0; i < n && !opened; ++i) {
        const std::size_t r = 16 + k_recipient * i;
        Cursor lim(std::string_view(b).substr(r + 8, 16), "recipient");
        const std::uint64_t ops = lim.u64(), mem = lim.u64();
        const auto kek = kek_for(pass, b.substr(r + 24, 16), ops, mem);
        const std::string ad = b.substr(0, 8) + std::string("\x01\x00", 2) + b.substr(r, 64);
        unsigned long long dlen = 0;
        opened = crypto_aead_xchacha20poly1305_ietf_decrypt(data_key.data(), &dlen, nullptr, uc(b, r + 64), 48, uc(ad),
                                                            ad.size(), uc(b, r + 40), kek.data()) == 0 &&
                 dlen == 32;
    }
    if (!opened) refuse("wrong passphrase");
    out.data_key.assign(reinterpret_cast<const char*>(data_key.data()), data_key.size());

    // 8: the index (v1: the payload), AD the whole header.
    std::string plain(static_cast<std::size_t>(len - k_tag), '\0');
    unsigned long long plen = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(reinterpret_cast<unsigned char*>(plain.data()), &plen, nullptr,
                                                   uc(b, hsize), len, uc(b), hsize, uc(index_nonce),
                                                   data_key.data()) != 0)
        refuse("payload is corrupted");
    plain.resize(static_cast<std::size_t>(plen));

    if (version == 1) {
        json p = json::parse(plain, nullptr, false);
        sodium_memzero(data_key.data(), data_key.size());
        if (p.is_discarded() || !p.is_object() || p.value("schema", 0) != 1 || !p.contains("integrations"))
            refuse("version 1 payload is not schema 1 JSON");
        std::vector<json> ints(p["integrations"].begin(), p["integrations"].end());
        std::stable_sort(ints.begin(), ints.end(), [](const json& x, const json& y) {
            return x.at("name").get<std::string>() < y.at("name").get<std::string>();
        });
        p["integrations"] = ints;
        if (!p.contains("history")) p["history"] = json::array();
        out.payload = std::move(p);
        return out;
    }

    Boxes boxes;
    boxes.key = &data_key;
    boxes.opened = &out.boxes;
    std::vector<Entry> all;
    Head top;
    std::string data_file;
    if (version == 2) {
        Cursor c(plain, "index");
        top = head(c, 1);
        all = entries(c);
        c.end();
        boxes.region = std::string_view(b).substr(hsize + static_cast<std::size_t>(len));
        if (top.data_len != boxes.region.size()) refuse("data region length differs from the index's");
        boxes.limit = top.data_len;
    } else {
        // 9: the data file: magic PITDATA\0, version u16 1, zero u16 and u32, its id.
        char hex[17];
        std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(out.data_id));
        bool found = false;
        data_file = read_whole(vault_path.string() + ".data-" + hex, &found);
        if (!found) refuse(std::string("vault data file vault.data-") + hex + " is missing");
        Cursor d(data_file, "data file header");
        if (d.raw(8) != std::string("PITDATA\0", 8) || d.le(2) != 1 || d.le(2) != 0 || d.le(4) != 0 ||
            d.u64() != out.data_id)
            refuse("data file header");
        Cursor c(plain, "top index");
        top = head(c, 2);
        if (data_file.size() < top.data_len) refuse("data file shorter than the index says");
        boxes.region = data_file;
        boxes.limit = top.data_len;
        // Parts: sorted by first name, unique, none empty; each: first name,
        // box ref, entry count (u32), summed box length (u64), earliest
        // window end (i64, 0 = none).
        struct PartRef {
            std::string first;
            BoxRef box;
            std::uint32_t count;
            std::uint64_t bytes;
            std::int64_t window_end;
        };
        std::vector<PartRef> parts;
        for (std::uint64_t k = c.count(); k > 0; --k) {
            PartRef p;
            p.first = c.str();
            p.box = box_ref(c);
            p.count = c.u32();
            p.bytes = c.u64();
            p.window_end = c.i64();
            if (p.count == 0) refuse("empty part");
            if (!parts.empty() && !(parts.back().first < p.first)) refuse("parts not sorted by first name");
            parts.push_back(std::move(p));
        }
        c.end();
        for (std::size_t k = 0; k < parts.size(); ++k) {
            const auto& p = parts[k];
            const std::string what = "part " + std::to_string(k);
            const std::string pp = boxes.open(p.box, k_role_part, "", what);
            Cursor pc(pp, what);
            if (pc.u8() != 1) refuse(what + ": version");
            auto es = entries(pc);
            pc.end();
            std::uint64_t bytes = 0;
            std::int64_t window = 0;
            for (const auto& e : es) {
                bytes += e.meta.len + e.secrets.len;
                if (e.window_end != 0 && (window == 0 || e.window_end < window)) window = e.window_end;
            }
            if (es.size() != p.count || es.front().name != p.first || bytes != p.bytes || window != p.window_end)
                refuse(what + ": differs from the top index");
            if (k + 1 < parts.size() && !(es.back().name < parts[k + 1].first))
                refuse(what + ": runs into the next part");
            for (auto& e : es) all.push_back(std::move(e));
        }
    }
    json ints = json::array();
    for (const auto& e : all) ints.push_back(record(e, boxes));
    out.payload = {{"schema", 1}, {"integrations", ints}, {"history", history(top, boxes)}};
    out.data = std::string(boxes.region);
    sodium_memzero(data_key.data(), data_key.size());
    return out;
}

} // namespace

std::optional<Contents> read_vault(const std::string& bytes, const std::string& passphrase,
                                   const std::filesystem::path& vault_path, std::string* why)
{
    if (sodium_init() < 0) {
        if (why != nullptr) *why = "sodium_init failed";
        return std::nullopt;
    }
    try {
        return read(bytes, passphrase, vault_path);
    } catch (const Refused& e) {
        if (why != nullptr) *why = e.what();
        return std::nullopt;
    }
}

std::optional<Contents> read_vault_file(const std::filesystem::path& vault_path, const std::string& passphrase,
                                        std::string* why)
{
    bool found = false;
    const std::string bytes = read_whole(vault_path, &found);
    if (!found) {
        if (why != nullptr) *why = "cannot read " + vault_path.string();
        return std::nullopt;
    }
    return read_vault(bytes, passphrase, vault_path, why);
}

} // namespace pitool::oracle
