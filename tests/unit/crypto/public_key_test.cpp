// X25519 sealed boxes (a 32-byte key wrapped to a public key) and Ed25519
// detached signatures: the primitives identities are made of.
#include "pitool/crypto/crypto.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <algorithm>
#include <string_view>
#include <vector>

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

/// `hex` as bytes (test vectors).
std::vector<unsigned char> pk_test_hex(std::string_view hex)
{
    std::vector<unsigned char> out(hex.size() / 2);
    std::size_t n = 0;
    EXPECT_EQ(0, sodium_hex2bin(out.data(), out.size(), hex.data(), hex.size(), nullptr, &n, nullptr));
    out.resize(n);
    return out;
}

TEST(CryptoPublicKey, Ed25519MatchesRfc8032TestOne)
{
    // RFC 8032, section 7.1, TEST 1 (an empty message): an independent
    // check that seed, public key and signature are standard Ed25519.
    const auto seed_bytes = pk_test_hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
    Secret seed(k_sign_seed_bytes);
    std::copy(seed_bytes.begin(), seed_bytes.end(), seed.data());
    auto pair = sign_key_pair_from_seed(seed);
    ASSERT_TRUE(pair.ok());
    const auto want_pk = pk_test_hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
    EXPECT_TRUE(std::equal(want_pk.begin(), want_pk.end(), pair->public_key.begin()));
    const Signature sig = sign({}, *pair);
    const auto want_sig = pk_test_hex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bac"
                                      "c61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
    EXPECT_TRUE(std::equal(want_sig.begin(), want_sig.end(), sig.begin()));
    EXPECT_TRUE(verify({}, want_sig, pair->public_key));
}

TEST(CryptoPublicKey, X25519MatchesRfc7748)
{
    // RFC 7748, section 6.1: Alice's private key gives Alice's public key.
    const auto sk = pk_test_hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    Secret secret(k_box_secret_key_bytes);
    std::copy(sk.begin(), sk.end(), secret.data());
    auto pair = box_key_pair_from(std::move(secret));
    ASSERT_TRUE(pair.ok());
    const auto want = pk_test_hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    EXPECT_TRUE(std::equal(want.begin(), want.end(), pair->public_key.begin()));
}

} // namespace
} // namespace pitool::crypto
