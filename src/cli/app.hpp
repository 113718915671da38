#pragma once

#include "cli/context.hpp"

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace pitool::cli {

/// The whole program: hardens the process, parses `argv`, runs one command
/// with the real world, maps the outcome to an exit code.
int run(int argc, char** argv);

/// Parses and runs one command line inside `ctx` (streams, clock, prompt and
/// environment supplied by the caller). Returns the exit code. Used by main
/// through run() and by in-process tests.
int run_in(Context& ctx, int argc, const char* const* argv);

} // namespace pitool::cli

namespace pitool::cli {

/// Declares the global options and every subcommand with its flags on `app`
/// (options bound to `ctx.opts`), as the real parser does, without running
/// anything: the command tree for shell completion and documentation.
void describe_commands(CLI::App& app, Context& ctx);

/// Parses `args` (without the program name) as run_in() does, and stops
/// before any command runs: the dry run that checks the examples of every
/// command's --help against the real flags. Fails with Errc::usage and the
/// message run_in() would print (help and version requests fail too).
/// Changes nothing but `ctx.opts` and `ctx.after_separator`.
[[nodiscard]] Status parse_only(Context& ctx, const std::vector<std::string>& args);

} // namespace pitool::cli
