#pragma once
/// The vault payload as JSON text (the plaintext inside the encrypted vault).

#include "pitool/core/model.hpp"

#include <string_view>

namespace pitool::vault::legacy {

/// Current payload schema version (inside the encrypted JSON).
inline constexpr int k_payload_schema = 1;

/// Serialises the payload. The returned text holds secrets and is wiped on free.
[[nodiscard]] SecureString encode_payload(const core::Payload& payload);
/// Parses payload text (secret). Errc::damaged on malformed JSON, wrong types
/// or missing fields; the message never quotes the input.
[[nodiscard]] Result<core::Payload> decode_payload(std::string_view text);

} // namespace pitool::vault::legacy
