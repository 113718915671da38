#pragma once
// Reading secrets: tokens, codes and passphrases never come from argv.

#include "cli/context.hpp"

#include <string>
#include <string_view>

namespace pitool::cli {

/// Largest secret accepted from a stream or file.
inline constexpr std::size_t k_max_secret_input = 64 * 1024;

/// Reads all of `in` (secret) and strips trailing CR/LF. Errc::usage when
/// empty or larger than the cap; `what` names it in messages ("token").
[[nodiscard]] Result<Secret> read_secret_stream(std::istream& in, std::string_view what);
/// Reads a secret file (a symlink is fine: mounted secrets are links), strips
/// trailing CR/LF. Errc::not_found / Errc::io / Errc::usage.
[[nodiscard]] Result<Secret> read_secret_file(const std::string& path, std::string_view what);

/// A token from --token-stdin, --token-file or a no-echo prompt, in that order.
[[nodiscard]] Result<Secret> read_token(Context& ctx, bool from_stdin, const std::string& file,
                                        std::string_view prompt_text);

/// Whether a passphrase was given without a prompt: --passphrase-file,
/// PITOOL_PASSPHRASE_FILE or PITOOL_PASSPHRASE, non-empty.
[[nodiscard]] bool passphrase_given(const Context& ctx);

/// Where a passphrase came from, for messages (never the passphrase).
struct PassphraseSource {
    std::string what;   ///< "$PITOOL_PASSPHRASE", "the file F (--passphrase-file)", "the terminal"
    bool typed = false; ///< asked on the terminal: may be asked again
};

/// The vault passphrase: --passphrase-file / PITOOL_PASSPHRASE_FILE, then
/// PITOOL_PASSPHRASE, then a prompt on the terminal (asking `question`);
/// Errc::usage at once when none is available. `source`, when given, says
/// which one it was. An identity file's passphrase comes from the same sources.
[[nodiscard]] Result<Secret> read_passphrase(Context& ctx, PassphraseSource* source = nullptr,
                                             std::string_view question = "Vault passphrase: ");

/// A typed new passphrase shorter than this is refused (and asked again);
/// one from a file or variable only draws a warning.
inline constexpr std::size_t k_min_passphrase_chars = 12;

/// A new passphrase (init, passwd, identity new): `file` or `env_var` if
/// given, else asked twice on the terminal (`question` first, then "Repeat
/// the passphrase: "), up to three times while the two differ or the
/// passphrase is shorter than k_min_passphrase_chars. Refuses an empty one.
[[nodiscard]] Result<Secret> read_new_passphrase(Context& ctx, const std::string& file, const char* env_var,
                                                 bool use_default_sources,
                                                 std::string_view question = "New vault passphrase: ");

} // namespace pitool::cli
