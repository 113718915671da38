#pragma once
/// Binary encodings of one integration and of history events, as stored in
/// the boxes of a vault (docs/vault-format.md).
///
/// An integration is split in two: its metadata (everything `show` prints,
/// not secret) and its secrets (current token, old token during a rotation
/// window, OAuth refresh token). They are sealed separately so that listing
/// 100,000 integrations never decrypts a token, and a change to one record
/// re-seals only that record. Decoders are bounded and never quote their
/// input in errors.

#include "pitool/core/model.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace pitool::core {

/// Current version byte of metadata, secrets and event records.
inline constexpr std::uint8_t k_record_version = 1;

/// The non-secret part of `in`.
[[nodiscard]] std::vector<std::uint8_t> encode_meta(const Integration& in);
/// Decodes metadata; the result is `sealed` (no secrets). Errc::damaged.
[[nodiscard]] Result<Integration> decode_meta(std::span<const std::uint8_t> bytes);
/// Decodes metadata into `in`, overwriting every field (its secrets are
/// dropped), so that one object can be reused for many records without
/// allocating again. On failure `in` holds a mix. Errc::damaged.
[[nodiscard]] Status decode_meta_into(std::span<const std::uint8_t> bytes, Integration& in);

/// The secret part of `in` (secret bytes). `in` must not be sealed.
[[nodiscard]] SecureBytes encode_secrets(const Integration& in);
/// Fills the secrets of a sealed `in` from `bytes` (secret) and clears
/// `sealed`. Errc::damaged if they do not match the metadata (e.g. an old
/// token without a rotation window).
[[nodiscard]] Status decode_secrets(std::span<const std::uint8_t> bytes, Integration& in);
/// decode_secrets of a plaintext held in guarded memory, which it takes:
/// a record holding only its token keeps that buffer as the token.
[[nodiscard]] Status decode_secrets(Secret plain, Integration& in);

[[nodiscard]] std::vector<std::uint8_t> encode_events(std::span<const Event> events);
[[nodiscard]] Result<std::vector<Event>> decode_events(std::span<const std::uint8_t> bytes);

} // namespace pitool::core
