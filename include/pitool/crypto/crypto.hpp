#pragma once
/// libsodium primitives used by the vault: Argon2id key derivation and
/// XChaCha20-Poly1305 (IETF) authenticated encryption.

#include "pitool/util/result.hpp"
#include "pitool/util/secret.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace pitool::crypto {

inline constexpr std::size_t k_key_bytes = 32;   ///< data key and wrapping key
inline constexpr std::size_t k_salt_bytes = 16;  ///< crypto_pwhash_SALTBYTES
inline constexpr std::size_t k_nonce_bytes = 24; ///< XChaCha20-Poly1305 nonce
inline constexpr std::size_t k_tag_bytes = 16;   ///< Poly1305 tag

/// Initialises libsodium. Must succeed before anything else; idempotent.
[[nodiscard]] Status init();

enum class KdfLevel { interactive, moderate, sensitive };
[[nodiscard]] Result<KdfLevel> parse_kdf_level(std::string_view s);
[[nodiscard]] std::string_view to_string(KdfLevel l) noexcept;

/// Argon2id (crypto_pwhash_ALG_ARGON2ID13) cost parameters.
struct KdfParams {
    std::uint64_t opslimit = 0;
    std::uint64_t memlimit = 0; ///< bytes
};
/// libsodium's constants for a level.
[[nodiscard]] KdfParams params_for(KdfLevel level) noexcept;
/// The level whose parameters these are, if any (for display).
[[nodiscard]] std::optional<KdfLevel> level_of(const KdfParams& p) noexcept;
/// pitool's caps on Argon2id work read from a file.
inline constexpr std::uint64_t k_max_opslimit = 16;
inline constexpr std::uint64_t k_max_memlimit = 1ULL << 30;

/// Parameters read from a file must lie within libsodium's minimums and
/// pitool's caps (opslimit <= 16, memlimit <= 1 GiB) so a hostile file cannot
/// force unbounded work. Errc::damaged otherwise.
[[nodiscard]] Status check_params(const KdfParams& p);

/// Derives a 32-byte wrapping key from a passphrase. Errc::internal when the
/// memory for Argon2 cannot be had.
[[nodiscard]] Result<Secret> derive_key(const Secret& passphrase, std::span<const std::uint8_t, k_salt_bytes> salt,
                                        const KdfParams& params);

/// Fills `out` with CSPRNG bytes.
void random_bytes(std::span<std::uint8_t> out) noexcept;
/// A fresh random 32-byte key in secure memory.
[[nodiscard]] Secret random_key();

/// Encrypts `plain` (secret) with `key`; returns ciphertext || tag (not secret).
[[nodiscard]] std::vector<std::uint8_t> seal(std::span<const std::uint8_t> plain,
                                             std::span<const std::uint8_t, k_nonce_bytes> nonce,
                                             std::span<const std::uint8_t> ad, const Secret& key);
/// Decrypts and authenticates; nullopt when the tag does not verify (wrong
/// key, or altered ciphertext/AD). The plaintext is secret.
[[nodiscard]] std::optional<Secret> open(std::span<const std::uint8_t> sealed,
                                         std::span<const std::uint8_t, k_nonce_bytes> nonce,
                                         std::span<const std::uint8_t> ad, const Secret& key);

/// Like open(), into `out` (exactly sealed.size() - k_tag_bytes bytes), for
/// plaintext that is not secret or lives in a caller's guarded buffer. `out`
/// may start at sealed.data() (in place); no other overlap.
[[nodiscard]] bool open_into(std::span<const std::uint8_t> sealed, std::span<const std::uint8_t, k_nonce_bytes> nonce,
                             std::span<const std::uint8_t> ad, const Secret& key, std::span<std::uint8_t> out) noexcept;

/// A self-contained box: nonce || ciphertext || tag.
inline constexpr std::size_t k_box_overhead = k_nonce_bytes + k_tag_bytes;

/// Seals `plain` (secret) under a fresh random nonce and appends the box
/// (k_box_overhead + plain.size() bytes) to `out`. The appended bytes are not
/// secret.
void seal_box(std::span<const std::uint8_t> plain, std::span<const std::uint8_t> ad, const Secret& key,
              std::vector<std::uint8_t>& out);

/// Opens a box made by seal_box into `out`, which must hold exactly
/// box.size() - k_box_overhead bytes (use a Secret's buffer for secret
/// plaintext). False when the box is too short or does not authenticate.
[[nodiscard]] bool open_box(std::span<const std::uint8_t> box, std::span<const std::uint8_t> ad, const Secret& key,
                            std::span<std::uint8_t> out) noexcept;

/// Unkeyed BLAKE2b of `data` with an output of `out.size()` bytes (16..64).
void hash(std::span<const std::uint8_t> data, std::span<std::uint8_t> out) noexcept;

} // namespace pitool::crypto
