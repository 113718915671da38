// pitool identity new / show run as the real binary on real files
// (docs/team.md, "Identities"): the file's mode and format, the passphrase,
// damage and hostile KDF parameters, overwriting, --unprotected, the sources
// and their precedence, exec's environment, and no secret key in any output.
#include "cli/cli_fixture.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sodium.h>
#include <sys/stat.h>

#include <array>
#include <regex>

namespace pitool::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

/// The value of the line starting with `key ` in an identity file.
std::string identity_test_line(const std::string& file, const std::string& key)
{
    const std::size_t at = file.find("\n" + key + " ");
    if (at == std::string::npos) return {};
    const std::size_t from = at + key.size() + 2;
    return file.substr(from, file.find('\n', from) - from);
}

/// `text` (an identity file without its checksum line) with a correct
/// BLAKE2b-256 checksum line appended, as docs/team.md defines it.
std::string identity_test_checksummed(const std::string& text)
{
    std::array<unsigned char, 32> sum{};
    crypto_generichash(sum.data(), sum.size(), reinterpret_cast<const unsigned char*>(text.data()), text.size(),
                       nullptr, 0);
    char hex[65];
    sodium_bin2hex(hex, sizeof hex, sum.data(), sum.size());
    return text + "checksum " + hex + "\n";
}

/// The 64 secret bytes of an identity key line (base32, docs/team.md).
std::vector<unsigned char> identity_test_secret_bytes(const std::string& key_line)
{
    const std::string alphabet = "abcdefghijklmnopqrstuvwxyz234567";
    std::vector<unsigned char> out;
    unsigned buffer = 0;
    int bits = 0;
    for (char c : key_line.substr(std::string("pitool-identity1-").size())) {
        buffer = (buffer << 5) | static_cast<unsigned>(alphabet.find(c));
        bits += 5;
        if (bits >= 8) {
            out.push_back(static_cast<unsigned char>(buffer >> (bits - 8)));
            bits -= 8;
        }
    }
    out.resize(64);
    return out;
}

const std::regex k_recipient_line("pitool-recipient1-[a-z2-7]{109}\n");

class Identity : public CliTest {
protected:
    [[nodiscard]] std::filesystem::path default_file() const
    {
        return m_tmp.path() / ".env" / "xdg" / "data" / "pitool" / "identity";
    }
    /// identity new at `out` (default path when empty); its recipient string.
    std::string make(const std::string& out = {}, bool unprotected = false) const
    {
        std::vector<std::string> args{"identity", "new", "--kdf", "interactive"};
        if (!out.empty()) args.insert(args.end(), {"--out", out});
        if (unprotected) args.emplace_back("--unprotected");
        auto r = ok(args);
        return r.out.substr(0, r.out.size() - 1);
    }
};

TEST_F(Identity, NewWritesAPrivateFileAndPrintsTheRecipient)
{
    auto r = ok({"identity", "new", "--kdf", "interactive"});
    EXPECT_TRUE(std::regex_match(r.out, k_recipient_line)) << r.out;
    EXPECT_THAT(r.err, HasSubstr("Created identity " + default_file().string() + " (Argon2id interactive)"));
    struct stat st {};
    ASSERT_EQ(::stat(default_file().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    const std::string file = read_file(default_file());
    EXPECT_TRUE(file.starts_with("pitool-identity-file 1\nrecipient " + r.out)) << file;
    EXPECT_THAT(file, HasSubstr("\nkdf argon2id "));
    EXPECT_THAT(file, Not(HasSubstr("pitool-identity1-"))) << "no clear key in a protected file";
    EXPECT_THAT(file, Not(HasSubstr(std::string(k_passphrase))));

    auto j = ok_json({"--json", "identity", "new", "--kdf", "interactive", "--out", (m_tmp / "second").string()});
    EXPECT_EQ(j["protected"], true);
    EXPECT_EQ(j["kdf"], "interactive");
    EXPECT_EQ(j["path"], (m_tmp / "second").string());
    EXPECT_NE(j["recipient"], r.out.substr(0, r.out.size() - 1)) << "a new identity each time";
}

TEST_F(Identity, ShowNeedsNoPassphraseAndCheckNeedsIt)
{
    const std::string recipient = make();
    auto r = ok({"identity", "show"}, {.no_passphrase = true});
    EXPECT_EQ(r.out, recipient + "\n");
    EXPECT_EQ(r.err, "");
    auto j = ok_json({"--json", "identity", "show"}, {.no_passphrase = true});
    EXPECT_EQ(j["recipient"], recipient);
    EXPECT_EQ(j["source"], "default");
    EXPECT_EQ(j["protected"], true);
    EXPECT_EQ(ok({"identity", "show", "--check"}).out, recipient + "\n");
    auto no_pass = pitool({"identity", "show", "--check"}, {.no_passphrase = true});
    EXPECT_EQ(no_pass.exit_code, 2) << describe(no_pass);
    EXPECT_THAT(no_pass.err, HasSubstr("no passphrase"));
}

TEST_F(Identity, WrongPassphraseIsExit5AndSaysWhereItCameFrom)
{
    make();
    auto r = pitool({"identity", "show", "--check"}, {.env = {{"PITOOL_PASSPHRASE", "not-the-passphrase-at-all"}}});
    EXPECT_EQ(r.exit_code, 5) << describe(r);
    EXPECT_EQ(r.err, "pitool: error: wrong passphrase for the identity file " + default_file().string() +
                         " (passphrase from $PITOOL_PASSPHRASE)\n");
    const auto pass_file = m_tmp / "pass";
    write_file(pass_file, "also-not-the-passphrase\n");
    auto f = pitool({"--passphrase-file", pass_file.string(), "identity", "show", "--check"}, {.no_passphrase = true});
    EXPECT_EQ(f.exit_code, 5) << describe(f);
    EXPECT_THAT(f.err, HasSubstr("(passphrase from the file " + pass_file.string() + " (--passphrase-file))"));
}

TEST_F(Identity, ADamagedFileIsExit6)
{
    make();
    const std::string good = read_file(default_file());
    for (std::size_t at : {std::size_t{30}, good.find("\nsalt ") + 8, good.find("\nsealed ") + 20, good.size() - 5}) {
        std::string bad = good;
        bad[at] = bad[at] == 'a' ? 'b' : 'a';
        write_file(default_file(), bad);
        auto r = pitool({"identity", "show", "--check"});
        EXPECT_EQ(r.exit_code, 6) << "byte " << at << ": " << describe(r);
        EXPECT_THAT(r.err, HasSubstr("the identity file is damaged")) << r.err;
    }
    write_file(default_file(), good.substr(0, good.size() / 2));
    EXPECT_EQ(pitool({"identity", "show"}).exit_code, 6);
    write_file(default_file(), "pitool-identity-file 9\nrecipient x\n");
    auto future = pitool({"identity", "show"});
    EXPECT_EQ(future.exit_code, 6);
    EXPECT_THAT(future.err, HasSubstr("unsupported identity file version '9'"));
    write_file(default_file(), good);
    EXPECT_EQ(pitool({"identity", "show", "--check"}).exit_code, 0) << "the good file still opens";
}

TEST_F(Identity, HostileKdfParametersAreRefusedWithoutTheWork)
{
    make();
    const std::string good = read_file(default_file());
    const std::string kdf = identity_test_line(good, "kdf");
    for (const std::string hostile : {"argon2id 4294967295 67108864", "argon2id 2 1099511627776"}) {
        std::string bad = good;
        bad.replace(bad.find(kdf), kdf.size(), hostile);
        bad.erase(bad.rfind("checksum "));
        write_file(default_file(), identity_test_checksummed(bad));
        for (bool check : {false, true}) {
            std::vector<std::string> args{"identity", "show"};
            if (check) args.emplace_back("--check");
            auto r = pitool(args, {.timeout_seconds = 10});
            EXPECT_EQ(r.exit_code, 6) << hostile << ": " << describe(r);
            EXPECT_THAT(r.err, HasSubstr("Argon2id parameters are outside the accepted range")) << r.err;
        }
    }
    // The rewrite itself is sound: the original line, re-checksummed, opens.
    std::string same = good;
    same.erase(same.rfind("checksum "));
    write_file(default_file(), identity_test_checksummed(same));
    EXPECT_EQ(pitool({"identity", "show", "--check"}).exit_code, 0);
}

TEST_F(Identity, AnExistingIdentityIsReplacedOnlyWithForce)
{
    const std::string first = make();
    const std::string before = read_file(default_file());
    auto r = pitool({"identity", "new", "--kdf", "interactive"});
    EXPECT_EQ(r.exit_code, 4) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("an identity already exists at " + default_file().string()));
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(read_file(default_file()), before) << "left as it was";
    auto forced = ok({"identity", "new", "--kdf", "interactive", "--force"});
    EXPECT_NE(forced.out, first + "\n");
    EXPECT_EQ(ok({"identity", "show"}).out, forced.out);
}

TEST_F(Identity, UnprotectedSaysSoAndNeedsNoPassphrase)
{
    const auto file = m_tmp / "ci.identity";
    auto r = ok({"identity", "new", "--unprotected", "--out", file.string()}, {.no_passphrase = true});
    EXPECT_THAT(r.err, HasSubstr("without a passphrase"));
    EXPECT_THAT(r.err, HasSubstr("(unprotected)"));
    const std::string text = read_file(file);
    EXPECT_THAT(text, HasSubstr("\nkdf none\nkey pitool-identity1-"));
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    auto show = ok({"--identity", file.string(), "identity", "show", "--check"}, {.no_passphrase = true});
    EXPECT_EQ(show.out, r.out);
    auto j = ok_json({"--json", "--identity", file.string(), "identity", "show"}, {.no_passphrase = true});
    EXPECT_EQ(j["protected"], false);
}

TEST_F(Identity, SourcesFollowTheDocumentedPrecedence)
{
    const std::string by_default = make();
    const std::string by_flag = make((m_tmp / "flag.identity").string());
    const std::string by_file_var = make((m_tmp / "var.identity").string());
    const auto key_file = m_tmp / "key.identity";
    const std::string by_key_var = make(key_file.string(), true);
    const std::string key = identity_test_line(read_file(key_file), "key");
    ASSERT_TRUE(key.starts_with("pitool-identity1-"));

    const std::map<std::string, std::string> both{{"PITOOL_IDENTITY_FILE", (m_tmp / "var.identity").string()},
                                                  {"PITOOL_IDENTITY", key}};
    auto shown = [&](std::vector<std::string> args, std::map<std::string, std::string> env) {
        args.insert(args.end(), {"identity", "show"});
        return ok(args, {.env = std::move(env), .no_passphrase = true}).out;
    };
    EXPECT_EQ(shown({"--identity", (m_tmp / "flag.identity").string()}, both), by_flag + "\n");
    EXPECT_EQ(shown({}, both), by_file_var + "\n");
    EXPECT_EQ(shown({}, {{"PITOOL_IDENTITY", key}}), by_key_var + "\n");
    EXPECT_EQ(shown({}, {}), by_default + "\n");
    auto j = ok_json({"--json", "identity", "show"}, {.env = {{"PITOOL_IDENTITY", key}}, .no_passphrase = true});
    EXPECT_EQ(j["source"], "PITOOL_IDENTITY");
    EXPECT_TRUE(j["path"].is_null());
    // The key variable unlocks without a passphrase.
    EXPECT_EQ(ok({"identity", "show", "--check"}, {.env = {{"PITOOL_IDENTITY", key}}, .no_passphrase = true}).out,
              by_key_var + "\n");
}

TEST_F(Identity, MissingOrMistypedSourcesAreNamed)
{
    auto none = pitool({"identity", "show"});
    EXPECT_EQ(none.exit_code, 3) << describe(none);
    EXPECT_THAT(none.err, HasSubstr("make one with `pitool identity new`"));
    auto flag = pitool({"--identity", (m_tmp / "nope").string(), "identity", "show"});
    EXPECT_EQ(flag.exit_code, 3);
    EXPECT_THAT(flag.err, HasSubstr((m_tmp / "nope").string() + " (--identity)"));

    const auto key_file = m_tmp / "key.identity";
    make(key_file.string(), true);
    std::string key = identity_test_line(read_file(key_file), "key");
    key[40] = key[40] == 'a' ? 'b' : 'a';
    auto typo = pitool({"identity", "show"}, {.env = {{"PITOOL_IDENTITY", key}}});
    EXPECT_EQ(typo.exit_code, 6) << describe(typo);
    EXPECT_THAT(typo.err, HasSubstr("$PITOOL_IDENTITY: the identity key: the checksum does not match"));
    EXPECT_THAT(typo.err, Not(HasSubstr(key.substr(17, 12)))) << "the key is never quoted";

    // A file others may read is refused, as a vault is.
    ::chmod(key_file.c_str(), 0644);
    auto open = pitool({"--identity", key_file.string(), "identity", "show"});
    EXPECT_EQ(open.exit_code, 10) << describe(open);
}

TEST_F(Identity, ExecRemovesTheIdentityVariables)
{
    init_vault();
    create_pit("a", k_token);
    const auto key_file = m_tmp / "key.identity";
    make(key_file.string(), true);
    const std::string key = identity_test_line(read_file(key_file), "key");
    auto r = ok({"exec", "a", "--", "/usr/bin/env"},
                {.env = {{"PITOOL_IDENTITY", key}, {"PITOOL_IDENTITY_FILE", key_file.string()}}});
    EXPECT_THAT(r.out, HasSubstr("PITOOL_TOKEN=" + std::string(k_token)));
    EXPECT_THAT(r.out, Not(HasSubstr("PITOOL_IDENTITY")));
    EXPECT_THAT(r.out, Not(HasSubstr(key.substr(17, 16))));
    EXPECT_THAT(r.out, HasSubstr("PATH=")) << "the rest of the environment is kept";
}

TEST_F(Identity, NoSecretKeyBytesInAnyOutput)
{
    const auto file = m_tmp / "ci.identity";
    std::vector<RunResult> runs;
    // Every key this test makes (the --force run replaces the first one):
    // each run is checked against all of them.
    std::vector<std::string> keys;
    runs.push_back(ok({"-v", "identity", "new", "--unprotected", "--out", file.string()}));
    keys.push_back(identity_test_line(read_file(file), "key"));
    runs.push_back(ok({"-v", "--json", "identity", "new", "--unprotected", "--out", file.string(), "--force"}));
    keys.push_back(identity_test_line(read_file(file), "key"));
    ASSERT_FALSE(keys[0].empty());
    ASSERT_NE(keys[0], keys[1]);
    const std::string& key = keys[1];
    for (const auto& args : std::vector<std::vector<std::string>>{{"-v", "identity", "show", "--check"},
                                                                  {"-v", "--json", "identity", "show", "--check"}}) {
        auto with_flag = args;
        with_flag.insert(with_flag.begin(), {"--identity", file.string()});
        runs.push_back(ok(with_flag));
        runs.push_back(ok(args, {.env = {{"PITOOL_IDENTITY", key}}}));
    }
    // Each 32-byte secret half as hex and as base64 (both alphabets), and
    // the key line; any 12 consecutive characters of them would be a leak.
    std::vector<std::string> forms;
    for (const auto& k : keys) {
        forms.push_back(k.substr(17));
        const auto secret = identity_test_secret_bytes(k);
        for (std::size_t half : {0u, 32u}) {
            char hex[65];
            sodium_bin2hex(hex, sizeof hex, secret.data() + half, 32);
            forms.emplace_back(hex);
            for (int variant : {sodium_base64_VARIANT_ORIGINAL, sodium_base64_VARIANT_URLSAFE_NO_PADDING}) {
                std::string b64(sodium_base64_ENCODED_LEN(32, variant), '\0');
                sodium_bin2base64(b64.data(), b64.size(), secret.data() + half, 32, variant);
                forms.push_back(b64.substr(0, b64.find('\0')));
            }
        }
    }
    for (const auto& r : runs)
        for (const auto& form : forms)
            for (std::size_t at = 0; at + 12 <= form.size(); ++at) {
                EXPECT_THAT(r.out, Not(HasSubstr(form.substr(at, 12))));
                EXPECT_THAT(r.err, Not(HasSubstr(form.substr(at, 12))));
            }
}

} // namespace
} // namespace pitool::test
