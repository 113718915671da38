// pitool verify: integrity, permissions and backup checks, through the binary.
#include "cli_fixture.hpp"
#include "support/vault_snapshot.hpp"

#include <sys/stat.h>

namespace pitool::test {
namespace {

class Verify : public CliTest {};

const nlohmann::json* find_check(const nlohmann::json& report, const std::string& name)
{
    for (const auto& c : report.at("checks"))
        if (c.at("check") == name) return &c;
    return nullptr;
}

TEST_F(Verify, HealthyVaultPassesEveryCheck)
{
    init_vault();
    create_pit("acme", k_token);
    rotate("acme", k_token2);
    auto report = ok_json({"verify", "--json"});
    EXPECT_EQ(report.at("ok"), true);
    for (const char* name : {"vault directory", "vault file", "vault contents", "history chain", "integrations",
                             "backup file", "backup contents"}) {
        const auto* c = find_check(report, name);
        ASSERT_NE(c, nullptr) << name;
        EXPECT_EQ(c->at("status"), "ok") << name << ": " << c->dump();
    }
    EXPECT_NE(find_check(report, "history chain")->at("detail").get<std::string>().find("3 events"), std::string::npos);
}

TEST_F(Verify, FlippedPayloadBitIsDamageAndBackupStillOpens)
{
    init_vault();
    create_pit("acme", k_token);
    // The last write appended acme's secrets box and then the index part
    // listing acme (one entry named "acme": a 111-byte box): the byte before
    // the part is in acme's sealed token.
    const auto data = data_file();
    auto bytes = read_file(data);
    constexpr std::size_t k_part_box = 24 + 1 + 1 + 5 + 2 * (8 + 4 + 16) + 8 + 1 + 16;
    bytes[bytes.size() - k_part_box - 7] = static_cast<char>(bytes[bytes.size() - k_part_box - 7] ^ 0x04);
    write_file(data, bytes);
    const auto vault_before = vault_bytes();
    const VaultSnapshot dir_before(m_dir);
    auto r = pitool({"verify", "--json"});
    ASSERT_EQ(r.exit_code, 6) << describe(r);
    auto report = nlohmann::json::parse(r.out);
    EXPECT_EQ(report.at("ok"), false);
    // The index opens, the token does not.
    ASSERT_NE(find_check(report, "vault contents"), nullptr) << r.out;
    EXPECT_EQ(find_check(report, "vault contents")->at("status"), "ok");
    ASSERT_NE(find_check(report, "tokens"), nullptr) << r.out;
    EXPECT_EQ(find_check(report, "tokens")->at("status"), "fail");
    // The backup is the generation before; its boxes lie earlier in the file.
    EXPECT_EQ(find_check(report, "backup contents")->at("status"), "ok");
    EXPECT_TRUE(one_line(r.err)) << r.err;
    EXPECT_EQ(read_file(data), bytes) << "verify must not write";
    EXPECT_EQ(vault_bytes(), vault_before) << "verify must not write";
    EXPECT_TRUE(dir_before.unchanged()) << "verify must not write";
}

TEST_F(Verify, WorldReadableBackupFails)
{
    init_vault();
    create_pit("acme", k_token);
    ASSERT_EQ(::chmod((m_vault.string() + ".bak").c_str(), 0644), 0);
    auto r = pitool({"verify"});
    EXPECT_EQ(r.exit_code, 6) << describe(r);
    EXPECT_NE(r.out.find("accessible by group or others"), std::string::npos) << r.out;
}

TEST_F(Verify, WrongPassphraseIsFiveAndMissingVaultIsThree)
{
    init_vault();
    auto wrong = pitool({"verify"}, {.env = {{"PITOOL_PASSPHRASE", "not-the-passphrase"}}});
    EXPECT_EQ(wrong.exit_code, 5) << describe(wrong);
    std::filesystem::remove(m_vault);
    auto missing = pitool({"verify"});
    EXPECT_EQ(missing.exit_code, 3) << describe(missing);
}

TEST_F(Verify, LeftoverTempFileIsReportedAsWarning)
{
    init_vault();
    write_file(m_dir / ".vault.tmp.abc123", "partial");
    auto report = ok_json({"verify", "--json"});
    const auto* c = find_check(report, "temporary files");
    ASSERT_NE(c, nullptr) << report.dump();
    EXPECT_EQ(c->at("status"), "warn");
    EXPECT_EQ(report.at("ok"), true);
}

} // namespace
} // namespace pitool::test
