#pragma once
// Where the identity comes from (docs/team.md, "Sources and precedence"), and
// loading it: --identity PATH, then $PITOOL_IDENTITY_FILE, then
// $PITOOL_IDENTITY (the key itself), then the default file
// $XDG_DATA_HOME/pitool/identity (~/.local/share/pitool/identity).
// An identity file's passphrase comes from the vault passphrase sources
// (read_passphrase in cli/input.hpp).

#include "cli/context.hpp"
#include "pitool/identity/identity.hpp"

#include <filesystem>
#include <string>

namespace pitool::cli {

/// The identity in force: a file, or the key in $PITOOL_IDENTITY.
struct IdentitySource {
    bool from_variable = false; ///< $PITOOL_IDENTITY (no file)
    std::filesystem::path path; ///< the file (empty when from_variable)
    std::string origin;         ///< "--identity", "PITOOL_IDENTITY_FILE", "PITOOL_IDENTITY", "default"
    /// For messages: "the identity file P (--identity)", "$PITOOL_IDENTITY".
    [[nodiscard]] std::string describe() const;
};

/// $XDG_DATA_HOME/pitool/identity, else $HOME/.local/share/pitool/identity.
[[nodiscard]] std::filesystem::path default_identity_path(const Context& ctx);

/// The source that wins, by the precedence above. Reads nothing.
[[nodiscard]] IdentitySource identity_source(const Context& ctx);

/// What `identity show` prints, read without a passphrase.
struct IdentityInfo {
    IdentitySource source;
    identity::Recipient recipient;
    bool protected_file = false; ///< a file sealed under a passphrase
};

/// The recipient of the identity in force; never asks for a passphrase.
/// Errc::not_found (no such file: names `pitool identity new`), Errc::io
/// (a file others can read or write, a symlink, a directory), Errc::damaged
/// (a damaged file, a malformed $PITOOL_IDENTITY).
[[nodiscard]] Result<IdentityInfo> identity_info(const Context& ctx);

/// The unlocked identity in force (secret), its source read once. A
/// protected file's passphrase is read with read_passphrase ("Identity
/// passphrase: " on a terminal, three tries). Errors as identity_info, plus
/// Errc::wrong_passphrase naming the file and where the passphrase came from.
/// `info`, when given, receives what identity_info would have returned.
[[nodiscard]] Result<identity::Identity> load_identity(Context& ctx, IdentityInfo* info = nullptr);

} // namespace pitool::cli
