#pragma once
// Small helpers shared by the command handlers.

#include "cli/context.hpp"
#include "pitool/core/model.hpp"
#include "pitool/vault/vault.hpp"

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace pitool::cli {

class Session;

/// pitool's state directory (the agent's log, the generations file):
/// $XDG_STATE_HOME/pitool for an absolute XDG_STATE_HOME, else
/// ~/.local/state/pitool; std::nullopt without an absolute HOME either.
[[nodiscard]] std::optional<std::filesystem::path> state_dir(const Context& ctx);

/// Loads the integration called `name` into the vault's payload (with its
/// secrets unless `secrets` is false) and returns it, or Errc::not_found
/// (Errc::usage for an invalid name). Loading more records later may move
/// it: load first, then take pointers.
[[nodiscard]] Result<core::Integration*> find_integration(vault::Vault& v, const std::string& name,
                                                          bool secrets = true);

/// `--provider` / `--kind` as given to list and test-call --all.
struct IntegrationFilter {
    std::optional<core::Provider> provider;
    std::optional<core::Kind> kind;
    [[nodiscard]] bool matches(const core::Integration& in) const noexcept
    {
        return (!provider || in.provider == *provider) && (!kind || in.kind == *kind);
    }
};
/// Parses the two options ("" = any). Errc::usage for an unknown value.
[[nodiscard]] Result<IntegrationFilter> parse_filter(const std::string& provider, const std::string& kind);

/// Under the vault lock (Session::mutate), applies `change` to the
/// integration `name` if a rotation window is open for it (Errc::conflict
/// otherwise), and saves. The vault as saved.
[[nodiscard]] Result<vault::Vault*>
change_open_window(Session& s, const std::string& name,
                   const std::function<Status(vault::Vault&, core::Integration&)>& change);

/// Appends a history event stamped with the context's clock and actor.
void record_event(Context& ctx, core::Payload& p, std::string action, const std::string& name, std::string fingerprint,
                  std::string detail = {});

/// Which numbers of seconds env_seconds accepts: from 0 (included if
/// `zero_allowed`) to `max`.
struct SecondsRange {
    bool zero_allowed = false;
    double max = 0;
};
/// The number of seconds (decimals allowed) in the environment variable
/// `name`, or `fallback` when it is unset, empty, not a number or out of
/// `range`.
[[nodiscard]] std::chrono::milliseconds env_seconds(const Context& ctx, const char* name,
                                                    std::chrono::milliseconds fallback, SecondsRange range);

} // namespace pitool::cli
