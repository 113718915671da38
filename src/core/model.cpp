#include "pitool/core/model.hpp"

#include "pitool/util/sanitize.hpp"

#include <sodium.h>

#include <array>
#include <cstdint>

namespace pitool::core {

std::string_view to_string(Provider p) noexcept
{
    switch (p) {
    case Provider::leadconnector:
        return "leadconnector";
    case Provider::hint:
        return "hint";
    }
    return "?";
}

std::string_view to_string(Kind k) noexcept
{
    switch (k) {
    case Kind::pit:
        return "pit";
    case Kind::oauth_app:
        return "oauth-app";
    case Kind::oauth:
        return "oauth";
    case Kind::partner_key:
        return "partner-key";
    case Kind::practice_key:
        return "practice-key";
    }
    return "?";
}

std::string_view to_string(Level l) noexcept
{
    switch (l) {
    case Level::none:
        return "";
    case Level::agency:
        return "agency";
    case Level::location:
        return "location";
    }
    return "?";
}

Result<Provider> parse_provider(std::string_view s)
{
    if (s == "leadconnector") return Provider::leadconnector;
    if (s == "hint") return Provider::hint;
    return make_error(Errc::usage, "unknown provider (expected leadconnector or hint)");
}

Result<Kind> parse_kind(std::string_view s)
{
    for (Kind k : {Kind::pit, Kind::oauth_app, Kind::oauth, Kind::partner_key, Kind::practice_key})
        if (s == to_string(k)) return k;
    return make_error(Errc::usage, "unknown kind (expected pit, oauth-app, oauth, partner-key or practice-key)");
}

Result<Level> parse_level(std::string_view s)
{
    if (s.empty()) return Level::none;
    if (s == "agency") return Level::agency;
    if (s == "location") return Level::location;
    return make_error(Errc::usage, "unknown level (expected agency or location)");
}

bool kind_allowed(Provider provider, Kind kind) noexcept
{
    switch (kind) {
    case Kind::pit:
    case Kind::oauth_app:
    case Kind::oauth:
        return provider == Provider::leadconnector;
    case Kind::partner_key:
    case Kind::practice_key:
        return provider == Provider::hint;
    }
    return false;
}

std::string_view default_base_url(Provider p) noexcept
{
    return p == Provider::hint ? "https://api.hint.com" : "https://services.leadconnectorhq.com";
}

Status validate_name(std::string_view name)
{
    auto lead = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    bool ok = !name.empty() && name.size() <= 64 && lead(name.front());
    for (char c : name) ok = ok && (lead(c) || c == '.' || c == '_' || c == '-');
    if (!ok) return make_error(Errc::usage, "invalid name: use 1-64 of a-z 0-9 . _ - starting with a letter or digit");
    return {};
}

Status validate_text(std::string_view what, std::string_view text, std::size_t max)
{
    if (text.size() > max)
        return make_error(Errc::usage, std::string(what) + " is too long (at most " + std::to_string(max) + " bytes)");
    // Strict UTF-8 (the JSON encoder of the payload refuses anything else) and
    // no C0/C1 control characters (C1 CSI can drive a terminal like ESC [) or
    // bidirectional controls (they reorder what a terminal shows).
    std::size_t i = 0;
    while (i < text.size()) {
        char32_t cp = 0;
        std::size_t len = util::utf8_sequence(text, i, cp);
        if (len == 0) return make_error(Errc::usage, std::string(what) + " is not valid UTF-8");
        if (util::is_terminal_control(cp))
            return make_error(Errc::usage, std::string(what) + " contains a control character");
        i += len;
    }
    return {};
}

Status validate_token(const Secret& token)
{
    if (token.size() < 8) return make_error(Errc::usage, "token is too short (at least 8 characters)");
    if (token.size() > 16384) return make_error(Errc::usage, "token is too long (at most 16384 bytes)");
    for (char c : token.view())
        if (c <= 0x20 || c >= 0x7F)
            return make_error(Errc::usage, "token contains whitespace, control or non-ASCII characters");
    return {};
}

Integration* Payload::find(std::string_view name) noexcept
{
    for (auto& i : integrations)
        if (i.name == name) return &i;
    return nullptr;
}

const Integration* Payload::find(std::string_view name) const noexcept
{
    for (const auto& i : integrations)
        if (i.name == name) return &i;
    return nullptr;
}

namespace {

void absorb(crypto_generichash_state& st, std::string_view field)
{
    // Length-prefixed so that field boundaries are unambiguous.
    std::array<unsigned char, 8> len{};
    auto n = static_cast<std::uint64_t>(field.size());
    for (int i = 0; i < 8; ++i) len[static_cast<std::size_t>(i)] = static_cast<unsigned char>(n >> (8 * i));
    crypto_generichash_update(&st, len.data(), len.size());
    crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(field.data()), field.size());
}

} // namespace

std::string event_chain_hash(const std::string& prev, const Event& e)
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, nullptr, 0, 32);
    absorb(st, prev);
    absorb(st, std::to_string(e.at.time_since_epoch().count()));
    absorb(st, e.action);
    absorb(st, e.name);
    absorb(st, e.fingerprint);
    absorb(st, e.actor);
    absorb(st, e.detail);
    std::array<unsigned char, 32> out{};
    crypto_generichash_final(&st, out.data(), out.size());
    std::array<char, 65> hex{};
    sodium_bin2hex(hex.data(), hex.size(), out.data(), out.size());
    return std::string(hex.data(), 64);
}

void Payload::record(Event e)
{
    e.hash = event_chain_hash(history.empty() ? chain_tip : history.back().hash, e);
    history.push_back(std::move(e));
}

} // namespace pitool::core

namespace pitool::core {

long Payload::first_broken_event() const
{
    std::string prev;
    for (std::size_t i = 0; i < history.size(); ++i) {
        if (event_chain_hash(prev, history[i]) != history[i].hash) return static_cast<long>(i);
        prev = history[i].hash;
    }
    return -1;
}

} // namespace pitool::core
