#pragma once
/// Time values and RFC 3339 text.

#include "pitool/util/result.hpp"

#include <chrono>
#include <string>
#include <string_view>

namespace pitool {

/// A UTC instant with one-second resolution.
using Timestamp = std::chrono::sys_seconds;
using Seconds = std::chrono::seconds;
using Days = std::chrono::days;

/// "2026-11-28T05:10:42Z": UTC, for machines (JSON, CSV, stored text).
[[nodiscard]] std::string format_rfc3339(Timestamp t);
/// "2026-11-28T06:10:42+01:00": the same instant in the local time zone
/// (TZ, else /etc/localtime) with its numeric offset, for people. UTC itself
/// reads "+00:00". An offset with seconds (local mean time before about
/// 1900) is cut to whole minutes, the clock shown with it.
[[nodiscard]] std::string format_rfc3339_local(Timestamp t);
/// Parses "YYYY-MM-DDTHH:MM:SSZ", or with a numeric offset ("+02:00",
/// "-05:30": converted to UTC); fractional seconds are dropped. Errc::usage
/// on anything else.
[[nodiscard]] Result<Timestamp> parse_rfc3339(std::string_view text);

/// Parses a duration like "90s", "15m", "8h", "7d" or a bare number of
/// seconds. Errc::usage on anything else or on values above ten years.
[[nodiscard]] Result<Seconds> parse_duration(std::string_view text);

/// Whole days elapsed from `from` to `to` (floor; negative if `to` is earlier).
[[nodiscard]] long long whole_days(Timestamp from, Timestamp to) noexcept;

} // namespace pitool
