// `passwd` makes a new data key (issue 12): after it, the old passphrase, the
// old data key and any copy of the vault made before the change open nothing
// written after it, and every record and event is what it was. The keys are
// compared through the independent reader (tests/oracle), which unwraps the
// data key from the header with the passphrase and notes every box it opens.
#include "cli/cli_fixture.hpp"
#include "oracle/vault_reader.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

namespace pitool::test {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr std::string_view k_rekey_new_passphrase = "PassPhrase-NUMBAT-9a7f31-rekeyed";
/// Frozen for every call, so that ages and window states cannot move between
/// the reads before and after passwd.
constexpr const char* k_at = "2026-01-02 00:00:00";
constexpr std::string_view k_after_token = "pit-afafafaf-0000-4000-8000-0000000000af";

class Rekey : public CliTest {
protected:
    [[nodiscard]] Call at(Call c = {}) const
    {
        c.at = k_at;
        return c;
    }
    [[nodiscard]] Call with_new(Call c = {}) const
    {
        c.env["PITOOL_PASSPHRASE"] = std::string(k_rekey_new_passphrase);
        return at(std::move(c));
    }
    /// A call on the vault at `vault` (not m_vault), with the old passphrase.
    [[nodiscard]] Call on(const fs::path& vault) const
    {
        return at({.env = {{"PITOOL_VAULT", vault.string()}}, .no_vault_flag = true});
    }
    /// `on(vault)` on a machine that never saw a later generation of it (its
    /// own state directory): here an older copy is refused as a rollback.
    [[nodiscard]] Call on_another_machine(const fs::path& vault) const
    {
        Call c = on(vault);
        c.env["XDG_STATE_HOME"] = (m_tmp / "another-machine-state").string();
        return c;
    }
    RunResult passwd(Call c = {}) const
    {
        c.env["PITOOL_NEW_PASSPHRASE"] = std::string(k_rekey_new_passphrase);
        return ok({"passwd"}, at(std::move(c)));
    }

    /// The oracle's reading of the vault file `bytes` (its data file beside
    /// m_vault); fails the test if it refuses.
    oracle::Contents read(const std::string& bytes, std::string_view pass, const fs::path& vault = {}) const
    {
        std::string why;
        auto c = oracle::read_vault(bytes, std::string(pass), vault.empty() ? m_vault : vault, &why);
        EXPECT_TRUE(c.has_value()) << "the oracle refuses the vault: " << why;
        return c ? std::move(*c) : oracle::Contents{};
    }

    /// How many of `c`'s boxes open under `key` with their own associated data.
    static int boxes_opening_with(const oracle::Contents& c, const std::string& key)
    {
        int n = 0;
        for (const auto& b : c.boxes) {
            if (key.size() != crypto_aead_xchacha20poly1305_ietf_KEYBYTES || b.len < 40 ||
                b.off + b.len > c.data.size())
                continue;
            const auto* box = reinterpret_cast<const unsigned char*>(c.data.data() + b.off);
            std::string plain(b.len - 40, '\0');
            unsigned long long plen = 0;
            if (crypto_aead_xchacha20poly1305_ietf_decrypt(
                    reinterpret_cast<unsigned char*>(plain.data()), &plen, nullptr, box + 24, b.len - 24,
                    reinterpret_cast<const unsigned char*>(b.ad.data()), b.ad.size(), box,
                    reinterpret_cast<const unsigned char*>(key.data())) == 0)
                ++n;
        }
        return n;
    }

    /// Whether the top index of the v3 vault file `b` opens under `key`
    /// (docs/vault-format.md: nonce and length after the recipients and the
    /// data file id, the whole header as associated data).
    static bool index_opens_with(const std::string& b, const std::string& key)
    {
        if (b.size() < 16 || key.size() != 32) return false;
        const std::size_t n = static_cast<unsigned char>(b[12]);
        // Version 4 (bytes 8..9) has the vault id and generation after the
        // data file id.
        const std::size_t nonce_at = 16 + 112 * n + (b[8] == 4 ? 32 : 8);
        const std::size_t hsize = nonce_at + 24 + 8 + 16;
        if (b.size() < hsize) return false;
        std::uint64_t len = 0;
        for (int i = 7; i >= 0; --i)
            len = (len << 8) | static_cast<unsigned char>(b[nonce_at + 24 + static_cast<std::size_t>(i)]);
        if (len < 16 || len != b.size() - hsize) return false;
        std::string plain(static_cast<std::size_t>(len) - 16, '\0');
        unsigned long long plen = 0;
        const auto* u = reinterpret_cast<const unsigned char*>(b.data());
        return crypto_aead_xchacha20poly1305_ietf_decrypt(reinterpret_cast<unsigned char*>(plain.data()), &plen,
                                                          nullptr, u + hsize, len, u, hsize, u + nonce_at,
                                                          reinterpret_cast<const unsigned char*>(key.data())) == 0;
    }

    /// A vault with several index parts, a rotation window (an old token),
    /// an OAuth app, a Hint key, a deleted record and its history.
    void fill() const
    {
        init_vault(k_at);
        ok({"import"}, at({.stdin_data = numbered_pit_lines(600)}));
        create_pit("acme", k_token, k_at);
        rotate("acme", k_token2, k_at);
        ok({"create", "clinic", "--provider", "hint", "--kind", "practice-key", "--practice", "pra-7", "--description",
            "a clinic", "--token-stdin"},
           at({.stdin_data = "hint_practice_key_rekey_0001"}));
        ok({"create", "app", "--provider", "leadconnector", "--kind", "oauth-app", "--client-id", "client-123",
            "--scope", "contacts.readonly", "--token-stdin"},
           at({.stdin_data = std::string(k_client_secret)}));
        ok({"delete", "n0007", "--yes"}, at());
    }

    /// What the commands show of the vault, through pitool itself: every
    /// record with its secrets (export --yes-secrets: the show --json object
    /// and the tokens), list and history whole, show and get of a sample
    /// (one process each; all 602 would take minutes).
    json everything(const Call& c) const
    {
        json out;
        out["list"] = ok_json({"--json", "list"}, c);
        out["history"] = ok_json({"--json", "history"}, c).at("events");
        out["export"] = ok({"export", "--yes-secrets"}, c).out;
        json shown = json::object();
        json got = json::object();
        for (const char* name : {"acme", "app", "clinic", "n0000", "n0006", "n0008", "n0255", "n0256", "n0300", "n0511",
                                 "n0512", "n0599"}) {
            shown[name] = ok_json({"--json", "show", name}, c);
            got[name] = ok({"get", name}, c).out;
        }
        out["show"] = shown;
        out["get"] = got;
        out["get_old"] = ok({"get", "acme", "--old"}, c).out;
        return out;
    }
};

TEST_F(Rekey, PasswdMakesANewDataKey)
{
    init_vault(k_at);
    create_pit("acme", k_token, k_at);
    rotate("acme", k_token2, k_at);
    const auto before = read(vault_bytes(), k_passphrase);
    ASSERT_EQ(before.data_key.size(), 32u);
    ASSERT_FALSE(before.boxes.empty());

    passwd();
    const std::string head = vault_bytes();
    const auto after = read(head, k_rekey_new_passphrase);
    ASSERT_EQ(after.data_key.size(), 32u);
    EXPECT_NE(after.data_key, before.data_key) << "passwd kept the data key (it only re-wrapped it)";
    EXPECT_NE(after.data_id, before.data_id) << "the new generation is a new data file";
    // Nothing the new generation names opens with the old key: not its top
    // index, not one of its boxes (parts, records, secrets, history).
    EXPECT_FALSE(index_opens_with(head, before.data_key));
    EXPECT_TRUE(index_opens_with(head, after.data_key));
    ASSERT_FALSE(after.boxes.empty());
    EXPECT_EQ(boxes_opening_with(after, before.data_key), 0) << "of " << after.boxes.size() << " boxes";
    EXPECT_EQ(boxes_opening_with(after, after.data_key), static_cast<int>(after.boxes.size()));
    EXPECT_EQ(after.payload["integrations"], before.payload["integrations"]);

    // A second passwd: a third key.
    ok({"passwd"}, with_new({.env = {{"PITOOL_NEW_PASSPHRASE", std::string(k_passphrase)}}}));
    const auto third = read(vault_bytes(), k_passphrase);
    EXPECT_NE(third.data_key, after.data_key);
    EXPECT_NE(third.data_key, before.data_key);
}

TEST_F(Rekey, OldCopiesOpenNothingWrittenAfterTheChange)
{
    init_vault(k_at);
    create_pit("acme", k_token, k_at);
    // A copy of the whole directory, as a backup tool or another machine has it.
    const fs::path copy = m_tmp / "old-copy";
    fs::copy(m_dir, copy, fs::copy_options::recursive);
    const auto old = read(read_file(copy / "vault"), k_passphrase, copy / "vault");

    passwd();
    // Right after passwd, vault.bak is the previous generation, under the old
    // passphrase and key, holding what was there before and nothing more.
    const auto bak = read(read_file(m_dir / "vault.bak"), k_passphrase);
    EXPECT_EQ(bak.data_key, old.data_key);
    EXPECT_EQ(bak.payload["integrations"], old.payload["integrations"]);

    // Written after the change.
    ok({"create", "after-change", "--provider", "leadconnector", "--location", "loc-1", "--token-stdin"},
       with_new({.stdin_data = std::string(k_after_token)}));
    ok({"rotate", "acme", "--token-stdin"}, with_new({.stdin_data = std::string(k_token2)}));
    auto r = pitool({"get", "after-change"}, with_new());
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(r.out, std::string(k_after_token) + "\n");

    // The old passphrase opens neither the vault nor, now, its backup.
    for (const char* args : {"list", "verify"}) {
        r = pitool({args}, at());
        EXPECT_EQ(r.exit_code, 5) << args << ": " << describe(r);
        EXPECT_EQ(r.out.find(k_after_token), std::string::npos);
    }
    std::string why;
    EXPECT_FALSE(oracle::read_vault(read_file(m_dir / "vault.bak"), std::string(k_passphrase), m_vault, &why));
    EXPECT_EQ(why, "wrong passphrase") << "after one more write vault.bak is the new generation";

    // The old copy opens with the old passphrase and holds the old state only.
    r = pitool({"--json", "list"}, on_another_machine(copy / "vault"));
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(json::parse(r.out).size(), 1u) << r.out;
    r = pitool({"get", "acme"}, on_another_machine(copy / "vault"));
    EXPECT_EQ(r.out, std::string(k_token) + "\n");

    // The old vault file put back into the current directory (with the old
    // passphrase) reaches none of it either.
    const fs::path spliced = m_tmp / "spliced";
    fs::copy(m_dir, spliced, fs::copy_options::recursive);
    fs::copy_file(copy / "vault", spliced / "vault", fs::copy_options::overwrite_existing);
    r = pitool({"get", "acme"}, on(spliced / "vault"));
    EXPECT_EQ(r.exit_code, 6) << "this machine has seen a later generation: " << describe(r);
    for (const char* name : {"after-change", "acme"}) {
        r = pitool({"get", name}, on_another_machine(spliced / "vault"));
        EXPECT_EQ(r.out.find(k_after_token), std::string::npos) << describe(r);
        EXPECT_EQ(r.out.find(k_token2), std::string::npos) << describe(r);
    }

    // And the old data key (which an agent or any process that fetched it
    // may have kept) opens nothing in the current files.
    const auto now = read(vault_bytes(), k_rekey_new_passphrase);
    EXPECT_FALSE(index_opens_with(vault_bytes(), old.data_key));
    ASSERT_FALSE(now.boxes.empty());
    EXPECT_EQ(boxes_opening_with(now, old.data_key), 0) << "of " << now.boxes.size() << " boxes";
    ASSERT_EQ(now.payload["integrations"].size(), 2u);
    EXPECT_EQ(now.payload["integrations"][1]["token"]["secret"], std::string(k_after_token));
}

TEST_F(Rekey, EveryRecordAndEventIsIntactAfterPasswd)
{
    fill();
    const json before = everything(at());
    ASSERT_EQ(before["list"].size(), 602u);
    const auto oracle_before = read(vault_bytes(), k_passphrase);

    passwd();
    const json after = everything(with_new());
    EXPECT_EQ(after["list"], before["list"]);
    EXPECT_EQ(after["show"], before["show"]);
    EXPECT_EQ(after["get"], before["get"]);
    EXPECT_EQ(after["get_old"], before["get_old"]);
    EXPECT_EQ(after["export"], before["export"]);
    // The history as it was, then passwd's own event.
    ASSERT_EQ(after["history"].size(), before["history"].size() + 1);
    for (std::size_t k = 0; k < before["history"].size(); ++k)
        EXPECT_EQ(after["history"][k], before["history"][k]) << "event " << k;
    EXPECT_EQ(after["history"].back().at("action"), "passwd");

    // The oracle agrees, secrets and history included.
    const auto oracle_after = read(vault_bytes(), k_rekey_new_passphrase);
    EXPECT_EQ(oracle_after.payload["integrations"], oracle_before.payload["integrations"]);
    ASSERT_EQ(oracle_after.payload["history"].size(), oracle_before.payload["history"].size() + 1);
    auto r = pitool({"verify"}, with_new());
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    // Writes go on under the new key.
    ok({"rotate", "n0300", "--token-stdin"}, with_new({.stdin_data = "pit-11111111-0000-4000-8000-000000000300"}));
    r = pitool({"get", "n0300"}, with_new());
    EXPECT_EQ(r.out, "pit-11111111-0000-4000-8000-000000000300\n") << describe(r);
}

TEST_F(Rekey, PasswdWarnsAboutCopiesItCannotReach)
{
    init_vault(k_at);
    create_pit("acme", k_token, k_at);
    auto r = passwd();
    EXPECT_TRUE(one_line(r.err)) << r.err;
    EXPECT_NE(r.err.find("pitool: warning: copies of the vault made before this change"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("still open with the old passphrase"), std::string::npos) << r.err;
    EXPECT_NE(r.out.find("Changed the passphrase and the data key of"), std::string::npos) << r.out;

    r = ok({"-q", "passwd"}, with_new({.env = {{"PITOOL_NEW_PASSPHRASE", std::string(k_passphrase)}}}));
    EXPECT_TRUE(r.err.empty()) << r.err;

    r = ok({"--json", "passwd"}, at({.env = {{"PITOOL_NEW_PASSPHRASE", std::string(k_rekey_new_passphrase)}}}));
    const json j = json::parse(r.out);
    EXPECT_EQ(j.at("passphrase_changed"), true);
    EXPECT_EQ(j.at("data_key_changed"), true);
    EXPECT_EQ(j.at("agent_key_replaced"), false) << "no agent runs";
}

} // namespace
} // namespace pitool::test
