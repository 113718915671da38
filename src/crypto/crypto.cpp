#include "pitool/crypto/crypto.hpp"

#include <sodium.h>

namespace pitool::crypto {

static_assert(k_key_bytes == crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
static_assert(k_nonce_bytes == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
static_assert(k_tag_bytes == crypto_aead_xchacha20poly1305_ietf_ABYTES);
static_assert(k_salt_bytes == crypto_pwhash_SALTBYTES);
static_assert(k_public_key_bytes == crypto_box_PUBLICKEYBYTES && k_public_key_bytes == crypto_sign_PUBLICKEYBYTES);
static_assert(k_box_secret_key_bytes == crypto_box_SECRETKEYBYTES);
static_assert(k_sign_seed_bytes == crypto_sign_SEEDBYTES);
static_assert(k_sign_secret_key_bytes == crypto_sign_SECRETKEYBYTES);
static_assert(k_signature_bytes == crypto_sign_BYTES);
static_assert(k_sealed_box_overhead == crypto_box_SEALBYTES);

Status init()
{
    if (sodium_init() < 0) return make_error(Errc::internal, "libsodium failed to initialise");
    return {};
}

Result<KdfLevel> parse_kdf_level(std::string_view s)
{
    if (s == "interactive") return KdfLevel::interactive;
    if (s == "moderate") return KdfLevel::moderate;
    if (s == "sensitive") return KdfLevel::sensitive;
    return make_error(Errc::usage, "unknown KDF level (expected interactive, moderate or sensitive)");
}

std::string_view to_string(KdfLevel l) noexcept
{
    switch (l) {
    case KdfLevel::interactive:
        return "interactive";
    case KdfLevel::moderate:
        return "moderate";
    case KdfLevel::sensitive:
        return "sensitive";
    }
    return "?";
}

KdfParams params_for(KdfLevel level) noexcept
{
    switch (level) {
    case KdfLevel::interactive:
        return {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE};
    case KdfLevel::moderate:
        return {crypto_pwhash_OPSLIMIT_MODERATE, crypto_pwhash_MEMLIMIT_MODERATE};
    case KdfLevel::sensitive:
        return {crypto_pwhash_OPSLIMIT_SENSITIVE, crypto_pwhash_MEMLIMIT_SENSITIVE};
    }
    return {crypto_pwhash_OPSLIMIT_MODERATE, crypto_pwhash_MEMLIMIT_MODERATE};
}

std::optional<KdfLevel> level_of(const KdfParams& p) noexcept
{
    for (auto l : {KdfLevel::interactive, KdfLevel::moderate, KdfLevel::sensitive}) {
        auto q = params_for(l);
        if (q.opslimit == p.opslimit && q.memlimit == p.memlimit) return l;
    }
    return std::nullopt;
}

Status check_params(const KdfParams& p)
{
    if (p.opslimit < crypto_pwhash_OPSLIMIT_MIN || p.opslimit > k_max_opslimit ||
        p.memlimit < crypto_pwhash_MEMLIMIT_MIN || p.memlimit > k_max_memlimit)
        return make_error(Errc::damaged, "vault KDF parameters are outside the accepted range");
    return {};
}

Result<Secret> derive_key(const Secret& passphrase, std::span<const std::uint8_t, k_salt_bytes> salt,
                          const KdfParams& params)
{
    PITOOL_TRY(check_params(params));
    Secret key(k_key_bytes);
    // crypto_pwhash declares every pointer nonnull, and an empty Secret has
    // no buffer: passing its null data() would be undefined behaviour.
    static const char k_no_bytes = 0;
    const char* pw = passphrase.empty() ? &k_no_bytes : passphrase.view().data();
    if (crypto_pwhash(key.data(), key.size(), pw, passphrase.size(), salt.data(), params.opslimit,
                      static_cast<std::size_t>(params.memlimit), crypto_pwhash_ALG_ARGON2ID13) != 0)
        return make_error(Errc::internal, "not enough memory for the key derivation");
    return key;
}

void random_bytes(std::span<std::uint8_t> out) noexcept
{
    randombytes_buf(out.data(), out.size());
}

Secret random_key()
{
    Secret key(k_key_bytes);
    crypto_aead_xchacha20poly1305_ietf_keygen(key.data());
    return key;
}

std::vector<std::uint8_t> seal(std::span<const std::uint8_t> plain, std::span<const std::uint8_t, k_nonce_bytes> nonce,
                               std::span<const std::uint8_t> ad, const Secret& key)
{
    std::vector<std::uint8_t> out(plain.size() + k_tag_bytes);
    unsigned long long len = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(out.data(), &len, plain.data(), plain.size(), ad.data(), ad.size(),
                                               nullptr, nonce.data(), key.data());
    out.resize(static_cast<std::size_t>(len));
    return out;
}

std::optional<Secret> open(std::span<const std::uint8_t> sealed, std::span<const std::uint8_t, k_nonce_bytes> nonce,
                           std::span<const std::uint8_t> ad, const Secret& key)
{
    if (sealed.size() < k_tag_bytes || key.size() != k_key_bytes) return std::nullopt;
    Secret plain(sealed.size() - k_tag_bytes);
    unsigned long long len = 0;
    // Secret(0) has no buffer; decrypt into a 1-byte scratch in that case.
    unsigned char scratch = 0;
    unsigned char* dst = plain.empty() ? &scratch : plain.data();
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(dst, &len, nullptr, sealed.data(), sealed.size(), ad.data(),
                                                   ad.size(), nonce.data(), key.data()) != 0)
        return std::nullopt;
    return plain;
}

bool open_into(std::span<const std::uint8_t> sealed, std::span<const std::uint8_t, k_nonce_bytes> nonce,
               std::span<const std::uint8_t> ad, const Secret& key, std::span<std::uint8_t> out) noexcept
{
    if (sealed.size() < k_tag_bytes || out.size() != sealed.size() - k_tag_bytes || key.size() != k_key_bytes)
        return false;
    unsigned char scratch = 0;
    unsigned char* dst = out.empty() ? &scratch : out.data();
    unsigned long long len = 0;
    return crypto_aead_xchacha20poly1305_ietf_decrypt(dst, &len, nullptr, sealed.data(), sealed.size(), ad.data(),
                                                      ad.size(), nonce.data(), key.data()) == 0;
}

void seal_box(std::span<const std::uint8_t> plain, std::span<const std::uint8_t> ad, const Secret& key,
              std::vector<std::uint8_t>& out)
{
    std::size_t at = out.size();
    out.resize(at + plain.size() + k_box_overhead);
    std::uint8_t* nonce = out.data() + at;
    randombytes_buf(nonce, k_nonce_bytes);
    unsigned long long len = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + k_nonce_bytes, &len, plain.data(), plain.size(), ad.data(),
                                               ad.size(), nullptr, nonce, key.data());
}

bool open_box(std::span<const std::uint8_t> box, std::span<const std::uint8_t> ad, const Secret& key,
              std::span<std::uint8_t> out) noexcept
{
    if (box.size() < k_box_overhead || out.size() != box.size() - k_box_overhead || key.size() != k_key_bytes)
        return false;
    unsigned char scratch = 0;
    unsigned char* dst = out.empty() ? &scratch : out.data();
    unsigned long long len = 0;
    return crypto_aead_xchacha20poly1305_ietf_decrypt(dst, &len, nullptr, box.data() + k_nonce_bytes,
                                                      box.size() - k_nonce_bytes, ad.data(), ad.size(), box.data(),
                                                      key.data()) == 0;
}

BoxKeyPair make_box_key_pair()
{
    BoxKeyPair pair{{}, Secret(k_box_secret_key_bytes)};
    crypto_box_keypair(pair.public_key.data(), pair.secret_key.data());
    return pair;
}

Result<BoxKeyPair> box_key_pair_from(Secret secret_key)
{
    if (secret_key.size() != k_box_secret_key_bytes)
        return make_error(Errc::damaged, "an X25519 secret key must be 32 bytes");
    BoxKeyPair pair{{}, std::move(secret_key)};
    crypto_scalarmult_base(pair.public_key.data(), pair.secret_key.data());
    return pair;
}

SignKeyPair make_sign_key_pair()
{
    SignKeyPair pair{{}, Secret(k_sign_secret_key_bytes)};
    crypto_sign_keypair(pair.public_key.data(), pair.secret_key.data());
    return pair;
}

Result<SignKeyPair> sign_key_pair_from_seed(const Secret& seed)
{
    if (seed.size() != k_sign_seed_bytes) return make_error(Errc::damaged, "an Ed25519 seed must be 32 bytes");
    SignKeyPair pair{{}, Secret(k_sign_secret_key_bytes)};
    crypto_sign_seed_keypair(pair.public_key.data(), pair.secret_key.data(), seed.data());
    return pair;
}

Secret sign_seed_of(const SignKeyPair& pair)
{
    Secret seed(k_sign_seed_bytes);
    crypto_sign_ed25519_sk_to_seed(seed.data(), pair.secret_key.data());
    return seed;
}

Result<std::vector<std::uint8_t>> wrap_key(const Secret& key, const PublicKey& recipient)
{
    if (key.size() != k_key_bytes) return make_error(Errc::internal, "only a 32-byte key can be wrapped");
    std::vector<std::uint8_t> out(k_wrapped_key_bytes);
    if (crypto_box_seal(out.data(), key.data(), key.size(), recipient.data()) != 0)
        return make_error(Errc::internal, "cannot wrap a key to this public key");
    return out;
}

std::optional<Secret> unwrap_key(std::span<const std::uint8_t> wrapped, const BoxKeyPair& pair)
{
    if (wrapped.size() != k_wrapped_key_bytes || pair.secret_key.size() != k_box_secret_key_bytes) return std::nullopt;
    Secret key(k_key_bytes);
    if (crypto_box_seal_open(key.data(), wrapped.data(), wrapped.size(), pair.public_key.data(),
                             pair.secret_key.data()) != 0)
        return std::nullopt;
    return key;
}

Signature sign(std::span<const std::uint8_t> message, const SignKeyPair& pair)
{
    Signature sig{};
    crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), pair.secret_key.data());
    return sig;
}

bool verify(std::span<const std::uint8_t> message, std::span<const std::uint8_t> signature,
            const PublicKey& signer) noexcept
{
    if (signature.size() != k_signature_bytes) return false;
    return crypto_sign_verify_detached(signature.data(), message.data(), message.size(), signer.data()) == 0;
}

void hash(std::span<const std::uint8_t> data, std::span<std::uint8_t> out) noexcept
{
    crypto_generichash(out.data(), out.size(), data.data(), data.size(), nullptr, 0);
}

} // namespace pitool::crypto
