// The identity formats of docs/team.md: the recipient string (a typo is
// caught), the identity key line, and the identity file (protected and
// unprotected, damage, hostile KDF parameters, wrong passphrase).
#include "pitool/identity/identity.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <string>

namespace pitool::identity {
namespace {

constexpr crypto::KdfParams k_id_fast_kdf{crypto_pwhash_OPSLIMIT_MIN, 8192};

/// A fixed identity, so the every-typo test is deterministic.
Identity fixed_identity()
{
    Secret box(crypto::k_box_secret_key_bytes), seed(crypto::k_sign_seed_bytes);
    for (std::size_t i = 0; i < 32; ++i) {
        box.data()[i] = static_cast<unsigned char>(7 * i + 1);
        seed.data()[i] = static_cast<unsigned char>(11 * i + 3);
    }
    auto b = crypto::box_key_pair_from(std::move(box));
    auto s = crypto::sign_key_pair_from_seed(seed);
    return {std::move(b).value(), std::move(s).value()};
}

std::string id_text_of(const SecureBytes& b)
{
    return {b.begin(), b.end()};
}
SecureBytes id_bytes_from(const std::string& s)
{
    return {s.begin(), s.end()};
}

TEST(IdentityRecipient, RoundTripsAndHasTheDocumentedShape)
{
    const Identity id = generate();
    const std::string r = encode_recipient(id.recipient());
    EXPECT_TRUE(r.starts_with("pitool-recipient1-"));
    EXPECT_EQ(r.size(), k_recipient_prefix.size() + k_encoded_chars);
    EXPECT_EQ(r.find_first_not_of("abcdefghijklmnopqrstuvwxyz234567", k_recipient_prefix.size()), std::string::npos)
        << r;
    auto back = parse_recipient(r);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_TRUE(*back == id.recipient());
    EXPECT_TRUE(parse_recipient("  " + r + "\n").ok()) << "pasted with spaces and a newline";
    std::string upper = r;
    for (std::size_t i = k_recipient_prefix.size(); i < upper.size(); ++i)
        upper[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(upper[i])));
    EXPECT_TRUE(parse_recipient(upper).ok()) << "the alphabet is read in either case";
}

TEST(IdentityRecipient, EveryOneCharacterTypoIsDetected)
{
    const std::string r = encode_recipient(fixed_identity().recipient());
    const std::string alphabet = "abcdefghijklmnopqrstuvwxyz234567";
    int tried = 0;
    for (std::size_t i = k_recipient_prefix.size(); i < r.size(); ++i)
        for (char c : alphabet) {
            if (c == r[i]) continue;
            std::string typo = r;
            typo[i] = c;
            auto p = parse_recipient(typo);
            ASSERT_FALSE(p.ok()) << "a typo at " << i << " went unseen";
            EXPECT_EQ(p.error().code, Errc::usage);
            EXPECT_NE(p.error().message.find("checksum does not match"), std::string::npos) << p.error().message;
            ++tried;
        }
    EXPECT_EQ(tried, 109 * 31);
}

TEST(IdentityRecipient, SwapsDeletionsAndStrayCharactersAreNamed)
{
    const std::string r = encode_recipient(fixed_identity().recipient());
    for (std::size_t i = k_recipient_prefix.size(); i + 1 < r.size(); ++i) {
        if (r[i] == r[i + 1]) continue;
        std::string swapped = r;
        std::swap(swapped[i], swapped[i + 1]);
        EXPECT_FALSE(parse_recipient(swapped).ok()) << "swap at " << i;
    }
    auto shorter = parse_recipient(r.substr(0, r.size() - 1));
    ASSERT_FALSE(shorter.ok());
    EXPECT_NE(shorter.error().message.find("characters are missing"), std::string::npos) << shorter.error().message;
    auto longer = parse_recipient(r + "a");
    ASSERT_FALSE(longer.ok());
    EXPECT_NE(longer.error().message.find("characters are extra"), std::string::npos);
    std::string one = r;
    one[30] = '1';
    auto bad = parse_recipient(one);
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().message, "the recipient string: character 31 is not one of a-z and 2-7 (found '1')");
    auto prefix = parse_recipient("age1" + r.substr(k_recipient_prefix.size()));
    ASSERT_FALSE(prefix.ok());
    EXPECT_NE(prefix.error().message.find("does not start with pitool-recipient1-"), std::string::npos);
}

TEST(IdentityRecipient, TheLastCharactersPaddingBitMustBeZero)
{
    // 109 characters carry 545 bits for 544: the spare bit set is another
    // spelling of the same bytes, so it is refused.
    std::string r = encode_recipient(fixed_identity().recipient());
    const std::string alphabet = "abcdefghijklmnopqrstuvwxyz234567";
    const std::size_t v = alphabet.find(r.back());
    ASSERT_EQ(v % 2, 0u);
    r.back() = alphabet[v + 1];
    EXPECT_FALSE(parse_recipient(r).ok());
}

TEST(IdentityRecipient, AnIdentityKeyIsNotTakenForARecipient)
{
    const Identity id = generate();
    const SecureString key = encode_identity_key(id);
    auto p = parse_recipient(std::string_view(key.data(), key.size()));
    ASSERT_FALSE(p.ok());
    EXPECT_NE(p.error().message.find("secret key, not a recipient string"), std::string::npos);
    EXPECT_EQ(p.error().message.find(std::string_view(key.data(), key.size()).substr(17, 8)), std::string::npos);
}

TEST(IdentityKey, RoundTripsAndNeverQuotesItselfInErrors)
{
    const Identity id = generate();
    const SecureString key = encode_identity_key(id);
    const std::string_view text(key.data(), key.size());
    EXPECT_TRUE(text.starts_with("pitool-identity1-"));
    auto back = parse_identity_key(text);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_TRUE(back->recipient() == id.recipient());
    EXPECT_TRUE(back->box.secret_key.equals(id.box.secret_key));
    EXPECT_TRUE(back->sign.secret_key.equals(id.sign.secret_key));

    std::string typo(text);
    typo[40] = typo[40] == 'a' ? 'b' : 'a';
    auto bad = parse_identity_key(typo);
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().code, Errc::damaged);
    EXPECT_EQ(bad.error().message.find(typo.substr(17, 6)), std::string::npos) << bad.error().message;
    std::string stray(text);
    stray[50] = '!';
    auto st = parse_identity_key(stray);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().message.find('!'), std::string::npos) << st.error().message;
}

TEST(IdentityFile, ProtectedFileOpensWithItsPassphraseOnly)
{
    const Identity id = generate();
    const Secret pass = Secret::from("correct horse battery");
    auto file = make_file(id, &pass, k_id_fast_kdf);
    ASSERT_TRUE(file.ok()) << file.error().message;
    const std::string text = id_text_of(*file);
    EXPECT_TRUE(text.starts_with("pitool-identity-file 1\nrecipient " + encode_recipient(id.recipient()) + "\n"));
    EXPECT_EQ(text.find("pitool-identity1-"), std::string::npos) << "no key line in a protected file";

    auto info = read_file_info(*file);
    ASSERT_TRUE(info.ok()) << info.error().message;
    EXPECT_TRUE(info->recipient == id.recipient());
    ASSERT_TRUE(info->kdf.has_value());
    EXPECT_EQ(info->kdf->opslimit, k_id_fast_kdf.opslimit);

    auto opened = open_file(*file, &pass);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    EXPECT_TRUE(opened->box.secret_key.equals(id.box.secret_key));
    EXPECT_TRUE(opened->sign.secret_key.equals(id.sign.secret_key));

    const Secret wrong = Secret::from("correct horse battery!");
    auto w = open_file(*file, &wrong);
    ASSERT_FALSE(w.ok());
    EXPECT_EQ(w.error().code, Errc::wrong_passphrase);
    auto none = open_file(*file, nullptr);
    ASSERT_FALSE(none.ok());
    EXPECT_EQ(none.error().code, Errc::usage);
}

TEST(IdentityFile, UnprotectedFileHoldsTheKeyLine)
{
    const Identity id = generate();
    auto file = make_file(id, nullptr, {});
    ASSERT_TRUE(file.ok());
    const std::string text = id_text_of(*file);
    const SecureString key = encode_identity_key(id);
    EXPECT_NE(text.find("\nkdf none\nkey " + std::string(key.begin(), key.end()) + "\n"), std::string::npos) << text;
    auto info = read_file_info(*file);
    ASSERT_TRUE(info.ok());
    EXPECT_FALSE(info->kdf.has_value());
    auto opened = open_file(*file, nullptr);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    EXPECT_TRUE(opened->recipient() == id.recipient());
}

TEST(IdentityFile, AnyDamagedByteIsCaught)
{
    const Identity id = generate();
    const Secret pass = Secret::from("correct horse battery");
    for (const Secret* p : {&pass, static_cast<const Secret*>(nullptr)}) {
        auto file = make_file(id, p, k_id_fast_kdf);
        ASSERT_TRUE(file.ok());
        for (std::size_t i = 0; i < file->size(); ++i) {
            SecureBytes bad = *file;
            bad[i] ^= 0x04;
            auto r = open_file(bad, p);
            ASSERT_FALSE(r.ok()) << "byte " << i;
            EXPECT_EQ(r.error().code, Errc::damaged) << "byte " << i << ": " << r.error().message;
        }
        SecureBytes cut(file->begin(), file->end() - 10);
        EXPECT_EQ(read_file_info(cut).error().code, Errc::damaged);
    }
    auto other = read_file_info(id_bytes_from("just some file\n"));
    ASSERT_FALSE(other.ok());
    EXPECT_EQ(other.error().message, "not a pitool identity file");
    auto future = read_file_info(id_bytes_from("pitool-identity-file 2\nwhatever\n"));
    ASSERT_FALSE(future.ok());
    EXPECT_EQ(future.error().code, Errc::damaged);
    EXPECT_NE(future.error().message.find("unsupported identity file version '2'"), std::string::npos);
}

/// `text` (an identity file) with its checksum line made right again: what
/// a hostile file looks like (the checksum only catches accidents).
SecureBytes with_checksum_fixed(std::string text)
{
    text.erase(text.rfind("checksum "));
    std::array<std::uint8_t, 32> sum{};
    crypto::hash({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}, sum);
    char hex[65];
    sodium_bin2hex(hex, sizeof hex, sum.data(), sum.size());
    return id_bytes_from(text + "checksum " + hex + "\n");
}

/// `file` with its kdf line replaced, checksum fixed.
SecureBytes with_kdf_line(const SecureBytes& file, const std::string& kdf_line)
{
    std::string text = id_text_of(file);
    const std::size_t at = text.find("\nkdf ") + 1;
    text.replace(at, text.find('\n', at) - at, kdf_line);
    return with_checksum_fixed(std::move(text));
}

/// `file` claiming `other`'s recipient string instead of its own, checksum fixed.
SecureBytes with_recipient_of(const SecureBytes& file, const Identity& id, const Identity& other)
{
    std::string text = id_text_of(file);
    const std::string mine = encode_recipient(id.recipient());
    text.replace(text.find(mine), mine.size(), encode_recipient(other.recipient()));
    return with_checksum_fixed(std::move(text));
}

TEST(IdentityFile, HostileKdfParametersAreRefusedBeforeAnyWork)
{
    const Identity id = generate();
    const Secret pass = Secret::from("correct horse battery");
    auto file = make_file(id, &pass, k_id_fast_kdf);
    ASSERT_TRUE(file.ok());
    // Sanity: the rewrite itself keeps a good line good.
    EXPECT_TRUE(read_file_info(with_kdf_line(*file, "kdf argon2id 1 8192")).ok());
    for (const std::string line :
         {"kdf argon2id 4294967295 8192", "kdf argon2id 1 1099511627776", "kdf argon2id 0 8192", "kdf argon2id 1 1"}) {
        // Refused when the clear part is read, before any key derivation.
        auto info = read_file_info(with_kdf_line(*file, line));
        ASSERT_FALSE(info.ok()) << line;
        EXPECT_EQ(info.error().code, Errc::damaged) << line;
        EXPECT_NE(info.error().message.find("its Argon2id parameters are outside the accepted range"),
                  std::string::npos)
            << info.error().message;
        auto r = open_file(with_kdf_line(*file, line), &pass);
        ASSERT_FALSE(r.ok()) << line;
        EXPECT_EQ(r.error().code, Errc::damaged) << line;
        EXPECT_EQ(r.error().message, info.error().message);
    }
    for (const std::string line :
         {"kdf argon2id 01 8192", "kdf argon2id 1", "kdf scrypt 1 8192", "kdf argon2id -1 8"}) {
        auto r = read_file_info(with_kdf_line(*file, line));
        ASSERT_FALSE(r.ok()) << line;
        EXPECT_EQ(r.error().code, Errc::damaged) << line;
    }
}

TEST(IdentityFile, ARecipientLineThatLiesIsCaughtAtOpen)
{
    // Unprotected: the keys in the file do not give the recipient it claims.
    const Identity id = generate();
    const Identity other = generate();
    auto file = make_file(id, nullptr, {});
    ASSERT_TRUE(file.ok());
    auto r = open_file(with_recipient_of(*file, id, other), nullptr);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::damaged);
    EXPECT_NE(r.error().message.find("do not match its recipient line"), std::string::npos) << r.error().message;
}

TEST(IdentityFile, TheSealedKeysAreBoundToTheClearLines)
{
    // Protected: the clear lines are the sealed box's associated data, so
    // the box itself refuses to open (were they not bound, it would open and
    // only the recipient comparison would object, with Errc::damaged).
    const Identity id = generate();
    const Identity other = generate();
    const Secret pass = Secret::from("correct horse battery");
    auto file = make_file(id, &pass, k_id_fast_kdf);
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE(open_file(with_checksum_fixed(id_text_of(*file)), &pass).ok()) << "the rewrite alone changes nothing";
    auto r = open_file(with_recipient_of(*file, id, other), &pass);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::wrong_passphrase) << r.error().message;
}

} // namespace
} // namespace pitool::identity
