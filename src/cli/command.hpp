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

struct CommandSpec {
    const char* name;
    const char* summary;
    Handler (*setup)(CLI::App& sub);
};

/// Every subcommand, in help order.
[[nodiscard]] std::span<const CommandSpec> all_commands();

} // namespace pitool::cli
