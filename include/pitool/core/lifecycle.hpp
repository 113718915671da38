#pragma once
/// Token life cycle: rotation windows (mirroring the provider's UI) and the
/// age policy behind `audit`.

#include "pitool/core/model.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pitool::core {

/// "Rotate and expire later" keeps the old token valid for exactly this long.
inline constexpr Seconds k_rotation_window{7 * 24 * 3600};

/// The fingerprint of a token: its last 4 characters and the first 8 hex
/// digits of its BLAKE2b hash, e.g. "e9f0:1a2b3c4d". Not secret.
[[nodiscard]] std::string fingerprint(const Secret& token);
/// Makes a Token (computing its fingerprint) issued at `now`.
[[nodiscard]] Token make_token(Secret value, Timestamp now);

/// True while a rotation window is open: now < old_expires_at.
[[nodiscard]] bool window_open(const Integration& in, Timestamp now) noexcept;

/// Rotate and expire later: `fresh` becomes current, the old token stays
/// valid until now + 7 days. Errc::conflict if a window is open or `fresh`
/// equals the current token.
[[nodiscard]] Status rotate_later(Integration& in, Token fresh, Timestamp now);
/// Rotate and expire now: the old token is dropped at once. Same conflicts.
[[nodiscard]] Status rotate_now(Integration& in, Token fresh, Timestamp now);
/// Cancel rotation: the old token is current again (no expiry), the new one
/// is discarded. Errc::conflict if no window is open.
[[nodiscard]] Status cancel_rotation(Integration& in, Timestamp now);
/// Expire now: the old token is dropped. Errc::conflict if no window is open.
[[nodiscard]] Status expire_old(Integration& in, Timestamp now);

/// Drops every window whose old token has expired by `now` and records an
/// "expired" event for each; returns the names concerned.
std::vector<std::string> purge_expired(Payload& payload, Timestamp now, const std::string& actor);

struct Policy {
    int max_age_days = 90; ///< a token this old is due for rotation
    int warn_days = 14;    ///< warn this many days before it is due
};

enum class Verdict { ok, warn, due, rotating, expired };
[[nodiscard]] std::string_view to_string(Verdict v) noexcept;

struct Finding {
    std::string name;
    Verdict verdict = Verdict::ok;
    long long age_days = 0;
    std::string reason;
    /// When the token is (or was) due: issued_at + max_age for tokens, the
    /// refresh token's year for OAuth sets; empty when it cannot age out
    /// (an OAuth set without a refresh token).
    std::optional<Timestamp> due_at;
};

/// The reason of a Verdict::rotating finding, given the old token's expiry
/// as text: assess() writes it in UTC; output for people writes local time.
[[nodiscard]] std::string rotating_reason(std::string_view old_expires_at);

/// Judges one integration at `now`.
[[nodiscard]] Finding assess(const Integration& in, Timestamp now, const Policy& policy);

/// Validates policy numbers: max_age 1..3650, warn 0..max_age. Errc::usage.
[[nodiscard]] Status validate_policy(const Policy& policy);

} // namespace pitool::core
