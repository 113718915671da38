#pragma once
// What the user does in the provider's web UI before pasting a token at
// create's or rotate's prompt: which menu, which button, what to name it,
// which scopes, that the token is shown once. Only what the providers'
// documentation says (docs/cli.md "Steps on a terminal"); where it is
// silent, the steps say less.

#include "cli/context.hpp"
#include "pitool/core/model.hpp"

#include <string>

namespace pitool::cli {

/// Which UI action the token comes from.
enum class TokenAction { create, rotate_later, rotate_now };

/// The steps for `in` (its provider, kind, level, account, name, scopes), as
/// lines indented for stderr, the last one saying to paste at the prompt.
[[nodiscard]] std::string token_steps(const core::Integration& in, TokenAction action);

/// Whether the steps are shown: the token will be asked on the terminal
/// (neither --token-stdin nor --token-file), standard input is a terminal,
/// and neither -q nor --json is in force.
[[nodiscard]] bool shows_token_steps(const Context& ctx, bool token_stdin, const std::string& token_file);

/// token_steps() to ctx.err, followed by an empty line.
void print_token_steps(Context& ctx, const core::Integration& in, TokenAction action);

} // namespace pitool::cli
