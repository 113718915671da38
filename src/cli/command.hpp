#pragma once
// The subcommand registry: each command lives in commands/<name>.cpp and
// exposes one setup function that declares its flags and returns the handler
// that runs it. CLI11 callbacks only record choices; handlers run after
// parsing inside run_in's single error boundary.

#include "cli/context.hpp"

#include <functional>
#include <span>

namespace CLI {
class App;
}

namespace pitool::cli {

using Handler = std::function<Status(Context&)>;

/// One command line shown under "Examples:" in a command's --help.
struct CommandExample {
    /// "pitool ..." as typed in a shell; words from a redirection (`<`, `>`)
    /// on are the shell's. Parsed by the real parser in a test.
    const char* line;
    /// What it does, in a few words.
    const char* what;
};

struct CommandSpec {
    const char* name;
    const char* summary; ///< "" for internal commands (not listed, no examples)
    Handler (*setup)(CLI::App& sub);
    /// Two or three examples for its --help (none for internal commands).
    std::span<const CommandExample> examples;
};

/// Every subcommand, in help order.
[[nodiscard]] std::span<const CommandSpec> all_commands();

} // namespace pitool::cli
