#pragma once

#include "cli/context.hpp"

namespace pitool::cli {

/// The whole program: hardens the process, parses `argv`, runs one command
/// with the real world, maps the outcome to an exit code.
int run(int argc, char** argv);

/// Parses and runs one command line inside `ctx` (streams, clock, prompt and
/// environment supplied by the caller). Returns the exit code. Used by main
/// through run() and by in-process tests.
int run_in(Context& ctx, int argc, const char* const* argv);

} // namespace pitool::cli
