#pragma once
/// Identities: who a team vault's keys are wrapped to and who signs its
/// membership changes. An identity is two key pairs: X25519 (receives keys
/// wrapped with sealed boxes) and Ed25519 (signs). Its public half is the
/// **recipient string**, one line to hand to others; its secret half lives in
/// an **identity file** (sealed under a passphrase with Argon2id, or
/// unprotected for CI) or, for CI runners, in one **identity key** line.
/// Every format is described byte by byte in docs/team.md.
///
/// This layer uses crypto and util only; finding the identity (flags,
/// variables, the default path) and asking for passphrases is the CLI's job.

#include "pitool/crypto/crypto.hpp"
#include "pitool/util/result.hpp"
#include "pitool/util/secret.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace pitool::identity {

/// An identity's public half (nothing here is secret).
struct Recipient {
    crypto::PublicKey box_key{};  ///< X25519: keys are wrapped to it
    crypto::PublicKey sign_key{}; ///< Ed25519: signatures are checked with it
    bool operator==(const Recipient&) const = default;
};

/// An unlocked identity. Both secret keys are in guarded memory (Secret);
/// move-only.
struct Identity {
    crypto::BoxKeyPair box;
    crypto::SignKeyPair sign;
    /// The public half.
    [[nodiscard]] Recipient recipient() const;
};

/// A new identity: two fresh key pairs from the CSPRNG.
[[nodiscard]] Identity generate();

/// "pitool-recipient1-" then 109 base32 characters (docs/team.md).
inline constexpr std::string_view k_recipient_prefix = "pitool-recipient1-";
/// "pitool-identity1-" then 109 base32 characters: a secret key line.
inline constexpr std::string_view k_identity_key_prefix = "pitool-identity1-";
/// Characters after either prefix: base32 of 68 bytes (64 of keys, 4 of checksum).
inline constexpr std::size_t k_encoded_chars = 109;

/// The recipient string of `r` (one line, no newline).
[[nodiscard]] std::string encode_recipient(const Recipient& r);
/// Parses a recipient string (surrounding spaces and a trailing newline are
/// tolerated, nothing else). Errc::usage with a one-line message naming what
/// is wrong: another prefix (an identity key pasted by mistake is named as
/// such), a missing or extra character, a character outside the alphabet (its
/// position), or a checksum that does not match (a mistyped character).
[[nodiscard]] Result<Recipient> parse_recipient(std::string_view text);

/// The identity's secret keys as one line (secret: what PITOOL_IDENTITY
/// holds). Anyone holding it is the identity.
[[nodiscard]] SecureString encode_identity_key(const Identity& id);
/// Parses an identity key line. Errc::damaged with a one-line message that
/// never quotes the text (it is secret): wrong prefix, length, a character
/// outside the alphabet (its position only), checksum.
[[nodiscard]] Result<Identity> parse_identity_key(std::string_view text);

/// The identity file format version this code writes and reads.
inline constexpr int k_file_version = 1;
/// An identity file is far smaller than this; a larger file is not one.
inline constexpr std::uintmax_t k_max_file_size = 4096;

/// What an identity file says in clear, read without a passphrase.
struct FileInfo {
    Recipient recipient;
    /// The Argon2id parameters its secret keys are sealed under; nullopt
    /// when the file is unprotected (the keys are in it in clear).
    std::optional<crypto::KdfParams> kdf;
};

/// Reads and checks an identity file's clear part: magic line, version,
/// checksum, every line's syntax, and (when protected) the Argon2id
/// parameters against crypto::check_params. Errc::damaged otherwise, with a
/// one-line message that never quotes a secret.
[[nodiscard]] Result<FileInfo> read_file_info(std::span<const std::uint8_t> file);

/// Opens an identity file. `passphrase` is needed when the file is
/// protected (Errc::usage when it is null then) and ignored otherwise.
/// Errc::damaged as read_file_info, or when the keys inside do not match the
/// recipient line; Errc::wrong_passphrase when the sealed keys do not open
/// under the passphrase.
[[nodiscard]] Result<Identity> open_file(std::span<const std::uint8_t> file, const Secret* passphrase);

/// The bytes of a new identity file holding `id`: sealed under `passphrase`
/// with Argon2id at `kdf` (checked with crypto::check_params), or
/// unprotected when `passphrase` is null. The bytes of an unprotected file
/// are secret (hence SecureBytes). Errc::usage for an empty passphrase;
/// errors of crypto::derive_key.
[[nodiscard]] Result<SecureBytes> make_file(const Identity& id, const Secret* passphrase, const crypto::KdfParams& kdf);

} // namespace pitool::identity
