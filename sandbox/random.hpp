#pragma once
// Identifiers, tokens and codes for the sandbox, all drawn from OpenSSL's
// CSPRNG. A failing RAND_bytes is a broken invariant and aborts.

#include <cstddef>
#include <string>
#include <string_view>

namespace pitool::sandbox {

/// `n` characters from [0-9A-Za-z], uniformly distributed (rejection sampling).
std::string random_base62(std::size_t n);
/// `n` lowercase hex characters.
std::string random_hex(std::size_t n);
/// A lowercase RFC 4122 version-4 UUID.
std::string random_uuid();
/// base64url without padding (RFC 4648 section 5).
std::string base64url(std::string_view bytes);
/// A JWT-shaped string: base64url(header).base64url(payload).base64url(random 32 bytes).
/// The signature is random, not a MAC: nobody verifies sandbox JWTs offline.
std::string make_jwt(std::string_view header_json, std::string_view payload_json);
/// First 12 hex characters of SHA-256(text): a non-secret handle for a secret.
std::string fingerprint(std::string_view text);

} // namespace pitool::sandbox
