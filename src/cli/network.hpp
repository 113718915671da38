#pragma once
// What the network commands share: the HTTP client built from the context,
// and the OAuth refresh that must never spend a refresh token twice.

#include "cli/session.hpp"
#include "pitool/http/client.hpp"

#include <memory>

namespace pitool::cli {

/// An access token this close to expiry is refreshed before use.
inline constexpr Seconds k_refresh_margin{5 * 60};

/// The HTTP client for this command: extra CA from --cacert or
/// PITOOL_CA_BUNDLE, total timeout from PITOOL_HTTP_TIMEOUT (seconds).
[[nodiscard]] Result<std::unique_ptr<http::Client>> make_client(Context& ctx);

/// Whether `in` is an OAuth token set whose access token expires within the margin.
[[nodiscard]] bool needs_refresh(const core::Integration& in, Timestamp now);

struct RefreshResult {
    bool refreshed = false; ///< false: another process had already refreshed it
    std::string fingerprint;
    Timestamp expires_at{};
};

/// Refreshes the OAuth integration `name` under the vault lock: re-reads it
/// under the lock (if `force` is false and another process refreshed it
/// meanwhile, nothing is sent), spends the refresh token once, and saves the
/// new pair before returning. Errors leave the vault as it was.
[[nodiscard]] Result<RefreshResult> refresh_oauth(Session& s, http::Client& client, const std::string& name,
                                                  bool force);

/// For get/exec: refreshes `name` if it still needs it under the lock and
/// returns the integration as stored afterwards (owned by the session).
[[nodiscard]] Result<const core::Integration*> refresh_expiring(Session& s, const std::string& name);

/// The token `get` and `exec` hand out.
struct TokenChoice {
    const core::Integration* integration = nullptr; ///< owned by the session
    const core::Token* token = nullptr;             ///< secret inside
};
/// The current token of `name` (an OAuth access token about to expire is
/// refreshed first), or with `old` the previous one while its window is
/// open (Errc::conflict otherwise). Before anything is refreshed or handed
/// out, the overdue check (check_due, with `fail_if_due`) runs on `name`:
/// a warning line, or Errc::findings.
[[nodiscard]] Result<TokenChoice> choose_token(Session& s, const std::string& name, bool old, bool fail_if_due);

/// `--verify` of create and rotate: proves `token` with `in`'s default test
/// call before anything is stored. A token the provider refuses is an error
/// of its failure class (exit 7, 2 or 8) saying nothing was stored; success
/// prints one line on stderr (not under --quiet).
[[nodiscard]] Status verify_token(Context& ctx, const core::Integration& in, const Secret& token);

/// How long another writer may have to wait while we hold the lock over a request.
[[nodiscard]] std::chrono::milliseconds network_lock_wait(const Context& ctx);

} // namespace pitool::cli
