#pragma once
// pitool's small logging API. Every diagnostic line goes through spdlog, but
// only src/cli/log.cpp includes it (spdlog and fmt are compiled header-only
// into that one translation unit, so the program links neither shared
// library and the other files do not pay for their headers).
//
// Levels on the context's stderr: `pitool: warning: ...` unless --quiet;
// `pitool: debug: ...` with -v (which vault, which passphrase source, KDF
// time, lock waits, agent use, HTTP retries and back-off); `pitool: trace:
// ...` with -vv (the HTTP request and response trace). The agent process
// writes its own events to a file (open_agent_log). Never pass secrets.

#include "cli/context.hpp"

#include <filesystem>
#include <functional>
#include <string_view>

namespace pitool::cli {

/// A line sink: takes one message (never secret) per call.
using LogSink = std::function<void(std::string_view)>;

/// Writes `pitool: warning: MESSAGE` unless --quiet.
void warn(const Context& ctx, std::string_view message);

/// Writes `pitool: debug: MESSAGE` with -v (and not --quiet).
void debug(const Context& ctx, std::string_view message);

/// Writes `pitool: trace: MESSAGE` with -vv (and not --quiet).
void trace(const Context& ctx, std::string_view message);

/// Whether debug lines (-v) are printed.
[[nodiscard]] bool debugging(const Context& ctx) noexcept;

/// Whether trace lines (-vv) are printed.
[[nodiscard]] bool tracing(const Context& ctx) noexcept;

/// A sink for http::ClientOptions::debug_log (retries, back-off, redirects)
/// that prints like `debug`, or an empty function when not debugging.
/// Refers to `ctx`, which must outlive it.
[[nodiscard]] LogSink http_debug_sink(const Context& ctx);

/// A sink for http::ClientOptions::trace_log (requests and responses) that
/// prints like `trace`, or an empty function below -vv. Refers to `ctx`.
[[nodiscard]] LogSink http_trace_sink(const Context& ctx);

/// Severity of a line in the agent's log.
enum class Level { info, warning };

/// A sink of leveled lines (never secret), for the agent's log.
using LeveledSink = std::function<void(Level, std::string_view)>;

/// Opens the agent's event log: `path` is created (mode 0600, parents 0700)
/// or appended to, and each line gets a UTC time stamp and a level. A file
/// over 1 MiB is moved to `path.1` first. Returns an empty function when the
/// file cannot be opened (the agent has nowhere to report that).
[[nodiscard]] LeveledSink open_agent_log(const std::filesystem::path& path);

} // namespace pitool::cli
