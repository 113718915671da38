#pragma once
// Internal helpers of the providers layer.

#include "core/secure_json.hpp"
#include "pitool/providers/common.hpp"

#include <string>
#include <string_view>

namespace pitool::providers::detail {

[[nodiscard]] bool contains_ci(std::string_view hay, std::string_view needle);
/// One line, control characters blanked, at most ~200 characters.
[[nodiscard]] std::string clean_message(std::string_view raw);
/// The failure a bare HTTP status implies.
[[nodiscard]] Failure classify_status(long status) noexcept;
/// j[key] if it is a string, else "".
[[nodiscard]] std::string string_or_empty(const SecureJson& j, const char* key);
/// Parses without exceptions; a discarded value on malformed input.
[[nodiscard]] SecureJson parse_body(const Secret& body);
[[nodiscard]] SecureJson parse_text(std::string_view text);
/// j[key] as a Secret if it is a string, else an empty Secret.
[[nodiscard]] Secret secret_field(const SecureJson& j, const char* key);
/// Appends key=value, percent-encoded, to a form body.
void append_form(SecureString& body, std::string_view key, std::string_view value);
/// Moves secure text into a Secret and wipes the source.
[[nodiscard]] Secret to_secret(SecureString& s);

} // namespace pitool::providers::detail
