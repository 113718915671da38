// A wrong passphrase, a damaged file and a vault that is not a safe regular
// file: each has its own exit code and one-line message, and no failed
// command changes a byte of any file in the vault directory (the vault, its
// backup, its data file, the lock file).
#include "cli/cli_fixture.hpp"
#include "support/vault_snapshot.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <sstream>

namespace pitool::test {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

class VaultDamage : public CliTest {
protected:
    void SetUp() override
    {
        init_vault();
        create_pit("a", k_token);
        rotate("a", k_token2); // also leaves a vault.bak
        m_good = vault_bytes();
        m_bak = read_file(backup());
    }

    [[nodiscard]] std::filesystem::path backup() const { return m_dir / "vault.bak"; }

    /// Runs reads, every write and passwd; each must exit `code` with a
    /// one-line stderr and leave every file of the vault directory alone. A
    /// few also run with --json, which must give one JSON error document.
    void expect_every_command_fails(int code, const Call& base = {})
    {
        const VaultSnapshot damaged(m_dir);
        struct Cmd {
            std::vector<std::string> args;
            bool json_too;
        };
        const std::vector<Cmd> commands{
            {{"list"}, true},
            {{"show", "a"}, false},
            {{"get", "a"}, true},
            {{"get", "a", "--old"}, false},
            {{"history"}, false},
            {{"audit"}, false},
            {{"exec", "a", "--", "/bin/true"}, false},
            {{"create", "b", "--provider", "hint", "--token-stdin"}, true},
            {{"rotate", "a", "--now", "--token-stdin"}, false},
            {{"cancel-rotation", "a"}, false},
            {{"expire-old", "a"}, false},
            {{"delete", "a", "--yes"}, false},
            {{"passwd"}, true},
            {{"-v", "list"}, false},
        };
        for (const auto& [args, json_too] : commands) {
            Call call = base;
            call.stdin_data = "hint_partner_key_new_1";
            call.env["PITOOL_NEW_PASSPHRASE"] = "new-passphrase-0000";
            auto r = pitool(args, call);
            EXPECT_EQ(r.exit_code, code) << args[0] << " " << describe(r);
            // -v adds `pitool: debug:` lines (which vault, which passphrase
            // source...); the error itself is still one line.
            std::string err = r.err;
            if (args.front() == "-v") {
                std::string kept;
                std::istringstream lines(err);
                for (std::string line; std::getline(lines, line);)
                    if (!line.starts_with("pitool: debug: ")) kept += line + "\n";
                EXPECT_NE(kept, err) << "-v printed no debug line: " << describe(r);
                err = kept;
            }
            EXPECT_TRUE(one_line(err)) << args[0] << " " << describe(r);
            EXPECT_EQ(r.out, "") << args[0];
            if (json_too) {
                auto with_json = args;
                with_json.insert(with_json.begin(), "--json");
                auto j = pitool(with_json, call);
                EXPECT_EQ(j.exit_code, code) << describe(j);
                EXPECT_TRUE(one_line(j.err)) << describe(j);
                EXPECT_NO_THROW({
                    auto doc = json::parse(j.out);
                    EXPECT_EQ(doc["error"]["code"], code);
                }) << describe(j);
            }
            EXPECT_TRUE(damaged.unchanged()) << "after " << args[0];
            EXPECT_EQ(read_file(backup()), m_bak) << "after " << args[0];
        }
    }

    void write_vault(const std::string& bytes) const { write_file(m_vault, bytes); }

    std::string m_good;
    std::string m_bak;
};

TEST_F(VaultDamage, WrongPassphraseIsFive)
{
    expect_every_command_fails(5, {.env = {{"PITOOL_PASSPHRASE", "not-the-passphrase"}}});
    EXPECT_EQ(vault_bytes(), m_good);
    auto r = pitool({"list"}, {.env = {{"PITOOL_PASSPHRASE", "not-the-passphrase"}}});
    EXPECT_THAT(r.err, HasSubstr("passphrase"));
}

TEST_F(VaultDamage, TruncatedIsSix)
{
    for (std::size_t keep :
         {std::size_t{0}, std::size_t{4}, std::size_t{9}, std::size_t{100}, m_good.size() / 2, m_good.size() - 1}) {
        SCOPED_TRACE("truncated to " + std::to_string(keep));
        write_vault(m_good.substr(0, keep));
        auto r = pitool({"list"});
        EXPECT_EQ(r.exit_code, 6) << describe(r);
        EXPECT_TRUE(one_line(r.err)) << describe(r);
        EXPECT_EQ(vault_bytes(), m_good.substr(0, keep));
    }
    write_vault(m_good.substr(0, m_good.size() / 2));
    expect_every_command_fails(6);
}

TEST_F(VaultDamage, TrailingGarbageIsSix)
{
    write_vault(m_good + "garbage");
    auto r = pitool({"list"});
    EXPECT_EQ(r.exit_code, 6) << describe(r);
}

TEST_F(VaultDamage, FlippedBitInTheIndexIsSix)
{
    // The index (sealed right after the 208-byte header) says where every
    // record is: every command reads it, so every command refuses.
    auto bytes = m_good;
    bytes[208 + 20] = static_cast<char>(bytes[208 + 20] ^ 0x04);
    write_vault(bytes);
    expect_every_command_fails(6);
}

TEST_F(VaultDamage, FlippedBitInARecordFailsWhatReadsIt)
{
    // Records are sealed one by one. The last write (the rotation) appended
    // to the data file: a history chunk, a's metadata, a's secrets, then
    // the index part listing a (a 108-byte box for one entry named "a"), so
    // the byte before that part is the tag of a's secrets. What reads them
    // refuses; what does not (list prints metadata) works; verify reads
    // everything.
    const auto data = data_file();
    auto bytes = read_file(data);
    const VaultSnapshot intact(m_dir);
    constexpr std::size_t k_part_box = 24 + 1 + 1 + 2 + 2 * (8 + 4 + 16) + 8 + 1 + 16;
    bytes[bytes.size() - k_part_box - 1] = static_cast<char>(bytes[bytes.size() - k_part_box - 1] ^ 0x01);
    write_file(data, bytes);
    const VaultSnapshot damaged(m_dir);
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"get", "a"}, {"export", "--yes-secrets"}, {"verify"}}) {
        auto r = pitool(args, {.stdin_data = "hint_partner_key_new_1"});
        EXPECT_EQ(r.exit_code, 6) << args[0] << " " << describe(r);
        EXPECT_TRUE(one_line(r.err) || args[0] == "verify") << describe(r);
        EXPECT_EQ(r.out.find(std::string(k_token)), std::string::npos) << args[0];
        EXPECT_EQ(r.out.find(std::string(k_token2)), std::string::npos) << args[0];
    }
    auto rotate = pitool({"rotate", "a", "--now", "--token-stdin"}, {.stdin_data = "hint_partner_key_new_1"});
    EXPECT_EQ(rotate.exit_code, 6) << describe(rotate);
    // passwd re-seals every box under a new key: it stops at the damaged one
    // before writing anything (no new data file either).
    auto passwd = pitool({"passwd"}, {.env = {{"PITOOL_NEW_PASSPHRASE", "new-passphrase-0000"}}});
    EXPECT_EQ(passwd.exit_code, 6) << describe(passwd);
    EXPECT_TRUE(one_line(passwd.err)) << describe(passwd);
    EXPECT_EQ(pitool({"list"}).exit_code, 0);
    EXPECT_TRUE(damaged.unchanged()) << "nothing wrote";
    EXPECT_EQ(read_file(data), bytes) << "nothing wrote";
    EXPECT_EQ(vault_bytes(), m_good) << "nothing wrote";
    EXPECT_NE(intact.diff(damaged), "") << "the test damaged the data file";
}

TEST_F(VaultDamage, FlippedBitAnywhereIsNeverAccepted)
{
    // Every 97th byte, header included: a command that reads the damaged
    // part exits 5 (a corrupted recipient can look like a wrong passphrase)
    // or 6; `get` never prints a wrong token; `verify` never passes.
    for (std::size_t i = 0; i < m_good.size(); i += 97) {
        auto bytes = m_good;
        bytes[i] = static_cast<char>(bytes[i] ^ 0x01);
        write_vault(bytes);
        const VaultSnapshot damaged(m_dir);
        auto r = pitool({"get", "a", "--old"});
        if (r.exit_code == 0)
            EXPECT_EQ(r.out, std::string(k_token) + "\n") << "byte " << i;
        else
            EXPECT_TRUE(r.exit_code == 5 || r.exit_code == 6) << "byte " << i << " " << describe(r);
        auto v = pitool({"verify"});
        EXPECT_TRUE(v.exit_code == 5 || v.exit_code == 6) << "byte " << i << " " << describe(v);
        EXPECT_TRUE(damaged.unchanged()) << "byte " << i;
    }
    // And in the data file (every box: records, index parts, history).
    write_vault(m_good);
    const auto data = data_file();
    const auto good_data = read_file(data);
    for (std::size_t i = 0; i < good_data.size(); i += 37) {
        auto bytes = good_data;
        bytes[i] = static_cast<char>(bytes[i] ^ 0x01);
        write_file(data, bytes);
        const VaultSnapshot damaged(m_dir);
        auto r = pitool({"get", "a", "--old"});
        if (r.exit_code == 0)
            EXPECT_EQ(r.out, std::string(k_token) + "\n") << "data byte " << i;
        else
            EXPECT_EQ(r.exit_code, 6) << "data byte " << i << " " << describe(r);
        auto v = pitool({"verify"});
        EXPECT_EQ(v.exit_code, 6) << "data byte " << i << " " << describe(v);
        EXPECT_TRUE(damaged.unchanged()) << "data byte " << i;
    }
    write_file(data, good_data);
}

TEST_F(VaultDamage, BadMagicIsSix)
{
    auto bytes = m_good;
    bytes[0] = 'X';
    write_vault(bytes);
    expect_every_command_fails(6);
    write_vault("this is a text file, not a vault\n");
    auto r = pitool({"list"});
    EXPECT_EQ(r.exit_code, 6) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("not a pitool vault"));
}

TEST_F(VaultDamage, UnknownVersionIsSix)
{
    auto bytes = m_good;
    bytes[8] = 5; // little-endian format version at bytes 8-9
    bytes[9] = 0;
    write_vault(bytes);
    expect_every_command_fails(6);
    auto r = pitool({"list"});
    EXPECT_THAT(r.err, HasSubstr("version"));
    bytes[8] = static_cast<char>(0xff);
    bytes[9] = static_cast<char>(0xff);
    write_vault(bytes);
    EXPECT_EQ(pitool({"list"}).exit_code, 6);
}

TEST_F(VaultDamage, InitRefusesToReplaceDamagedVault)
{
    write_vault(m_good.substr(0, 50));
    const VaultSnapshot damaged(m_dir);
    auto r = pitool({"init", "--kdf", "interactive"});
    EXPECT_NE(r.exit_code, 0) << describe(r);
    EXPECT_EQ(vault_bytes(), m_good.substr(0, 50));
    EXPECT_TRUE(damaged.unchanged());
}

TEST_F(VaultDamage, MissingVaultIsThree)
{
    std::filesystem::remove(m_vault);
    const VaultSnapshot without(m_dir);
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"list"}, {"get", "a"}, {"delete", "a", "--yes"}, {"passwd"}, {"audit"}}) {
        auto r = pitool(args, {.env = {{"PITOOL_NEW_PASSPHRASE", "new-passphrase-0000"}}});
        EXPECT_EQ(r.exit_code, 3) << args[0] << " " << describe(r);
        EXPECT_TRUE(one_line(r.err)) << describe(r);
        EXPECT_TRUE(without.unchanged()) << args[0];
    }
    auto c = pitool({"create", "b", "--provider", "hint", "--token-stdin"}, {.stdin_data = "hint_partner_key_1"});
    EXPECT_EQ(c.exit_code, 3) << describe(c);
    EXPECT_FALSE(std::filesystem::exists(m_vault)) << "only init creates a vault";
    EXPECT_TRUE(without.unchanged());
}

class VaultFile : public CliTest {};

TEST_F(VaultFile, DirectoryIsTen)
{
    std::filesystem::create_directories(m_vault);
    ::chmod(m_dir.c_str(), 0700);
    const VaultSnapshot before(m_dir);
    auto r = pitool({"list"});
    EXPECT_EQ(r.exit_code, 10) << describe(r);
    EXPECT_TRUE(one_line(r.err)) << describe(r);
    auto i = pitool({"init", "--kdf", "interactive"});
    EXPECT_NE(i.exit_code, 0) << describe(i);
    EXPECT_TRUE(std::filesystem::is_directory(m_vault));
    EXPECT_TRUE(before.unchanged());
}

TEST_F(VaultFile, SymlinkIsTen)
{
    init_vault();
    create_pit("a", k_token);
    auto real = m_dir / "real-vault";
    std::filesystem::rename(m_vault, real);
    std::filesystem::create_symlink(real, m_vault);
    auto before = read_file(real);
    const VaultSnapshot dir_before(m_dir);
    for (const std::vector<std::string>& args : {std::vector<std::string>{"list"}, {"get", "a"}}) {
        auto r = pitool(args);
        EXPECT_EQ(r.exit_code, 10) << describe(r);
        EXPECT_TRUE(one_line(r.err)) << describe(r);
        EXPECT_EQ(r.out, "");
    }
    auto w = pitool({"create", "b", "--provider", "hint", "--token-stdin"}, {.stdin_data = "hint_partner_key_1"});
    EXPECT_EQ(w.exit_code, 10) << describe(w);
    EXPECT_TRUE(std::filesystem::is_symlink(m_vault));
    EXPECT_EQ(read_file(real), before);
    EXPECT_TRUE(dir_before.unchanged());
}

TEST_F(VaultFile, GroupReadableModeIsTen)
{
    init_vault();
    create_pit("a", k_token);
    ::chmod(m_vault.c_str(), 0644);
    auto before = vault_bytes();
    const VaultSnapshot dir_before(m_dir);
    for (const std::vector<std::string>& args : {std::vector<std::string>{"list"}, {"get", "a"}}) {
        auto r = pitool(args);
        EXPECT_EQ(r.exit_code, 10) << describe(r);
        EXPECT_TRUE(one_line(r.err)) << describe(r);
        EXPECT_EQ(r.out, "");
    }
    EXPECT_EQ(vault_bytes(), before);
    EXPECT_TRUE(dir_before.unchanged());
}

TEST_F(VaultFile, JsonErrorsAreOneDocument)
{
    init_vault();
    create_pit("a", k_token);
    struct Case {
        std::vector<std::string> args;
        Call call;
        int code;
        const char* kind;
    };
    const std::vector<Case> cases{
        {{"--json", "get", "nope"}, {}, 3, "not_found"},
        {{"--json", "expire-old", "a"}, {}, 4, "conflict"},
        {{"--json", "init"}, {}, 4, "conflict"},
        {{"--json", "list"}, {.env = {{"PITOOL_PASSPHRASE", "wrong-wrong"}}}, 5, "wrong_passphrase"},
        {{"--json", "delete", "a"}, {}, 2, "usage"},
        {{"--json", "create", "BAD", "--provider", "hint", "--token-stdin"},
         {.stdin_data = "xxxxxxxxxxxx"},
         2,
         "usage"},
        {{"--json", "list", "--no-such-flag"}, {}, 2, "usage"},
        {{"--json", "list"}, {.no_passphrase = true}, 2, "usage"},
    };
    const VaultSnapshot before(m_dir);
    for (const auto& c : cases) {
        auto r = pitool(c.args, c.call);
        EXPECT_EQ(r.exit_code, c.code) << c.args[1] << " " << describe(r);
        EXPECT_TRUE(before.unchanged()) << c.args[1];
        EXPECT_TRUE(one_line(r.err)) << describe(r);
        EXPECT_TRUE(one_line(r.out)) << "one JSON document on one line: " << describe(r);
        json doc;
        ASSERT_NO_THROW(doc = json::parse(r.out)) << describe(r);
        ASSERT_TRUE(doc.is_object());
        EXPECT_EQ(doc.size(), 2u) << doc.dump();
        EXPECT_EQ(doc["schema_version"], 1) << doc.dump();
        const auto& e = doc["error"];
        EXPECT_EQ(e["code"], c.code) << doc.dump();
        EXPECT_EQ(e["kind"], c.kind) << doc.dump();
        ASSERT_TRUE(e["message"].is_string()) << doc.dump();
        EXPECT_FALSE(e["message"].get<std::string>().empty());
        EXPECT_THAT(r.err, HasSubstr(e["message"].get<std::string>()));
    }
    // I/O errors too.
    ::chmod(m_vault.c_str(), 0640);
    auto r = pitool({"--json", "list"});
    EXPECT_EQ(r.exit_code, 10) << describe(r);
    EXPECT_EQ(json::parse(r.out)["error"]["kind"], "io");
}

} // namespace
} // namespace pitool::test
