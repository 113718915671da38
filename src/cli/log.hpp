#pragma once
// Diagnostics on the context's stderr stream: `pitool: warning: ...` unless
// --quiet, `pitool: debug: ...` with --verbose. The CLI's whole logging; the
// HTTP client gets `http_debug_sink` through its options instead of a global
// logger, so neither the program nor the network module needs spdlog.

#include "cli/context.hpp"

#include <functional>
#include <string_view>

namespace pitool::cli {

/// Writes `pitool: warning: MESSAGE` unless --quiet. Never pass secrets.
void warn(const Context& ctx, std::string_view message);

/// Writes `pitool: debug: MESSAGE` with --verbose (and not --quiet).
void debug(const Context& ctx, std::string_view message);

/// Whether debug lines are printed.
[[nodiscard]] bool debugging(const Context& ctx) noexcept;

/// A sink for http::ClientOptions::debug_log that prints like `debug`, or
/// an empty function when not debugging. Refers to `ctx`, which must outlive it.
[[nodiscard]] std::function<void(std::string_view)> http_debug_sink(const Context& ctx);

} // namespace pitool::cli
