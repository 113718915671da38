#pragma once
/// libsodium primitives used by the vault: Argon2id key derivation and
/// XChaCha20-Poly1305 (IETF) authenticated encryption; and for identities,
/// X25519 sealed boxes (a key wrapped to a public key) and Ed25519 detached
/// signatures.

#include "pitool/util/result.hpp"
#include "pitool/util/secret.hpp"

#include <cstddef>
#include <array>
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

// ---- Public-key primitives (identities) ----

inline constexpr std::size_t k_public_key_bytes = 32;      ///< X25519 and Ed25519 public keys
inline constexpr std::size_t k_box_secret_key_bytes = 32;  ///< an X25519 secret key
inline constexpr std::size_t k_sign_seed_bytes = 32;       ///< the seed an Ed25519 key pair is made from
inline constexpr std::size_t k_sign_secret_key_bytes = 64; ///< libsodium's Ed25519 secret key (seed || public key)
inline constexpr std::size_t k_signature_bytes = 64;       ///< an Ed25519 signature
inline constexpr std::size_t k_sealed_box_overhead = 48;   ///< crypto_box_SEALBYTES: ephemeral key + tag
/// A key wrapped by wrap_key: k_key_bytes + k_sealed_box_overhead bytes.
inline constexpr std::size_t k_wrapped_key_bytes = k_key_bytes + k_sealed_box_overhead;

using PublicKey = std::array<std::uint8_t, k_public_key_bytes>;
using Signature = std::array<std::uint8_t, k_signature_bytes>;

/// An X25519 key pair, to receive wrapped keys. `secret_key` (32 bytes) is
/// secret; `public_key` is not.
struct BoxKeyPair {
    PublicKey public_key{};
    Secret secret_key;
};
/// A fresh X25519 key pair from the CSPRNG.
[[nodiscard]] BoxKeyPair make_box_key_pair();
/// The key pair of an X25519 secret key (its public key is computed).
/// Errc::damaged when `secret_key` is not k_box_secret_key_bytes long.
[[nodiscard]] Result<BoxKeyPair> box_key_pair_from(Secret secret_key);

/// An Ed25519 key pair, to sign. `secret_key` is libsodium's 64-byte form
/// (secret); `public_key` is not.
struct SignKeyPair {
    PublicKey public_key{};
    Secret secret_key;
};
/// A fresh Ed25519 key pair from the CSPRNG.
[[nodiscard]] SignKeyPair make_sign_key_pair();
/// The key pair made from a 32-byte seed (secret), as stored in identity
/// files. Errc::damaged when `seed` is not k_sign_seed_bytes long.
[[nodiscard]] Result<SignKeyPair> sign_key_pair_from_seed(const Secret& seed);
/// The 32-byte seed of a key pair (secret): what sign_key_pair_from_seed takes.
[[nodiscard]] Secret sign_seed_of(const SignKeyPair& pair);

/// Wraps a 32-byte key (secret) to `recipient` with an anonymous sealed box
/// (crypto_box_seal: a fresh ephemeral key pair per call, so two wraps of one
/// key differ). Returns k_wrapped_key_bytes bytes, not secret. Errc::internal
/// when `key` is not k_key_bytes long.
[[nodiscard]] Result<std::vector<std::uint8_t>> wrap_key(const Secret& key, const PublicKey& recipient);
/// Unwraps what wrap_key made for `pair`'s public key; the key is secret.
/// nullopt when the box is not k_wrapped_key_bytes long, was made for another
/// public key, or was altered.
[[nodiscard]] std::optional<Secret> unwrap_key(std::span<const std::uint8_t> wrapped, const BoxKeyPair& pair);

/// An Ed25519 detached signature of `message` (not secret).
[[nodiscard]] Signature sign(std::span<const std::uint8_t> message, const SignKeyPair& pair);
/// Whether `signature` is `signer`'s signature of exactly `message`.
[[nodiscard]] bool verify(std::span<const std::uint8_t> message, std::span<const std::uint8_t> signature,
                          const PublicKey& signer) noexcept;

/// Unkeyed BLAKE2b of `data` with an output of `out.size()` bytes (16..64).
void hash(std::span<const std::uint8_t> data, std::span<std::uint8_t> out) noexcept;

} // namespace pitool::crypto
