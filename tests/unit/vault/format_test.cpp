#include "pitool/vault/format.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <string>

namespace pitool::vault {
namespace {

constexpr crypto::KdfParams k_format_fast{crypto_pwhash_OPSLIMIT_MIN, 8192};

Recipient recipient(std::uint8_t seed)
{
    Recipient r;
    r.params = k_format_fast;
    for (std::size_t i = 0; i < r.salt.size(); ++i) r.salt[i] = static_cast<std::uint8_t>(seed + i);
    for (std::size_t i = 0; i < r.wrap_nonce.size(); ++i) r.wrap_nonce[i] = static_cast<std::uint8_t>(seed * 3 + i);
    for (std::size_t i = 0; i < r.wrapped_key.size(); ++i) r.wrapped_key[i] = static_cast<std::uint8_t>(seed ^ i);
    return r;
}

Header header(std::size_t recipients = 1, std::uint64_t payload_len = 40)
{
    Header h;
    for (std::size_t i = 0; i < recipients; ++i)
        h.recipients.push_back(recipient(static_cast<std::uint8_t>(10 * i + 1)));
    for (std::size_t i = 0; i < h.payload_nonce.size(); ++i) h.payload_nonce[i] = static_cast<std::uint8_t>(200 - i);
    h.payload_len = payload_len;
    h.data_id = 42;
    for (std::size_t i = 0; i < h.vault_id.size(); ++i) h.vault_id[i] = static_cast<std::uint8_t>(0xa0 + i);
    h.generation = 7;
    return h;
}

std::vector<std::uint8_t> file_of(const Header& h)
{
    auto out = encode_header(h);
    for (std::uint64_t i = 0; i < h.payload_len; ++i) out.push_back(static_cast<std::uint8_t>(i * 7));
    return out;
}

void expect_damaged(std::span<const std::uint8_t> file, const std::string& needle, const std::string& why)
{
    auto r = parse(file);
    ASSERT_FALSE(r) << why;
    EXPECT_EQ(r.error().code, Errc::damaged) << why;
    if (!needle.empty()) {
        EXPECT_NE(r.error().message.find(needle), std::string::npos) << why << ": " << r.error().message;
    }
}

void put_le(std::vector<std::uint8_t>& b, std::size_t at, std::uint64_t v, int n)
{
    for (int i = 0; i < n; ++i) b[at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v >> (8 * i));
}

// Recomputes the checksum of a header we edited by hand, so only the edit is wrong.
void reseal_checksum(std::vector<std::uint8_t>& file, std::size_t recipients)
{
    std::size_t hsize = header_size(recipients);
    std::array<std::uint8_t, k_checksum_bytes> sum{};
    crypto::hash(std::span<const std::uint8_t>(file).first(hsize - k_checksum_bytes), sum);
    std::copy(sum.begin(), sum.end(), file.begin() + static_cast<std::ptrdiff_t>(hsize - k_checksum_bytes));
}

TEST(Format, HeaderLayoutIsStable)
{
    EXPECT_EQ(header_size(1, 2), 16u + 112u + 24u + 8u + 16u);
    EXPECT_EQ(header_size(1, 3), 16u + 112u + 8u + 24u + 8u + 16u); // v3: the data file id
    // v4: the data file id, the vault id and the generation.
    EXPECT_EQ(header_size(1), 16u + 112u + 8u + 16u + 8u + 24u + 8u + 16u);
    auto bytes = encode_header(header());
    ASSERT_EQ(bytes.size(), header_size(1));
    EXPECT_EQ(std::string(bytes.begin(), bytes.begin() + 8), "PITVAULT");
    EXPECT_EQ(bytes[8], 4);      // version, little endian
    EXPECT_EQ(bytes[128], 42);   // data id, little endian, after the recipient
    EXPECT_EQ(bytes[136], 0xa0); // vault id, after the data id
    EXPECT_EQ(bytes[151], 0xaf);
    EXPECT_EQ(bytes[152], 7); // generation, little endian, after the vault id
    EXPECT_EQ(bytes[159], 0);
    EXPECT_EQ(bytes[9], 0);
    EXPECT_EQ(bytes[12], 1); // recipient count
    EXPECT_EQ(bytes[16], 1); // recipient type: passphrase
    EXPECT_EQ(bytes[17], k_kdf_argon2id13);
    EXPECT_EQ(bytes[24], crypto_pwhash_OPSLIMIT_MIN); // opslimit LE
    EXPECT_EQ(bytes[32], 0x00);                       // memlimit 8192 = 0x2000 LE
    EXPECT_EQ(bytes[33], 0x20);
}

TEST(Format, EncodeParseRoundTrip)
{
    for (std::size_t n : {std::size_t{1}, std::size_t{2}, k_max_recipients}) {
        Header h = header(n, 123);
        auto file = file_of(h);
        auto r = parse(file);
        ASSERT_TRUE(r) << r.error().message;
        const Header& g = r->header;
        EXPECT_EQ(g.version, k_format_version);
        ASSERT_EQ(g.recipients.size(), n);
        for (std::size_t i = 0; i < n; ++i) {
            EXPECT_EQ(g.recipients[i].type, RecipientType::passphrase);
            EXPECT_EQ(g.recipients[i].kdf, k_kdf_argon2id13);
            EXPECT_EQ(g.recipients[i].params.opslimit, h.recipients[i].params.opslimit);
            EXPECT_EQ(g.recipients[i].params.memlimit, h.recipients[i].params.memlimit);
            EXPECT_EQ(g.recipients[i].salt, h.recipients[i].salt);
            EXPECT_EQ(g.recipients[i].wrap_nonce, h.recipients[i].wrap_nonce);
            EXPECT_EQ(g.recipients[i].wrapped_key, h.recipients[i].wrapped_key);
        }
        EXPECT_EQ(g.payload_nonce, h.payload_nonce);
        EXPECT_EQ(g.vault_id, h.vault_id);
        EXPECT_EQ(g.generation, 7u);
        EXPECT_EQ(g.payload_len, 123u);
        EXPECT_EQ(r->header_bytes.size(), header_size(n));
        EXPECT_EQ(r->header_bytes.data(), file.data());
        EXPECT_EQ(r->ciphertext.size(), 123u);
        EXPECT_EQ(r->ciphertext.data(), file.data() + header_size(n));
        EXPECT_EQ(encode_header(g), encode_header(h)); // re-encodes identically
    }
}

TEST(Format, BadMagicIsNotAVault)
{
    auto file = file_of(header());
    for (std::size_t i = 0; i < k_magic.size(); ++i) {
        auto bad = file;
        bad[i] = static_cast<std::uint8_t>(bad[i] ^ 0x20);
        expect_damaged(bad, "not a pitool vault", "magic byte " + std::to_string(i));
    }
    std::string text = "{\"schema\":1}";
    expect_damaged(std::vector<std::uint8_t>(text.begin(), text.end()), "not a pitool vault", "json");
    expect_damaged({}, "not a pitool vault", "empty");
}

TEST(Format, UnsupportedVersion)
{
    for (std::uint16_t v : {std::uint16_t{0}, std::uint16_t{5}, std::uint16_t{0x0100}, std::uint16_t{0xffff}}) {
        Header h = header();
        h.version = v;
        auto file = file_of(h); // a valid checksum: the version itself is the problem
        expect_damaged(file, "version " + std::to_string(v) + " is not supported", "version " + std::to_string(v));
    }
}

TEST(Format, TruncatedAtEveryLength)
{
    for (std::size_t n : {std::size_t{1}, std::size_t{3}}) {
        auto file = file_of(header(n, 40));
        for (std::size_t len = 0; len < file.size(); ++len) {
            auto r = parse(std::span<const std::uint8_t>(file).first(len));
            ASSERT_FALSE(r) << "length " << len;
            EXPECT_EQ(r.error().code, Errc::damaged) << "length " << len;
            if (len >= k_magic.size()) {
                EXPECT_NE(r.error().message.find("truncated"), std::string::npos)
                    << "length " << len << ": " << r.error().message;
            }
        }
        EXPECT_TRUE(parse(file));
    }
}

TEST(Format, TrailingBytes)
{
    // Version 1 is one payload: nothing may follow it.
    Header h = header();
    h.version = k_format_v1;
    auto file = file_of(h);
    ASSERT_TRUE(parse(file));
    file.push_back(0);
    expect_damaged(file, "trailing bytes", "one extra byte");
}

TEST(Format, VersionFourCarriesTheVaultIdAndGeneration)
{
    Header h = header(1, 40);
    ASSERT_EQ(h.version, 4);
    h.generation = 0x0102030405060708ULL;
    auto r = parse(file_of(h));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(has_vault_id(r->header));
    EXPECT_EQ(r->header.vault_id, h.vault_id);
    EXPECT_EQ(r->header.generation, 0x0102030405060708ULL);
    EXPECT_EQ(header_size(1, 4), header_size(1, 3) + 24);
    Header zero_id = h;
    zero_id.vault_id = {};
    EXPECT_FALSE(has_vault_id(zero_id));
    expect_damaged(file_of(zero_id), "no vault id", "vault id all zero");
    Header zero_gen = h;
    zero_gen.generation = 0;
    expect_damaged(file_of(zero_gen), "generation 0", "generation 0");
    // Older versions have neither, whatever the struct holds.
    Header v3 = h;
    v3.version = k_format_v3;
    EXPECT_FALSE(has_vault_id(v3));
    auto old = parse(file_of(v3));
    ASSERT_TRUE(old) << old.error().message;
    EXPECT_EQ(old->header.generation, 0u);
    EXPECT_FALSE(has_vault_id(old->header));
}

TEST(Format, VersionThreeIsHeaderAndIndexOnly)
{
    Header h = header(1, 40);
    h.version = k_format_v3;
    h.data_id = 0x0123456789abcdefULL;
    auto file = file_of(h);
    auto r = parse(file);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->header.data_id, 0x0123456789abcdefULL);
    EXPECT_EQ(r->header_bytes.size(), header_size(1, 3));
    EXPECT_EQ(header_size(1, 3), header_size(1, 2) + 8);
    file.push_back(0);
    expect_damaged(file, "trailing bytes", "boxes live in the data file");
    h.data_id = 0;
    expect_damaged(file_of(h), "names no data file", "data id 0");
}

TEST(Format, VersionTwoKeepsItsBoxesAfterTheIndex)
{
    Header h = header(1, 40);
    h.version = k_format_v2;
    auto file = file_of(h);
    const std::vector<std::uint8_t> boxes{1, 2, 3, 4, 5};
    file.insert(file.end(), boxes.begin(), boxes.end());
    auto r = parse(file);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->ciphertext.size(), 40u);
    EXPECT_EQ(std::vector<std::uint8_t>(r->data.begin(), r->data.end()), boxes);
}

TEST(Format, ChecksumCatchesAFlippedBitAtEveryHeaderByte)
{
    const auto file = file_of(header(2, 40));
    const std::size_t hsize = header_size(2);
    for (std::size_t i = k_magic.size(); i < hsize; ++i) {
        for (std::uint8_t bit : {std::uint8_t{0x01}, std::uint8_t{0x10}, std::uint8_t{0x80}}) {
            auto bad = file;
            bad[i] = static_cast<std::uint8_t>(bad[i] ^ bit);
            auto r = parse(bad);
            ASSERT_FALSE(r) << "byte " << i << " bit " << int{bit};
            EXPECT_EQ(r.error().code, Errc::damaged);
            // The version, flags and count are judged before the checksum;
            // everything else must be caught by it.
            bool judged_first = (i >= 8 && i < 13);
            if (!judged_first) {
                EXPECT_NE(r.error().message.find("checksum"), std::string::npos)
                    << "byte " << i << ": " << r.error().message;
            }
        }
    }
    // A flipped bit in the ciphertext is not the header's business.
    auto body = file;
    body[hsize + 3] = static_cast<std::uint8_t>(body[hsize + 3] ^ 0x01);
    EXPECT_TRUE(parse(body));
}

TEST(Format, InvalidRecipientCount)
{
    for (std::uint8_t count : {std::uint8_t{0}, std::uint8_t{17}, std::uint8_t{255}}) {
        auto file = file_of(header());
        file[12] = count;
        expect_damaged(file, "recipient count", "count " + std::to_string(count));
    }
    // A count larger than the real recipients but within bounds: the header
    // is now too short for it (or the checksum is off).
    auto file = file_of(header(1, 40));
    file[12] = 2;
    expect_damaged(file, "", "count 2 with one recipient");
}

TEST(Format, UnknownFlagsAreRejected)
{
    auto file = file_of(header());
    file[10] = 1;
    reseal_checksum(file, 1);
    expect_damaged(file, "flags", "flags");
}

TEST(Format, HostileKdfParamsWithValidChecksumAreRefused)
{
    // A valid checksum cannot vouch for the parameters: the checksum is not a
    // MAC. parse() must refuse them itself, before anyone runs the KDF.
    struct Case {
        std::uint64_t ops, mem;
    };
    for (Case c : {Case{1, 1ULL << 40}, Case{1ULL << 40, 8192}, Case{0, 8192}, Case{1, 1024}, Case{~0ULL, ~0ULL}}) {
        Header h = header();
        h.recipients[0].params = {c.ops, c.mem};
        auto file = file_of(h);
        expect_damaged(file, "KDF parameters", std::to_string(c.ops) + "/" + std::to_string(c.mem));
    }
    // Same via hand-edited bytes and a resealed checksum, on the second recipient.
    auto file = file_of(header(2, 40));
    put_le(file, k_prefix_bytes + k_recipient_bytes + 16, 1ULL << 36, 8); // memlimit of recipient #2
    reseal_checksum(file, 2);
    expect_damaged(file, "KDF parameters", "second recipient");
}

TEST(Format, TotalKdfWorkAcrossRecipientsIsBounded)
{
    // A wrong passphrase tries every recipient: one at the cap is accepted,
    // two at the cap (or sixteen) would double (or multiply by 16) the work.
    Header one = header(1);
    one.recipients[0].params = {crypto::k_max_opslimit, crypto::k_max_memlimit};
    EXPECT_TRUE(parse(file_of(one)));
    for (std::size_t n : {std::size_t{2}, k_max_recipients}) {
        Header h = header(n);
        for (auto& r : h.recipients) r.params = {crypto::k_max_opslimit, crypto::k_max_memlimit};
        expect_damaged(file_of(h), "key derivation work", std::to_string(n) + " recipients at the cap");
    }
    // Many cheap recipients are fine.
    EXPECT_TRUE(parse(file_of(header(k_max_recipients))));
}

TEST(Format, UnknownRecipientTypeOrKdf)
{
    auto file = file_of(header());
    file[16] = 2;
    reseal_checksum(file, 1);
    expect_damaged(file, "unknown type", "type");
    file = file_of(header());
    file[17] = 1; // argon2i
    reseal_checksum(file, 1);
    expect_damaged(file, "key derivation", "kdf");
}

TEST(Format, PayloadLengthBounds)
{
    for (std::uint64_t len :
         {std::uint64_t{0}, std::uint64_t{crypto::k_tag_bytes - 1}, k_max_payload_bytes + 1, ~std::uint64_t{0}}) {
        Header h = header(1, len);
        auto file = encode_header(h);
        file.resize(file.size() + 64); // whatever follows
        expect_damaged(file, "payload length", std::to_string(len));
    }
    Header tag_only = header(1, crypto::k_tag_bytes);
    EXPECT_TRUE(parse(file_of(tag_only)));
}

TEST(Format, PayloadShorterThanHeaderSays)
{
    Header h = header(1, 100);
    auto file = encode_header(h);
    file.resize(file.size() + 99);
    expect_damaged(file, "truncated", "99 of 100");
}

TEST(Format, RecipientAdBindsParamsAndSalt)
{
    Recipient a = recipient(1);
    Recipient b = a;
    EXPECT_EQ(recipient_ad(a), recipient_ad(b));
    b.params.opslimit = 2;
    EXPECT_NE(recipient_ad(a), recipient_ad(b));
    b = a;
    b.salt[0] = static_cast<std::uint8_t>(b.salt[0] ^ 1);
    EXPECT_NE(recipient_ad(a), recipient_ad(b));
    b = a;
    b.wrap_nonce[5] = static_cast<std::uint8_t>(b.wrap_nonce[5] ^ 1);
    EXPECT_NE(recipient_ad(a), recipient_ad(b));
    b = a;
    b.wrapped_key[0] =
        static_cast<std::uint8_t>(b.wrapped_key[0] ^ 1); // the wrapped key is authenticated by its own tag
    EXPECT_EQ(recipient_ad(a), recipient_ad(b));
    auto ad = recipient_ad(a);
    EXPECT_EQ(std::string(ad.begin(), ad.begin() + 8), "PITVAULT");
}

} // namespace
} // namespace pitool::vault
