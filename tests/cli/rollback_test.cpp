// No silent rollback (issue 12): every generation of a vault carries the
// vault's id and a counter inside what the index authenticates; pitool
// remembers the highest generation it has seen per vault on this machine
// and refuses an older copy put in the vault's place (exit 6, one line
// naming `pitool restore`), which is the deliberate way back. `verify`
// reports a backup that is not the vault's previous generation. Through the
// real binary, on real files; the generations are read by the oracle
// (tests/oracle, from docs/vault-format.md alone).
#include "cli/cli_fixture.hpp"
#include "oracle/vault_reader.hpp"
#include "support/vault_snapshot.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>

namespace pitool::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;

class Rollback : public CliTest {
protected:
    /// Copies the vault file and its data files (not the lock or backup)
    /// from `from` into `to`, as `cp` would, mode 0600.
    static void copy_vault_files(const fs::path& from, const fs::path& to)
    {
        fs::create_directories(to);
        fs::permissions(to, fs::perms::owner_all, fs::perm_options::replace);
        for (const auto& e : fs::directory_iterator(from)) {
            const std::string name = e.path().filename().string();
            if (name == "vault" || name.rfind("vault.data-", 0) == 0) write_file(to / name, read_file(e.path()));
        }
    }

    [[nodiscard]] oracle::Contents read_oracle(const fs::path& vault) const
    {
        std::string why;
        auto c = oracle::read_vault_file(vault, std::string(k_passphrase), &why);
        EXPECT_TRUE(c.has_value()) << why;
        return c.value_or(oracle::Contents{});
    }

    [[nodiscard]] fs::path state_file() const { return m_tmp / ".env" / "xdg" / "state" / "pitool" / "generations"; }

    static const json* find_check(const json& report, const std::string& name)
    {
        for (const auto& c : report.at("checks"))
            if (c.at("check") == name) return &c;
        return nullptr;
    }

    /// Every kind of command on a refused vault: exit 6, one line naming the
    /// generations and `pitool restore`, no token printed, nothing written.
    void expect_refused(std::uint64_t generation, std::uint64_t seen)
    {
        const VaultSnapshot before(m_dir);
        const std::string state = read_file(state_file());
        const std::vector<std::vector<std::string>> commands{
            {"list"},
            {"get", "a"},
            {"show", "a"},
            {"exec", "a", "--", "/bin/true"},
            {"history"},
            {"audit"},
            {"rotate", "a", "--now", "--token-stdin"},
            {"delete", "a", "--yes"},
            {"passwd"},
            {"unlock"},
        };
        for (const auto& args : commands) {
            auto r =
                pitool(args, {.stdin_data = "pit-0e0e0e0e-1111-4222-8333-444455556666",
                              .env = {{"PITOOL_NEW_PASSPHRASE", "new-passphrase-0000"}, {"PITOOL_NO_AGENT", "1"}}});
            EXPECT_EQ(r.exit_code, 6) << args[0] << " " << describe(r);
            EXPECT_TRUE(one_line(r.err)) << args[0] << " " << describe(r);
            EXPECT_THAT(r.err, HasSubstr("is generation " + std::to_string(generation) + " but generation " +
                                         std::to_string(seen) + " was seen on this machine"))
                << args[0];
            EXPECT_THAT(r.err, HasSubstr("rolled back")) << args[0];
            EXPECT_THAT(r.err, HasSubstr("restore " + m_vault.string())) << args[0];
            for (std::string_view s : {k_token, k_token2, k_passphrase}) {
                EXPECT_EQ(r.out.find(s), std::string::npos) << args[0];
                EXPECT_EQ(r.err.find(s), std::string::npos) << args[0];
            }
            EXPECT_TRUE(before.unchanged()) << "after " << args[0];
        }
        EXPECT_EQ(read_file(state_file()), state) << "a refusal never lowers what was seen";
        auto json_err = pitool({"--json", "get", "a"});
        EXPECT_EQ(json_err.exit_code, 6) << describe(json_err);
        EXPECT_EQ(json::parse(json_err.out)["error"]["code"], 6);
    }
};

TEST_F(Rollback, EachWriteIsTheNextGenerationOfOneVault)
{
    init_vault();
    const auto first = read_oracle(m_vault);
    EXPECT_EQ(first.version, 4);
    EXPECT_EQ(first.generation, 1u);
    ASSERT_EQ(first.vault_id.size(), 32u);
    create_pit("a", k_token);
    ok({"rotate", "a", "--now", "--token-stdin"}, {.stdin_data = std::string(k_token2)});
    const auto third = read_oracle(m_vault);
    EXPECT_EQ(third.generation, 3u);
    EXPECT_EQ(third.vault_id, first.vault_id) << "the id is stable";
    // The machine remembers it: 0600 in a 0700 directory.
    struct stat st {};
    ASSERT_EQ(::stat(state_file().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    ASSERT_EQ(::stat(state_file().parent_path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    EXPECT_THAT(read_file(state_file()), HasSubstr(first.vault_id + " 3\n"));
    // With no HOME and no XDG_STATE_HOME there is nothing to check against:
    // commands still work.
    auto r = pitool({"get", "a"}, {.env = {{"HOME", ""}, {"XDG_STATE_HOME", ""}}});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
}

TEST_F(Rollback, AnOlderCopyOverTheVaultIsRefusedAfterRotateNow)
{
    init_vault();
    create_pit("a", k_token);
    const fs::path saved = m_tmp / "saved";
    copy_vault_files(m_dir, saved); // generation 2: `a` holds k_token
    ok({"rotate", "a", "--now", "--token-stdin"}, {.stdin_data = std::string(k_token2)});
    EXPECT_EQ(ok({"get", "a"}).out, std::string(k_token2) + "\n");

    // Put the old copy back (vault and data file), as an attacker or a
    // mistaken restore from a backup would. Before generations this printed
    // k_token, the token rotate --now replaced, and verify passed.
    copy_vault_files(saved, m_dir);
    expect_refused(2, 3);
    auto v = pitool({"verify"});
    EXPECT_EQ(v.exit_code, 6) << describe(v);
    EXPECT_THAT(v.out, HasSubstr("may have been rolled back"));
}

TEST_F(Rollback, TheBackupCopiedOverTheVaultIsRefused)
{
    init_vault();
    create_pit("a", k_token);
    ok({"rotate", "a", "--now", "--token-stdin"}, {.stdin_data = std::string(k_token2)});
    // The old advice: "copy vault.bak over vault".
    write_file(m_vault, read_file(m_dir / "vault.bak"));
    expect_refused(2, 3);
}

TEST_F(Rollback, RestoreWritesTheOldContentAsANewerGeneration)
{
    init_vault();
    create_pit("a", k_token);
    const fs::path saved = m_tmp / "saved";
    copy_vault_files(m_dir, saved); // generation 2
    ok({"rotate", "a", "--now", "--token-stdin"}, {.stdin_data = std::string(k_token2)});
    create_pit("b", "pit-b0b0b0b0-1111-4222-8333-444455556666"); // generation 4
    const auto before = read_oracle(m_vault);
    ASSERT_EQ(before.generation, 4u);

    // From a copy elsewhere (its data file beside it): the wrong passphrase
    // is refused and writes nothing.
    const VaultSnapshot untouched(m_dir);
    auto wrong =
        pitool({"restore", (saved / "vault").string()}, {.env = {{"PITOOL_PASSPHRASE", "not-the-passphrase"}}});
    EXPECT_EQ(wrong.exit_code, 5) << describe(wrong);
    EXPECT_TRUE(one_line(wrong.err)) << describe(wrong);
    EXPECT_TRUE(untouched.unchanged());
    auto missing = pitool({"restore", (m_tmp / "nothing-here").string()});
    EXPECT_EQ(missing.exit_code, 3) << describe(missing);
    EXPECT_TRUE(untouched.unchanged());

    auto r = ok_json({"--json", "restore", (saved / "vault").string()});
    EXPECT_EQ(r.at("from_generation"), 2);
    EXPECT_EQ(r.at("generation"), 5);
    EXPECT_EQ(r.at("integrations"), 1);
    const auto after = read_oracle(m_vault);
    EXPECT_EQ(after.generation, 5u) << "above every generation seen";
    EXPECT_EQ(after.vault_id, before.vault_id) << "the same vault";
    ASSERT_EQ(after.payload["integrations"].size(), 1u) << after.payload.dump();
    EXPECT_EQ(after.payload["integrations"][0]["token"]["secret"], std::string(k_token));
    // The copy's history, then the restore, chained.
    const auto ev = events();
    ASSERT_EQ(ev.size(), 3u) << ev.dump();
    EXPECT_EQ(ev[1]["action"], "create");
    EXPECT_EQ(ev[2]["action"], "restore");
    EXPECT_THAT(ev[2]["detail"].get<std::string>(), HasSubstr("generation 2"));
    EXPECT_EQ(ok({"get", "a"}).out, std::string(k_token) + "\n");
    auto verify = ok_json({"verify", "--json"});
    EXPECT_EQ(verify.at("ok"), true) << verify.dump();
}

TEST_F(Rollback, RestoreOfTheRefusedVaultItselfMakesItCurrent)
{
    init_vault();
    create_pit("a", k_token);
    ok({"rotate", "a", "--now", "--token-stdin"}, {.stdin_data = std::string(k_token2)});
    write_file(m_vault, read_file(m_dir / "vault.bak")); // generation 2, seen 3
    ASSERT_EQ(pitool({"get", "a"}).exit_code, 6);
    // What the refusal says to run.
    auto r = ok({"restore", m_vault.string()});
    EXPECT_THAT(r.out, HasSubstr("as generation 4"));
    EXPECT_EQ(ok({"get", "a"}).out, std::string(k_token) + "\n");
    EXPECT_EQ(read_oracle(m_vault).generation, 4u);
    // The backup now is the copy that was refused: verify says so, and passes.
    auto report = ok_json({"verify", "--json"});
    const auto* c = find_check(report, "backup generation");
    ASSERT_NE(c, nullptr) << report.dump();
    EXPECT_EQ(c->at("status"), "warn") << c->dump();
}

TEST_F(Rollback, VerifyReportsABackupThatIsNotThePreviousGeneration)
{
    init_vault();
    create_pit("a", k_token);
    const std::string generation2 = vault_bytes();
    rotate("a", k_token2);
    create_pit("b", "pit-b0b0b0b0-1111-4222-8333-444455556666"); // generation 4, backup 3
    auto healthy = ok_json({"verify", "--json"});
    const auto* c = find_check(healthy, "backup generation");
    ASSERT_NE(c, nullptr) << healthy.dump();
    EXPECT_EQ(c->at("status"), "ok") << c->dump();
    EXPECT_THAT(c->at("detail").get<std::string>(), HasSubstr("generation 3"));

    // An older generation put in the backup's place.
    write_file(m_dir / "vault.bak", generation2);
    auto stale = ok_json({"verify", "--json"});
    c = find_check(stale, "backup generation");
    ASSERT_NE(c, nullptr) << stale.dump();
    EXPECT_EQ(c->at("status"), "warn") << c->dump();
    EXPECT_THAT(c->at("detail").get<std::string>(), HasSubstr("generation 2, not 3"));
    // Its token of `a`, replaced by the rotation, was wiped once neither the
    // vault nor the backup named it (dead secrets are gone): a warning here.
    c = find_check(stale, "backup contents");
    ASSERT_NE(c, nullptr) << stale.dump();
    EXPECT_EQ(c->at("status"), "warn") << c->dump();
    EXPECT_THAT(c->at("detail").get<std::string>(), HasSubstr("wiped"));

    // Another vault's file (same passphrase) as the backup: a failure.
    const fs::path other = m_tmp / "other" / "vault";
    ok({"init", "--kdf", "interactive"}, {.env = {{"PITOOL_VAULT", other.string()}}, .no_vault_flag = true});
    write_file(m_dir / "vault.bak", read_file(other));
    for (const auto& e : fs::directory_iterator(other.parent_path()))
        if (e.path().filename().string().rfind("vault.data-", 0) == 0)
            write_file(m_dir / e.path().filename(), read_file(e.path()));
    auto foreign = pitool({"verify", "--json"});
    EXPECT_EQ(foreign.exit_code, 6) << describe(foreign);
    auto report = json::parse(foreign.out);
    c = find_check(report, "backup generation");
    ASSERT_NE(c, nullptr) << report.dump();
    EXPECT_EQ(c->at("status"), "fail") << c->dump();
    EXPECT_THAT(c->at("detail").get<std::string>(), HasSubstr("another vault"));
}

TEST_F(Rollback, AVersionThreeVaultGetsAnIdAndGenerationOneAtItsNextWrite)
{
    // The golden version 3 vault (tests/data), with its data file.
    fs::create_directories(m_dir);
    fs::permissions(m_dir, fs::perms::owner_all, fs::perm_options::replace);
    const fs::path golden = fs::path(PITOOL_TEST_DATA) / "golden-v3.vault";
    write_file(m_vault, read_file(golden));
    for (const auto& e : fs::directory_iterator(golden.parent_path())) {
        const std::string name = e.path().filename().string();
        if (name.rfind("golden-v3.vault.data-", 0) == 0)
            write_file(m_vault.string() + name.substr(std::string("golden-v3.vault").size()), read_file(e.path()));
    }
    const std::string pass = "golden-passphrase";
    // Inside the golden vault's rotation window, so no write purges it.
    const Call call{.env = {{"PITOOL_PASSPHRASE", pass}}, .at = "2026-03-02 00:00:00"};
    std::string why;
    auto old = oracle::read_vault_file(m_vault, pass, &why);
    ASSERT_TRUE(old.has_value()) << why;
    EXPECT_EQ(old->version, 3);
    // Reading it writes nothing and needs no generation.
    const VaultSnapshot before(m_dir);
    ok({"list"}, call);
    EXPECT_TRUE(before.unchanged());
    EXPECT_FALSE(fs::exists(state_file()));

    ok({"create", "zz-new", "--provider", "hint", "--token-stdin"},
       {.stdin_data = "hint_key_v3_migration_0001", .env = call.env, .at = call.at});
    auto now = oracle::read_vault_file(m_vault, pass, &why);
    ASSERT_TRUE(now.has_value()) << why;
    EXPECT_EQ(now->version, 4);
    EXPECT_EQ(now->generation, 1u);
    EXPECT_EQ(now->vault_id.size(), 32u);
    EXPECT_THAT(read_file(state_file()), HasSubstr(now->vault_id + " 1\n"));
    // Its content is kept, record for record and token for token.
    ASSERT_EQ(now->payload["integrations"].size(), old->payload["integrations"].size() + 1);
    for (std::size_t i = 0; i < old->payload["integrations"].size(); ++i)
        EXPECT_EQ(now->payload["integrations"][i], old->payload["integrations"][i]) << i;
    EXPECT_EQ(now->payload["history"].size(), old->payload["history"].size() + 1);
    // The version 3 file is the backup, and verify accepts it as such.
    EXPECT_EQ(read_file(m_dir / "vault.bak"), read_file(golden));
    auto report = ok_json({"verify", "--json"}, call);
    const auto* c = find_check(report, "backup generation");
    ASSERT_NE(c, nullptr) << report.dump();
    EXPECT_EQ(c->at("status"), "ok") << c->dump();
    // From now on it is checked like any other.
    ok({"delete", "zz-new", "--yes"}, call);
    write_file(m_vault, read_file(m_dir / "vault.bak")); // generation 1
    auto r = pitool({"list"}, call);
    EXPECT_EQ(r.exit_code, 6) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("generation 1 but generation 2"));
}

TEST_F(Rollback, TheStateFileIsOnlyEverRaised)
{
    init_vault();
    create_pit("a", k_token);
    const auto c = read_oracle(m_vault);
    ASSERT_EQ(c.generation, 2u);
    // Another machine's state, or another pitool that saw a later
    // generation, recorded a higher number: this vault is refused.
    write_file(state_file(), c.vault_id + " 9\n");
    auto r = pitool({"get", "a"});
    EXPECT_EQ(r.exit_code, 6) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("generation 2 but generation 9"));
    // A lower number is raised by a read, never lowered.
    write_file(state_file(), "# comment\n" + c.vault_id + " 1\nnot a line\n");
    ok({"get", "a"});
    EXPECT_THAT(read_file(state_file()), HasSubstr(c.vault_id + " 2\n"));
    // A state file others can read is not trusted, and says so; the command
    // goes on.
    ::chmod(state_file().c_str(), 0644);
    auto warned = pitool({"get", "a"});
    EXPECT_EQ(warned.exit_code, 0) << describe(warned);
    EXPECT_THAT(warned.err, HasSubstr("cannot check the vault against rollback"));
}

} // namespace
} // namespace pitool::test
