#pragma once
// pitool's config file (docs/cli.md, "Config file"): defaults for the vault
// path, the rotation policy per provider and kind, and the HTTP timeouts.
// It never holds a secret. Only src/cli/config.cpp includes toml++ (compiled
// header-only into that one translation unit).
//
// Precedence, for every setting: flag > environment variable > config file >
// built-in default.

#include "cli/context.hpp"
#include "pitool/core/lifecycle.hpp"
#include "pitool/core/model.hpp"

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pitool::cli {

/// Where a setting in force came from.
struct Origin {
    enum class Source { builtin, config_file, environment, flag };
    Source source = Source::builtin;
    /// "--vault", "PITOOL_VAULT", "/home/me/.config/pitool/config.toml:3";
    /// empty for a built-in default.
    std::string where;
};

/// "default", "config", "environment" or "flag" (the JSON `source`).
[[nodiscard]] std::string_view to_string(Origin::Source s) noexcept;

/// One policy table of the file: [policy], [policy.PROVIDER] or
/// [policy.PROVIDER.KIND]. A key it does not set is inherited.
struct PolicyRule {
    std::optional<int> max_age_days;
    std::optional<int> warn_days;
    int max_age_line = 0; ///< line of max_age_days in the file
    int warn_line = 0;    ///< line of warn_days in the file
};

/// What the config file says (nothing when none was read).
struct Config {
    /// The file read or looked for; empty under --no-config.
    std::filesystem::path path;
    /// Where `path` came from: built-in (the XDG location), environment
    /// (PITOOL_CONFIG) or flag (--config).
    Origin path_origin;
    bool loaded = false; ///< false: no file (or --no-config)
    std::optional<std::string> vault;
    int vault_line = 0;
    std::optional<double> http_timeout_seconds;
    int http_timeout_line = 0;
    std::optional<double> http_connect_timeout_seconds;
    int http_connect_timeout_line = 0;
    /// Keyed "" ([policy]), "leadconnector", "leadconnector.pit".
    std::map<std::string, PolicyRule, std::less<>> policies;
};

/// Finds and reads the config file for `ctx`: --no-config reads none;
/// --config PATH, else $PITOOL_CONFIG, else $XDG_CONFIG_HOME/pitool/config.toml
/// (absolute XDG_CONFIG_HOME), else ~/.config/pitool/config.toml. A missing
/// file at the default location is no config; a missing file that was named
/// is Errc::usage. Errc::usage, naming the file and line, for a file that
/// is not TOML, an unknown key, a key that looks like a secret, a wrong type
/// or an out-of-range value; Errc::io for a file writable by group or others
/// or owned by another user (the vault's rule). Messages never repeat values.
[[nodiscard]] Result<std::shared_ptr<const Config>> load_config(const Context& ctx);

/// The config in force: ctx.config, or an empty Config when none was read.
[[nodiscard]] const Config& config_of(const Context& ctx) noexcept;

/// The vault path the config gives (an absolute path, `~/` expanded), if any.
[[nodiscard]] std::optional<std::filesystem::path> config_vault(const Context& ctx);

/// A rotation policy with where each of its two numbers came from.
struct PolicyInForce {
    core::Policy policy;
    Origin max_age;
    Origin warn;
};

/// Policy numbers given on the command line (audit --max-age/--warn-days).
struct PolicyFlags {
    std::optional<int> max_age_days;
    std::optional<int> warn_days;
};

/// The policy for tokens of `provider` and `kind`: each number from `flags`,
/// else [policy.PROVIDER.KIND], [policy.PROVIDER], [policy] of the config,
/// else core::Policy's default.
[[nodiscard]] PolicyInForce policy_in_force(const Context& ctx, core::Provider provider, core::Kind kind,
                                            const PolicyFlags& flags = {});

/// The policy of [policy] alone under `flags` (audit's `policy` member).
[[nodiscard]] PolicyInForce base_policy_in_force(const Context& ctx, const PolicyFlags& flags = {});

/// The policy that judges `in` (no flags): what audit, the due warnings of
/// get/exec/test-call and show's due date use.
[[nodiscard]] core::Policy policy_for(const Context& ctx, const core::Integration& in);

/// A number of seconds with its origin.
struct SecondsInForce {
    std::chrono::milliseconds value;
    Origin origin;
};

/// The HTTP total timeout: $PITOOL_HTTP_TIMEOUT (0 < s ≤ 600), else the
/// config's http.timeout_seconds, else 30 s.
[[nodiscard]] SecondsInForce http_timeout_in_force(const Context& ctx);

/// The HTTP connect timeout: $PITOOL_HTTP_CONNECT_TIMEOUT (0 < s ≤ 600),
/// else http.connect_timeout_seconds, else 10 s; never above the total.
[[nodiscard]] SecondsInForce http_connect_timeout_in_force(const Context& ctx);

} // namespace pitool::cli
