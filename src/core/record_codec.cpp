#include "pitool/core/record_codec.hpp"

#include <cstring>

#include "pitool/util/wire.hpp"

namespace pitool::core {
namespace {

constexpr std::size_t k_max_text = 1 << 20; // any one metadata string
constexpr std::size_t k_max_list = 1 << 16; // scopes, extras, events per chunk
constexpr std::size_t k_max_secret = 1 << 16;

enum Flag : std::uint8_t { has_rotation = 1, has_oauth = 2, has_check = 4, has_refresh = 8, has_access_exp = 16 };
enum Slot : std::uint8_t { slot_token = 1, slot_old = 2, slot_refresh = 3 };

std::int64_t epoch(Timestamp t)
{
    return t.time_since_epoch().count();
}
Timestamp from_epoch(std::int64_t v)
{
    return Timestamp{Seconds{v}};
}

Error damaged(const char* what)
{
    return make_error(Errc::damaged, std::string("vault record: ") + what);
}

template <typename E> bool read_enum(WireReader& r, E& out, std::uint8_t max)
{
    std::uint8_t v = 0;
    if (!r.u8(v)) return false;
    if (v > max) {
        r.fail();
        return false;
    }
    out = static_cast<E>(v);
    return true;
}

bool read_time(WireReader& r, Timestamp& t)
{
    std::int64_t v = 0;
    if (!r.i64(v)) return false;
    t = from_epoch(v);
    return true;
}

} // namespace

std::vector<std::uint8_t> encode_meta(const Integration& in)
{
    std::vector<std::uint8_t> out;
    out.reserve(256);
    WireWriter w(out);
    std::uint8_t flags = (in.rotation ? has_rotation : 0) | (in.oauth ? has_oauth : 0) |
                         (in.last_check ? has_check : 0) | (in.oauth && in.oauth->refresh_token ? has_refresh : 0) |
                         (in.oauth && in.oauth->access_expires_at ? has_access_exp : 0);
    w.u8(k_record_version);
    w.u8(flags);
    w.str(in.name);
    w.u8(static_cast<std::uint8_t>(in.provider));
    w.u8(static_cast<std::uint8_t>(in.kind));
    w.u8(static_cast<std::uint8_t>(in.level));
    w.str(in.description);
    w.str(in.account_id);
    w.varint(in.scopes.size());
    for (const auto& s : in.scopes) w.str(s);
    w.str(in.base_url);
    w.str(in.client_id);
    w.i64(epoch(in.created_at));
    w.i64(epoch(in.token.issued_at));
    w.str(in.token.fingerprint);
    if (in.rotation) {
        w.i64(epoch(in.rotation->started_at));
        w.i64(epoch(in.rotation->old_expires_at));
        w.i64(epoch(in.rotation->old.issued_at));
        w.str(in.rotation->old.fingerprint);
    }
    if (in.oauth) {
        w.i64(in.oauth->access_expires_at ? epoch(*in.oauth->access_expires_at) : 0);
        w.str(in.oauth->user_type);
        w.str(in.oauth->user_id);
        w.str(in.oauth->app);
    }
    if (in.last_check) {
        w.i64(epoch(in.last_check->at));
        w.i64(in.last_check->status);
        w.u8(in.last_check->ok ? 1 : 0);
        w.str(in.last_check->summary);
    }
    w.varint(in.extra.size());
    for (const auto& [k, v] : in.extra) {
        w.str(k);
        w.str(v);
    }
    return out;
}

Status decode_meta_into(std::span<const std::uint8_t> bytes, Integration& in)
{
    // Every field is assigned, so `in` may hold another record: its strings'
    // buffers are reused, and nothing of that record survives (its secrets
    // least of all).
    WireReader r(bytes);
    in.sealed = true;
    in.token.value = Secret();
    std::uint8_t version = 0, flags = 0;
    r.u8(version);
    r.u8(flags);
    if (!r.ok() || version != k_record_version) return damaged("unknown metadata version");
    if ((flags & ~0x1f) != 0) return damaged("unknown metadata flags");
    r.str(in.name, k_max_text);
    read_enum(r, in.provider, static_cast<std::uint8_t>(Provider::hint));
    read_enum(r, in.kind, static_cast<std::uint8_t>(Kind::practice_key));
    read_enum(r, in.level, static_cast<std::uint8_t>(Level::location));
    r.str(in.description, k_max_text);
    r.str(in.account_id, k_max_text);
    std::uint64_t n = 0;
    if (r.varint(n) && n > k_max_list) r.fail();
    in.scopes.resize(r.ok() ? static_cast<std::size_t>(n) : 0);
    for (auto& scope : in.scopes) r.str(scope, k_max_text);
    r.str(in.base_url, k_max_text);
    r.str(in.client_id, k_max_text);
    read_time(r, in.created_at);
    read_time(r, in.token.issued_at);
    r.str(in.token.fingerprint, k_max_text);
    if ((flags & has_rotation) != 0) {
        auto& w = in.rotation ? *in.rotation : in.rotation.emplace();
        w.old.value = Secret();
        read_time(r, w.started_at);
        read_time(r, w.old_expires_at);
        read_time(r, w.old.issued_at);
        r.str(w.old.fingerprint, k_max_text);
    } else {
        in.rotation.reset();
    }
    if ((flags & has_oauth) != 0) {
        auto& s = in.oauth ? *in.oauth : in.oauth.emplace();
        s.refresh_token.reset();
        Timestamp exp{};
        read_time(r, exp);
        s.access_expires_at.reset();
        if ((flags & has_access_exp) != 0) s.access_expires_at = exp;
        r.str(s.user_type, k_max_text);
        r.str(s.user_id, k_max_text);
        r.str(s.app, k_max_text);
    } else if ((flags & (has_refresh | has_access_exp)) != 0) {
        return damaged("OAuth fields without an OAuth session");
    } else {
        in.oauth.reset();
    }
    if ((flags & has_check) != 0) {
        auto& c = in.last_check ? *in.last_check : in.last_check.emplace();
        std::int64_t status = 0;
        std::uint8_t ok = 0;
        read_time(r, c.at);
        r.i64(status);
        r.u8(ok);
        r.str(c.summary, k_max_text);
        if (status < 0 || status > 999 || ok > 1) r.fail();
        c.status = static_cast<int>(status);
        c.ok = ok == 1;
    } else {
        in.last_check.reset();
    }
    if (r.varint(n) && n > k_max_list) r.fail();
    in.extra.resize(r.ok() ? static_cast<std::size_t>(n) : 0);
    for (auto& [k, v] : in.extra) {
        r.str(k, k_max_text);
        r.str(v, k_max_text);
    }
    if (!r.at_end()) return damaged("malformed metadata");
    // The refresh-token flag is kept until the secrets are read.
    if ((flags & has_refresh) != 0) in.oauth->refresh_token.emplace();
    return {};
}

Result<Integration> decode_meta(std::span<const std::uint8_t> bytes)
{
    Integration in;
    PITOOL_TRY(decode_meta_into(bytes, in));
    return in;
}

SecureBytes encode_secrets(const Integration& in)
{
    SecureBytes out;
    out.reserve(16 + in.token.value.size() * 3);
    WireWriter w(out);
    w.u8(k_record_version);
    w.u8(slot_token);
    w.str(in.token.value.view());
    if (in.rotation) {
        w.u8(slot_old);
        w.str(in.rotation->old.value.view());
    }
    if (in.oauth && in.oauth->refresh_token) {
        w.u8(slot_refresh);
        w.str(in.oauth->refresh_token->view());
    }
    return out;
}

Status decode_secrets(std::span<const std::uint8_t> bytes, Integration& in)
{
    WireReader r(bytes);
    std::uint8_t version = 0;
    if (!r.u8(version) || version != k_record_version) return damaged("unknown secrets version");
    bool token = false, old = false, refresh = false;
    while (r.ok() && !r.at_end()) {
        std::uint8_t slot = 0;
        std::span<const std::uint8_t> value;
        if (!r.u8(slot) || !r.bytes(value, k_max_secret)) break;
        std::string_view text(reinterpret_cast<const char*>(value.data()), value.size());
        if (slot == slot_token && !token) {
            in.token.value = Secret::from(text);
            token = true;
        } else if (slot == slot_old && !old && in.rotation) {
            in.rotation->old.value = Secret::from(text);
            old = true;
        } else if (slot == slot_refresh && !refresh && in.oauth && in.oauth->refresh_token) {
            in.oauth->refresh_token = Secret::from(text);
            refresh = true;
        } else {
            r.fail();
        }
    }
    bool want_refresh = in.oauth && in.oauth->refresh_token;
    if (!r.at_end() || !token || old != in.rotation.has_value() || refresh != want_refresh)
        return damaged("secrets do not match the metadata");
    in.sealed = false;
    return {};
}

Status decode_secrets(Secret plain, Integration& in)
{
    // The usual record holds only the token: take it over in the plaintext's
    // own guarded buffer (moved to the front, the rest wiped) rather than
    // copy it into a second one. Anything else goes the general way.
    if (!in.rotation && !(in.oauth && in.oauth->refresh_token)) {
        WireReader r(std::span<const std::uint8_t>(plain.data(), plain.size()));
        std::uint8_t version = 0, slot = 0;
        std::span<const std::uint8_t> value;
        if (r.u8(version) && version == k_record_version && r.u8(slot) && slot == slot_token &&
            r.bytes(value, k_max_secret) && r.at_end()) {
            const std::size_t n = value.size();
            std::memmove(plain.data(), value.data(), n);
            plain.truncate(n);
            in.token.value = std::move(plain);
            in.sealed = false;
            return {};
        }
    }
    return decode_secrets(std::span<const std::uint8_t>(plain.data(), plain.size()), in);
}

std::vector<std::uint8_t> encode_events(std::span<const Event> events)
{
    std::vector<std::uint8_t> out;
    WireWriter w(out);
    w.u8(k_record_version);
    w.varint(events.size());
    for (const auto& e : events) {
        w.i64(epoch(e.at));
        w.str(e.action);
        w.str(e.name);
        w.str(e.fingerprint);
        w.str(e.actor);
        w.str(e.detail);
        w.str(e.hash);
    }
    return out;
}

Result<std::vector<Event>> decode_events(std::span<const std::uint8_t> bytes)
{
    WireReader r(bytes);
    std::uint8_t version = 0;
    std::uint64_t n = 0;
    if (!r.u8(version) || version != k_record_version) return damaged("unknown history version");
    if (r.varint(n) && n > bytes.size()) r.fail(); // each event takes well over one byte
    std::vector<Event> out;
    if (r.ok()) out.reserve(static_cast<std::size_t>(n));
    for (std::uint64_t i = 0; i < n && r.ok(); ++i) {
        auto& e = out.emplace_back();
        read_time(r, e.at);
        r.str(e.action, k_max_text);
        r.str(e.name, k_max_text);
        r.str(e.fingerprint, k_max_text);
        r.str(e.actor, k_max_text);
        r.str(e.detail, k_max_text);
        r.str(e.hash, k_max_text);
    }
    if (!r.at_end()) return damaged("malformed history");
    return out;
}

} // namespace pitool::core
