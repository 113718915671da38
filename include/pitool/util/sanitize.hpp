#pragma once
/// The one sanitiser for text pitool did not write itself: provider answers
/// (messages, names, ids, header values) and fields read from a vault.

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>

namespace pitool::util {

/// Length of the well-formed UTF-8 sequence at `s[i]` (RFC 3629: no overlong
/// forms, no surrogates, nothing above U+10FFFF) with its code point in
/// `cp`, or 0 when the bytes there are not one. `i` < s.size().
[[nodiscard]] std::size_t utf8_sequence(std::string_view s, std::size_t i, char32_t& cp) noexcept;

/// Code points that steer a terminal or reorder what it shows: C0, DEL, C1
/// (U+0080–U+009F, CSI U+009B among them) and the bidirectional controls
/// U+202A–U+202E and U+2066–U+2069.
[[nodiscard]] bool is_terminal_control(char32_t cp) noexcept;

/// No length limit for sanitize().
inline constexpr std::size_t k_unlimited = static_cast<std::size_t>(-1);

/// Replaces every occurrence of `secret` (when it is 4 bytes or longer) in
/// `text` with "[redacted]".
void redact(std::string& text, std::string_view secret);

/// Text from outside made safe to store and print, in this order:
///  1. redact: every occurrence of each of `secrets` becomes "[redacted]";
///  2. clean: a byte that is not part of well-formed UTF-8, and C0 and DEL,
///     become "\xHH"; C1 and bidirectional control code points "\uHHHH";
///  3. cut: at most `max` bytes, on a code-point and escape boundary, with
///     "..." appended when something was cut.
/// The result is valid UTF-8 without terminal controls. Idempotent: clean
/// text comes back unchanged. `secrets` are read, never copied.
[[nodiscard]] std::string sanitize(std::string_view raw, std::size_t max = k_unlimited,
                                   std::initializer_list<std::string_view> secrets = {});

} // namespace pitool::util
