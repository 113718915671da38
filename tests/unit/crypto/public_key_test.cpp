// X25519 sealed boxes (a 32-byte key wrapped to a public key) and Ed25519
// detached signatures: the primitives identities are made of.
#include "pitool/crypto/crypto.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <string_view>

namespace pitool::crypto {
namespace {

std::span<const std::uint8_t> pk_test_bytes(std::string_view s)
{
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

TEST(CryptoPublicKey, WrapUnwrapRoundTrip)
{
    const BoxKeyPair alice = make_box_key_pair();
    const Secret key = random_key();
    auto wrapped = wrap_key(key, alice.public_key);
    ASSERT_TRUE(wrapped.ok());
    EXPECT_EQ(wrapped->size(), k_wrapped_key_bytes);
    auto back = unwrap_key(*wrapped, alice);
    ASSERT_TRUE(back.has_value());
    EXPECT_TRUE(back->equals(key));
    // A fresh ephemeral key per wrap: two wraps of one key differ.
    auto again = wrap_key(key, alice.public_key);
    ASSERT_TRUE(again.ok());
    EXPECT_NE(*again, *wrapped);
}

TEST(CryptoPublicKey, WrongKeyPairCannotUnwrap)
{
    const BoxKeyPair alice = make_box_key_pair();
    const BoxKeyPair mallory = make_box_key_pair();
    const Secret key = random_key();
    auto wrapped = wrap_key(key, alice.public_key);
    ASSERT_TRUE(wrapped.ok());
    EXPECT_FALSE(unwrap_key(*wrapped, mallory).has_value());
}

TEST(CryptoPublicKey, TamperedOrTruncatedWrapFails)
{
    const BoxKeyPair alice = make_box_key_pair();
    auto wrapped = wrap_key(random_key(), alice.public_key);
    ASSERT_TRUE(wrapped.ok());
    for (std::size_t i = 0; i < wrapped->size(); ++i) {
        auto bad = *wrapped;
        bad[i] ^= 0x01;
        EXPECT_FALSE(unwrap_key(bad, alice).has_value()) << "byte " << i;
    }
    const std::span<const std::uint8_t> all(*wrapped);
    EXPECT_FALSE(unwrap_key(all.first(all.size() - 1), alice).has_value());
    EXPECT_FALSE(unwrap_key({}, alice).has_value());
}

TEST(CryptoPublicKey, OnlyThirtyTwoByteKeysAreWrapped)
{
    const BoxKeyPair alice = make_box_key_pair();
    EXPECT_FALSE(wrap_key(Secret(16), alice.public_key).ok());
}

TEST(CryptoPublicKey, KeyPairsComeBackFromTheirSecretParts)
{
    const BoxKeyPair box = make_box_key_pair();
    auto box_again = box_key_pair_from(box.secret_key.clone());
    ASSERT_TRUE(box_again.ok());
    EXPECT_EQ(box_again->public_key, box.public_key);
    EXPECT_FALSE(box_key_pair_from(Secret(31)).ok());

    const SignKeyPair sig = make_sign_key_pair();
    const Secret seed = sign_seed_of(sig);
    EXPECT_EQ(seed.size(), k_sign_seed_bytes);
    auto sig_again = sign_key_pair_from_seed(seed);
    ASSERT_TRUE(sig_again.ok());
    EXPECT_EQ(sig_again->public_key, sig.public_key);
    EXPECT_TRUE(sig_again->secret_key.equals(sig.secret_key));
    EXPECT_FALSE(sign_key_pair_from_seed(Secret(64)).ok());
}

TEST(CryptoPublicKey, SignatureVerifiesAndTamperingIsCaught)
{
    const SignKeyPair signer = make_sign_key_pair();
    const SignKeyPair other = make_sign_key_pair();
    constexpr std::string_view k_msg = "member add alice --role admin";
    const Signature sig = sign(pk_test_bytes(k_msg), signer);
    EXPECT_TRUE(verify(pk_test_bytes(k_msg), sig, signer.public_key));
    EXPECT_FALSE(verify(pk_test_bytes(k_msg), sig, other.public_key)) << "someone else's key";
    EXPECT_FALSE(verify(pk_test_bytes("member add alice --role auditor"), sig, signer.public_key)) << "another message";
    for (std::size_t i = 0; i < sig.size(); ++i) {
        Signature bad = sig;
        bad[i] ^= 0x80;
        EXPECT_FALSE(verify(pk_test_bytes(k_msg), bad, signer.public_key)) << "byte " << i;
    }
    EXPECT_FALSE(verify(pk_test_bytes(k_msg), std::span(sig).first(63), signer.public_key));
}

TEST(CryptoPublicKey, MatchesLibsodiumEd25519)
{
    // The seed's key pair is libsodium's, so other tools can check our signatures.
    Secret seed(k_sign_seed_bytes);
    for (std::size_t i = 0; i < seed.size(); ++i) seed.data()[i] = static_cast<unsigned char>(i);
    auto pair = sign_key_pair_from_seed(seed);
    ASSERT_TRUE(pair.ok());
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_seed_keypair(pk, sk, seed.data());
    EXPECT_EQ(0, sodium_memcmp(pk, pair->public_key.data(), sizeof pk));
    const Signature sig = sign(pk_test_bytes("x"), *pair);
    EXPECT_EQ(0, crypto_sign_verify_detached(sig.data(), reinterpret_cast<const unsigned char*>("x"), 1, pk));
}

} // namespace
} // namespace pitool::crypto
