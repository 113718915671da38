#pragma once
/// The vault file format (docs/vault-format.md).
///
/// A binary header (magic, version, recipients with their KDF parameters,
/// salt and wrapped data key, v3 on: the data file's id, v4: the vault's
/// id and generation, index nonce and length, header checksum) followed by the XChaCha20-Poly1305 ciphertext of
/// the index (v1: the payload), with the header as associated data. Parsing
/// is pure and bounded, so fuzzers and tests can feed it anything.

#include "pitool/crypto/crypto.hpp"
#include "pitool/util/result.hpp"

#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace pitool::vault {

inline constexpr std::array<std::uint8_t, 8> k_magic{'P', 'I', 'T', 'V', 'A', 'U', 'L', 'T'};
/// Version written: header and index in the vault file, boxes in an
/// append-only data file beside it, the vault's id and generation in the
/// header. Versions 1 (one payload of JSON), 2 (boxes after the index in the
/// one file) and 3 (version 4 without id and generation) are still read, and
/// rewritten as version 4 at the first write.
inline constexpr std::uint16_t k_format_version = 4;
inline constexpr std::uint16_t k_format_v3 = 3;
inline constexpr std::uint16_t k_format_v2 = 2;
inline constexpr std::uint16_t k_format_v1 = 1;
/// The version bound into every recipient's associated data. It stays 1 so
/// that migrating a vault keeps its wrapped keys.
inline constexpr std::uint16_t k_recipient_ad_version = 1;
inline constexpr std::size_t k_max_recipients = 16;
/// Largest payload ciphertext accepted when reading.
inline constexpr std::uint64_t k_max_payload_bytes = 1ULL << 30;

enum class RecipientType : std::uint8_t { passphrase = 1 };
/// crypto_pwhash_ALG_ARGON2ID13.
inline constexpr std::uint8_t k_kdf_argon2id13 = 2;

/// One way to unwrap the data key. v1 knows passphrase recipients only.
struct Recipient {
    RecipientType type = RecipientType::passphrase;
    std::uint8_t kdf = k_kdf_argon2id13;
    crypto::KdfParams params;
    std::array<std::uint8_t, crypto::k_salt_bytes> salt{};
    std::array<std::uint8_t, crypto::k_nonce_bytes> wrap_nonce{};
    /// The data key encrypted with the passphrase-derived key (key || tag).
    std::array<std::uint8_t, crypto::k_key_bytes + crypto::k_tag_bytes> wrapped_key{};
};

/// A vault's stable random id (v4): the same in every generation, unlike
/// the data file's id, which changes at every compaction.
using VaultId = std::array<std::uint8_t, 16>;
inline constexpr std::size_t k_vault_id_bytes = 16;

struct Header {
    std::uint16_t version = k_format_version;
    std::vector<Recipient> recipients;
    /// v3 on: the random id of the data file holding this generation's boxes.
    std::uint64_t data_id = 0;
    /// v4: the vault's id (never all zero) and this generation's number
    /// (from 1, one more at every write). Both are bound to the index as
    /// associated data, so neither can be changed without the index failing
    /// to open. v1 to v3: zero (no id, no generation).
    VaultId vault_id{};
    std::uint64_t generation = 0;
    std::array<std::uint8_t, crypto::k_nonce_bytes> payload_nonce{};
    /// v1: the payload; v2, v3: the index. Ciphertext bytes including the tag.
    std::uint64_t payload_len = 0;
};

inline constexpr std::size_t k_prefix_bytes = 16;
inline constexpr std::size_t k_recipient_bytes = 112;
inline constexpr std::size_t k_checksum_bytes = 16;

/// Serialised header size for `n` recipients (v3 adds the 8-byte data id,
/// v4 the 16-byte vault id and the 8-byte generation).
[[nodiscard]] constexpr std::size_t header_size(std::size_t n, std::uint16_t version = k_format_version) noexcept
{
    return k_prefix_bytes + n * k_recipient_bytes + (version >= 3 ? 8 : 0) + (version >= 4 ? k_vault_id_bytes + 8 : 0) +
           crypto::k_nonce_bytes + 8 + k_checksum_bytes;
}

/// Whether a header carries a vault id (v4), i.e. a generation to check.
[[nodiscard]] bool has_vault_id(const Header& h) noexcept;

/// Serialises a header, checksum included.
[[nodiscard]] std::vector<std::uint8_t> encode_header(const Header& h);

/// The bytes a recipient's wrapped key is bound to (its associated data):
/// the file prefix and the recipient block up to the wrapped key.
[[nodiscard]] std::vector<std::uint8_t> recipient_ad(const Recipient& r);

/// A parsed file: the header plus views into the input.
struct Parsed {
    Header header;
    std::span<const std::uint8_t> header_bytes; ///< associated data of the payload/index
    std::span<const std::uint8_t> ciphertext;   ///< v1 payload, or the index
    std::span<const std::uint8_t> data;         ///< v2: the boxes after the index (else empty)
};

/// Header size announced by a file's first k_prefix_bytes, or Errc::damaged
/// (bad magic, unsupported version, bad recipient count).
[[nodiscard]] Result<std::size_t> header_size_of(std::span<const std::uint8_t> prefix);

/// Parses a header (exactly header_size_of() bytes) of a file of
/// `file_size` bytes and checks the sizes it announces against it.
[[nodiscard]] Result<Header> parse_header(std::span<const std::uint8_t> header, std::uint64_t file_size);

/// Parses a whole vault file. Errc::damaged, with a one-line reason, for: not
/// a vault (bad magic), an unsupported version, a truncated or over-long
/// file, a header checksum mismatch, out-of-range KDF parameters or counts,
/// a v4 header with a zero vault id or generation.
[[nodiscard]] Result<Parsed> parse(std::span<const std::uint8_t> file);

} // namespace pitool::vault
