#include "pitool/core/lifecycle.hpp"

#include <sodium.h>

#include <array>

namespace pitool::core {

std::string fingerprint(const Secret& token)
{
    std::array<unsigned char, 16> h{};
    crypto_generichash(h.data(), h.size(), token.data(), token.size(), nullptr, 0);
    std::array<char, 33> hex{};
    sodium_bin2hex(hex.data(), hex.size(), h.data(), h.size());
    std::string_view v = token.view();
    std::string last4(v.size() >= 4 ? v.substr(v.size() - 4) : std::string_view{});
    return last4 + ":" + std::string(hex.data(), 8);
}

Token make_token(Secret value, Timestamp now)
{
    Token t;
    t.fingerprint = fingerprint(value);
    t.value = std::move(value);
    t.issued_at = now;
    return t;
}

bool window_open(const Integration& in, Timestamp now) noexcept
{
    return in.rotation.has_value() && now < in.rotation->old_expires_at;
}

namespace {

Status check_can_rotate(const Integration& in, const Token& fresh, Timestamp now)
{
    if (window_open(in, now))
        return make_error(Errc::conflict, "a rotation window is already open for '" + in.name +
                                              "' (run cancel-rotation or expire-old first)");
    if (fresh.value.equals(in.token.value))
        return make_error(Errc::conflict, "the new token is the same as the current token of '" + in.name + "'");
    return {};
}

Status check_window(const Integration& in, Timestamp now)
{
    if (!window_open(in, now)) return make_error(Errc::conflict, "no rotation window is open for '" + in.name + "'");
    return {};
}

} // namespace

Status rotate_later(Integration& in, Token fresh, Timestamp now)
{
    PITOOL_TRY(check_can_rotate(in, fresh, now));
    RotationWindow w;
    w.old = std::move(in.token);
    w.started_at = now;
    w.old_expires_at = now + k_rotation_window;
    in.rotation = std::move(w);
    in.token = std::move(fresh);
    in.last_check.reset();
    return {};
}

Status rotate_now(Integration& in, Token fresh, Timestamp now)
{
    PITOOL_TRY(check_can_rotate(in, fresh, now));
    in.rotation.reset(); // an expired, unpurged window goes too
    in.token = std::move(fresh);
    in.last_check.reset();
    return {};
}

Status cancel_rotation(Integration& in, Timestamp now)
{
    PITOOL_TRY(check_window(in, now));
    in.token = std::move(in.rotation->old);
    in.rotation.reset();
    in.last_check.reset();
    return {};
}

Status expire_old(Integration& in, Timestamp now)
{
    PITOOL_TRY(check_window(in, now));
    in.rotation.reset();
    return {};
}

std::vector<std::string> purge_expired(Payload& payload, Timestamp now, const std::string& actor)
{
    std::vector<std::string> purged;
    for (auto& in : payload.integrations) {
        if (!in.rotation || window_open(in, now)) continue;
        Event e;
        e.at = in.rotation->old_expires_at;
        e.action = "old-token-expired";
        e.name = in.name;
        e.fingerprint = in.rotation->old.fingerprint;
        e.actor = actor;
        e.detail = "rotation window ended; old token purged";
        in.rotation.reset();
        payload.record(std::move(e));
        purged.push_back(in.name);
    }
    return purged;
}

std::string_view to_string(Verdict v) noexcept
{
    switch (v) {
    case Verdict::ok:
        return "ok";
    case Verdict::warn:
        return "warn";
    case Verdict::due:
        return "due";
    case Verdict::rotating:
        return "rotating";
    case Verdict::expired:
        return "expired";
    }
    return "?";
}

Status validate_policy(const Policy& p)
{
    if (p.max_age_days < 1 || p.max_age_days > 3650)
        return make_error(Errc::usage, "--max-age must be between 1 and 3650 days");
    if (p.warn_days < 0 || p.warn_days > p.max_age_days)
        return make_error(Errc::usage, "--warn-days must be between 0 and --max-age");
    return {};
}

std::string rotating_reason(std::string_view old_expires_at)
{
    return "rotation window open; old token expires " + std::string(old_expires_at);
}

Finding assess(const Integration& in, Timestamp now, const Policy& policy)
{
    Finding f;
    f.name = in.name;
    f.age_days = whole_days(in.token.issued_at, now);
    auto days = [](long long n) { return std::to_string(n) + (n == 1 ? " day" : " days"); };

    if (in.kind == Kind::oauth) {
        // Access tokens live a day and are refreshed; what ages is the
        // refresh token, valid one year from the last refresh.
        constexpr long long refresh_life = 365;
        bool has_refresh = in.oauth && in.oauth->refresh_token.has_value();
        bool access_expired = in.oauth && in.oauth->access_expires_at && *in.oauth->access_expires_at <= now;
        if (has_refresh) f.due_at = in.token.issued_at + Seconds(refresh_life * 86400);
        if (!has_refresh && access_expired) {
            f.verdict = Verdict::expired;
            f.reason = "access token expired and no refresh token is stored";
        } else if (has_refresh && f.age_days >= refresh_life) {
            f.verdict = Verdict::expired;
            f.reason = "refresh token unused for " + days(f.age_days) + " (valid one year)";
        } else if (has_refresh && f.age_days >= refresh_life - policy.warn_days) {
            f.verdict = Verdict::warn;
            f.reason = "refresh token expires in " + days(refresh_life - f.age_days) + "; refresh soon";
        } else {
            f.verdict = Verdict::ok;
            f.reason = access_expired ? "access token expired; the next use refreshes it"
                                      : "access token valid; refreshed " + days(f.age_days) + " ago";
        }
        return f;
    }

    f.due_at = in.token.issued_at + Seconds(static_cast<long long>(policy.max_age_days) * 86400);
    if (window_open(in, now)) {
        f.verdict = Verdict::rotating;
        f.reason = rotating_reason(format_rfc3339(in.rotation->old_expires_at));
        return f;
    }
    if (f.age_days >= policy.max_age_days) {
        f.verdict = Verdict::due;
        f.reason = "token is " + days(f.age_days) + " old; rotate every " + days(policy.max_age_days);
    } else if (f.age_days >= policy.max_age_days - policy.warn_days) {
        f.verdict = Verdict::warn;
        f.reason = "token is " + days(f.age_days) + " old; due in " + days(policy.max_age_days - f.age_days);
    } else {
        f.verdict = Verdict::ok;
        f.reason = "token is " + days(f.age_days) + " old; due in " + days(policy.max_age_days - f.age_days);
    }
    if (in.last_check && !in.last_check->ok && f.verdict != Verdict::due)
        f.reason += "; last test call failed (" + in.last_check->summary + ")";
    return f;
}

} // namespace pitool::core
