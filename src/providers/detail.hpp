#pragma once
// Internal helpers of the providers layer.

#include "pitool/core/secure_json.hpp"
#include "pitool/providers/common.hpp"

#include <string>
#include <string_view>

namespace pitool::providers::detail {

[[nodiscard]] bool contains_ci(std::string_view hay, std::string_view needle);
/// Longest provider message kept (util::sanitize's `max`).
inline constexpr std::size_t k_max_message = 200;
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
/// A credential from a provider answer is stored only if it is a plausible
/// token (core::validate_token) — never one with spaces or control characters.
[[nodiscard]] bool plausible_token(const Secret& token);
/// An id from a provider answer that pitool puts in URL paths: empty, or
/// 1-128 of [A-Za-z0-9._-].
[[nodiscard]] bool plausible_id(std::string_view id);
/// Text from a provider answer that pitool stores as is: valid UTF-8, no
/// terminal controls, at most 1024 bytes.
[[nodiscard]] bool plausible_text(std::string_view text);
/// True when `key` is absent, null or a string.
[[nodiscard]] bool string_or_absent(const SecureJson& j, const char* key);

/// Moves secure text into a Secret and wipes the source.
[[nodiscard]] Secret to_secret(SecureString& s);

} // namespace pitool::providers::detail
