#include "pitool/crypto/crypto.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <array>
#include <set>
#include <string>

namespace pitool::crypto {
namespace {

// Every test of the unit binary may use libsodium: initialise it once, first.
class SodiumEnvironment : public testing::Environment {
public:
    void SetUp() override { ASSERT_TRUE(init().ok()); }
};
[[maybe_unused]] testing::Environment* const k_sodium_env = testing::AddGlobalTestEnvironment(new SodiumEnvironment);

constexpr KdfParams k_fast{crypto_pwhash_OPSLIMIT_MIN, 8192};

std::span<const std::uint8_t> as_bytes(std::string_view s)
{
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::array<std::uint8_t, k_nonce_bytes> nonce_of(std::uint8_t fill)
{
    std::array<std::uint8_t, k_nonce_bytes> n{};
    n.fill(fill);
    return n;
}

TEST(Crypto, InitIsIdempotent)
{
    EXPECT_TRUE(init());
    EXPECT_TRUE(init());
}

TEST(Crypto, KdfLevelsParseAndPrint)
{
    for (auto l : {KdfLevel::interactive, KdfLevel::moderate, KdfLevel::sensitive}) {
        EXPECT_EQ(parse_kdf_level(to_string(l)).value(), l);
        EXPECT_EQ(level_of(params_for(l)), l);
        EXPECT_TRUE(check_params(params_for(l))) << to_string(l);
    }
    auto bad = parse_kdf_level("fast");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, Errc::usage);
    EXPECT_FALSE(parse_kdf_level("Interactive"));
    EXPECT_EQ(params_for(KdfLevel::interactive).opslimit, crypto_pwhash_OPSLIMIT_INTERACTIVE);
    EXPECT_EQ(params_for(KdfLevel::sensitive).memlimit, crypto_pwhash_MEMLIMIT_SENSITIVE);
}

TEST(Crypto, LevelOfUnknownParams)
{
    EXPECT_EQ(level_of(k_fast), std::nullopt);
    auto p = params_for(KdfLevel::moderate);
    p.opslimit += 1;
    EXPECT_EQ(level_of(p), std::nullopt);
    p = params_for(KdfLevel::moderate);
    p.memlimit -= 1;
    EXPECT_EQ(level_of(p), std::nullopt);
}

TEST(Crypto, CheckParamsCaps)
{
    EXPECT_TRUE(check_params(k_fast));
    EXPECT_TRUE(check_params({16, 1ULL << 30}));
    for (KdfParams p : {KdfParams{0, 8192}, KdfParams{17, 8192}, KdfParams{1, 8191}, KdfParams{1, (1ULL << 30) + 1},
                        KdfParams{~0ULL, 8192}, KdfParams{1, ~0ULL}, KdfParams{0, 0}, KdfParams{3, 1ULL << 40}}) {
        auto st = check_params(p);
        ASSERT_FALSE(st) << p.opslimit << "/" << p.memlimit;
        EXPECT_EQ(st.error().code, Errc::damaged);
    }
}

TEST(Crypto, DeriveKeyRefusesHostileParamsWithoutWork)
{
    std::array<std::uint8_t, k_salt_bytes> salt{};
    auto r = derive_key(Secret::from("pw"), salt, KdfParams{1, 1ULL << 40});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::damaged);
    auto ops = derive_key(Secret::from("pw"), salt, KdfParams{1'000'000, 8192});
    ASSERT_FALSE(ops);
    EXPECT_EQ(ops.error().code, Errc::damaged);
}

TEST(Crypto, DeriveKeyIsDeterministicPerSaltAndPassphrase)
{
    std::array<std::uint8_t, k_salt_bytes> salt{};
    salt.fill(7);
    auto a = derive_key(Secret::from("correct horse"), salt, k_fast);
    auto b = derive_key(Secret::from("correct horse"), salt, k_fast);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->size(), k_key_bytes);
    EXPECT_TRUE(a->equals(b.value()));

    auto salt2 = salt;
    salt2[15] = 8;
    auto c = derive_key(Secret::from("correct horse"), salt2, k_fast);
    ASSERT_TRUE(c);
    EXPECT_FALSE(a->equals(c.value()));

    auto d = derive_key(Secret::from("correct horsE"), salt, k_fast);
    ASSERT_TRUE(d);
    EXPECT_FALSE(a->equals(d.value()));

    auto e = derive_key(Secret::from("correct horse"), salt, KdfParams{2, 8192});
    ASSERT_TRUE(e);
    EXPECT_FALSE(a->equals(e.value()));

    auto empty = derive_key(Secret(), salt, k_fast); // an empty passphrase still derives
    ASSERT_TRUE(empty);
    EXPECT_FALSE(a->equals(empty.value()));
}

TEST(Crypto, DeriveKeyMatchesLibsodiumArgon2id)
{
    std::array<std::uint8_t, k_salt_bytes> salt{};
    for (std::size_t i = 0; i < salt.size(); ++i) salt[i] = static_cast<std::uint8_t>(i);
    auto mine = derive_key(Secret::from("pw"), salt, k_fast);
    ASSERT_TRUE(mine);
    std::array<unsigned char, k_key_bytes> ref{};
    ASSERT_EQ(crypto_pwhash(ref.data(), ref.size(), "pw", 2, salt.data(), k_fast.opslimit, k_fast.memlimit,
                            crypto_pwhash_ALG_ARGON2ID13),
              0);
    EXPECT_TRUE(mine->equals(std::string_view(reinterpret_cast<const char*>(ref.data()), ref.size())));
}

TEST(Crypto, RandomKeysAndBytesDiffer)
{
    auto a = random_key();
    auto b = random_key();
    EXPECT_EQ(a.size(), k_key_bytes);
    EXPECT_FALSE(a.equals(b));
    std::array<std::uint8_t, 32> x{}, y{};
    random_bytes(x);
    random_bytes(y);
    EXPECT_NE(x, y);
}

TEST(Crypto, SealOpenRoundTrip)
{
    auto key = random_key();
    auto nonce = nonce_of(1);
    const std::string plain = "{\"schema\":1,\"secret\":\"pit-123\"}";
    auto sealed = seal(as_bytes(plain), nonce, as_bytes("header"), key);
    ASSERT_EQ(sealed.size(), plain.size() + k_tag_bytes);
    EXPECT_EQ(std::string(sealed.begin(), sealed.end()).find("pit-123"), std::string::npos);
    auto opened = open(sealed, nonce, as_bytes("header"), key);
    ASSERT_TRUE(opened.has_value());
    EXPECT_EQ(opened->view(), plain);
}

TEST(Crypto, SealOpenEmptyPlaintextAndAd)
{
    auto key = random_key();
    auto nonce = nonce_of(2);
    auto sealed = seal({}, nonce, {}, key);
    ASSERT_EQ(sealed.size(), k_tag_bytes);
    auto opened = open(sealed, nonce, {}, key);
    ASSERT_TRUE(opened.has_value());
    EXPECT_TRUE(opened->empty());
    EXPECT_FALSE(open(sealed, nonce, as_bytes("x"), key).has_value());
}

TEST(Crypto, OpenFailsOnWrongKeyNonceOrAlteredData)
{
    auto key = random_key();
    auto nonce = nonce_of(3);
    const std::string plain = "the payload";
    const std::string ad = "associated";
    auto sealed = seal(as_bytes(plain), nonce, as_bytes(ad), key);

    EXPECT_FALSE(open(sealed, nonce, as_bytes(ad), random_key()).has_value());
    EXPECT_FALSE(open(sealed, nonce_of(4), as_bytes(ad), key).has_value());
    EXPECT_FALSE(open(sealed, nonce, as_bytes("associatee"), key).has_value());
    EXPECT_FALSE(open(sealed, nonce, as_bytes("associated "), key).has_value());
    EXPECT_FALSE(open(sealed, nonce, {}, key).has_value());

    for (std::size_t i = 0; i < sealed.size(); ++i) {
        for (std::uint8_t bit : {std::uint8_t{0x01}, std::uint8_t{0x80}}) {
            auto bad = sealed;
            bad[i] = static_cast<std::uint8_t>(bad[i] ^ bit);
            ASSERT_FALSE(open(bad, nonce, as_bytes(ad), key).has_value()) << "byte " << i;
        }
    }
    std::string flipped_ad = ad;
    for (std::size_t i = 0; i < ad.size(); ++i) {
        flipped_ad[i] = static_cast<char>(ad[i] ^ 0x04);
        ASSERT_FALSE(open(sealed, nonce, as_bytes(flipped_ad), key).has_value()) << "ad byte " << i;
        flipped_ad[i] = ad[i];
    }
    auto truncated = std::vector<std::uint8_t>(sealed.begin(), sealed.end() - 1);
    EXPECT_FALSE(open(truncated, nonce, as_bytes(ad), key).has_value());
    EXPECT_FALSE(open(std::span<const std::uint8_t>(sealed).first(k_tag_bytes - 1), nonce, as_bytes(ad), key));
    EXPECT_FALSE(open(sealed, nonce, as_bytes(ad), Secret::from("short key")).has_value());
    EXPECT_FALSE(open(sealed, nonce, as_bytes(ad), Secret()).has_value());
    // The unaltered input still opens (so the failures above are meaningful).
    EXPECT_TRUE(open(sealed, nonce, as_bytes(ad), key).has_value());
}

TEST(Crypto, SameInputsDifferentNoncesGiveDifferentCiphertexts)
{
    auto key = random_key();
    auto a = seal(as_bytes("same"), nonce_of(5), {}, key);
    auto b = seal(as_bytes("same"), nonce_of(6), {}, key);
    EXPECT_NE(a, b);
}

TEST(Crypto, HashIsBlake2b)
{
    std::array<std::uint8_t, 32> out{};
    hash(as_bytes("abc"), out);
    std::array<unsigned char, 32> ref{};
    crypto_generichash(ref.data(), ref.size(), reinterpret_cast<const unsigned char*>("abc"), 3, nullptr, 0);
    EXPECT_TRUE(std::equal(out.begin(), out.end(), ref.begin()));
    std::array<std::uint8_t, 16> short_out{};
    hash(as_bytes("abc"), short_out);
    std::array<std::uint8_t, 16> other{};
    hash(as_bytes("abd"), other);
    EXPECT_NE(short_out, other);
}

} // namespace
} // namespace pitool::crypto
