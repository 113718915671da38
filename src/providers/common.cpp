#include "pitool/providers/common.hpp"

#include "providers/detail.hpp"

#include "pitool/core/model.hpp"

#include <algorithm>
#include <charconv>
#include <cctype>

namespace pitool::providers {

std::string_view to_string(Failure f) noexcept
{
    switch (f) {
    case Failure::none:
        return "none";
    case Failure::invalid_token:
        return "invalid token";
    case Failure::missing_scope:
        return "missing scope";
    case Failure::wrong_account:
        return "wrong location or account";
    case Failure::invalid_grant:
        return "invalid grant";
    case Failure::inactive:
        return "location not active";
    case Failure::bad_request:
        return "bad request";
    case Failure::rate_limited:
        return "rate limited";
    case Failure::provider_error:
        return "provider error";
    case Failure::malformed:
        return "malformed answer";
    }
    return "?";
}

Errc errc_for(Failure f) noexcept
{
    switch (f) {
    case Failure::none:
        return Errc::internal;
    case Failure::invalid_token:
    case Failure::missing_scope:
    case Failure::wrong_account:
    case Failure::invalid_grant:
    case Failure::inactive:
        return Errc::rejected;
    case Failure::bad_request:
        return Errc::usage;
    case Failure::rate_limited:
    case Failure::provider_error:
    case Failure::malformed:
        return Errc::unavailable;
    }
    return Errc::internal;
}

namespace {

std::optional<long> header_number(const http::Response& r, std::string_view name)
{
    auto v = r.header(name);
    if (!v) return std::nullopt;
    long n = 0;
    auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec != std::errc{}) return std::nullopt;
    return n;
}

} // namespace

RateLimit rate_limit_of(const http::Response& r)
{
    RateLimit rl;
    rl.max = header_number(r, "X-RateLimit-Max");
    rl.remaining = header_number(r, "X-RateLimit-Remaining");
    rl.interval_ms = header_number(r, "X-RateLimit-Interval-Milliseconds");
    rl.daily_limit = header_number(r, "X-RateLimit-Limit-Daily");
    rl.daily_remaining = header_number(r, "X-RateLimit-Daily-Remaining");
    return rl;
}

std::string RateLimit::describe() const
{
    std::string s;
    if (remaining && max) {
        s = "rate limit " + std::to_string(*remaining) + "/" + std::to_string(*max);
        if (interval_ms) s += " per " + std::to_string(*interval_ms) + " ms";
    }
    if (daily_remaining && daily_limit)
        s += (s.empty() ? "" : ", ") + std::string("daily ") + std::to_string(*daily_remaining) + "/" +
             std::to_string(*daily_limit);
    return s;
}

namespace detail {

bool contains_ci(std::string_view hay, std::string_view needle)
{
    auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
    });
    return it != hay.end();
}

Failure classify_status(long status) noexcept
{
    if (status == 401) return Failure::invalid_token;
    if (status == 403) return Failure::wrong_account;
    if (status == 429) return Failure::rate_limited;
    if (status >= 500) return Failure::provider_error;
    if (status >= 400) return Failure::bad_request;
    return Failure::none;
}

std::string string_or_empty(const SecureJson& j, const char* key)
{
    if (!j.is_object()) return {};
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return {};
    const auto& s = it->get_ref<const SecureString&>();
    return std::string(s.begin(), s.end());
}

SecureJson parse_body(const Secret& body)
{
    auto v = body.view();
    return SecureJson::parse(v.begin(), v.end(), nullptr, /*allow_exceptions=*/false);
}

SecureJson parse_text(std::string_view text)
{
    return SecureJson::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
}

Secret secret_field(const SecureJson& j, const char* key)
{
    if (!j.is_object()) return {};
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return {};
    const auto& s = it->get_ref<const SecureString&>();
    return Secret::from(std::string_view(s.data(), s.size()));
}

void append_form(SecureString& body, std::string_view key, std::string_view value)
{
    static constexpr char hex[] = "0123456789ABCDEF";
    auto put = [&body](std::string_view s) {
        for (char c : s) {
            auto u = static_cast<unsigned char>(c);
            if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
                body.push_back(c);
            } else {
                body.push_back('%');
                body.push_back(hex[u >> 4]);
                body.push_back(hex[u & 0xF]);
            }
        }
    };
    if (!body.empty()) body.push_back('&');
    put(key);
    body.push_back('=');
    put(value);
}

bool plausible_token(const Secret& token)
{
    return core::validate_token(token).ok();
}

bool plausible_id(std::string_view id)
{
    if (id.size() > 128) return false;
    return std::all_of(id.begin(), id.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    });
}

bool plausible_text(std::string_view text)
{
    return core::validate_text("text", text, 1024).ok();
}

bool string_or_absent(const SecureJson& j, const char* key)
{
    auto it = j.find(key);
    return it == j.end() || it->is_null() || it->is_string();
}

Secret to_secret(SecureString& s)
{
    Secret out = Secret::from(std::string_view(s.data(), s.size()));
    secure_clear(s);
    return out;
}

} // namespace detail
} // namespace pitool::providers
