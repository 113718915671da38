// pitool against an independent reader of its file format
// (tests/oracle/vault_reader.hpp, written from docs/vault-format.md alone):
// what `list`, `show`, `get`, `export` and `history` print must be what the
// oracle finds in the files, for the golden vaults of every version and for
// vaults the current binary writes (one part and several).
#include "cli/cli_fixture.hpp"
#include "oracle/vault_reader.hpp"
#include "support/vault_snapshot.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <ctime>
#include <iomanip>
#include <sstream>

namespace pitool::test {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr const char* k_golden_passphrase = "golden-passphrase";
/// Inside the golden vaults' rotation window (rotated 2026-03-01T12:00:00Z, 7 days).
constexpr const char* k_golden_at = "2026-03-02 00:00:00";

std::string rfc3339(long long t)
{
    const std::time_t tt = static_cast<std::time_t>(t);
    std::tm g{};
    ::gmtime_r(&tt, &g);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &g);
    return buf;
}

long long epoch_of(const std::string& at)
{
    std::tm g{};
    std::istringstream in(at);
    in >> std::get_time(&g, "%Y-%m-%d %H:%M:%S");
    return static_cast<long long>(::timegm(&g));
}

json text_or_null(const json& v)
{
    return v.is_string() && !v.get<std::string>().empty() ? v : json(nullptr);
}

class Oracle : public CliTest {
protected:
    /// Copies a golden vault (and its data file, renamed) to m_vault.
    void install_golden(const std::string& name)
    {
        fs::create_directories(m_dir);
        fs::permissions(m_dir, fs::perms::owner_all, fs::perm_options::replace);
        const fs::path golden = fs::path(PITOOL_TEST_DATA) / name;
        write_file(m_vault, read_file(golden));
        const std::string prefix = name + ".data-";
        for (const auto& e : fs::directory_iterator(golden.parent_path())) {
            const std::string f = e.path().filename().string();
            if (f.rfind(prefix, 0) == 0)
                write_file(m_vault.string() + ".data-" + f.substr(prefix.size()), read_file(e.path()));
        }
    }

    /// The oracle's reading of m_vault; fails the test if it refuses.
    json oracle(const std::string& pass, int* version = nullptr) const
    {
        std::string why;
        auto c = oracle::read_vault_file(m_vault, pass, &why);
        EXPECT_TRUE(c.has_value()) << "the oracle refuses the vault: " << why;
        if (!c) return json{{"integrations", json::array()}, {"history", json::array()}};
        if (version != nullptr) *version = c->version;
        return c->payload;
    }

    /// One integration as the oracle read it against `show --json` at `now`.
    static void expect_show(const json& rec, const json& show, long long now)
    {
        const std::string name = rec.at("name");
        SCOPED_TRACE("integration " + name);
        EXPECT_EQ(show.at("name"), rec.at("name"));
        EXPECT_EQ(show.at("provider"), rec.at("provider"));
        EXPECT_EQ(show.at("kind"), rec.at("kind"));
        EXPECT_EQ(show.at("description"), rec.value("description", ""));
        EXPECT_EQ(show.at("level"), text_or_null(rec.value("level", json(""))));
        EXPECT_EQ(show.at("account_id"), text_or_null(rec.value("account_id", json(""))));
        EXPECT_EQ(show.at("scopes"), rec.value("scopes", json::array()));
        EXPECT_EQ(show.at("base_url"), rec.at("base_url"));
        EXPECT_EQ(show.at("created_at"), rfc3339(rec.at("created_at")));
        EXPECT_EQ(show.at("token").at("issued_at"), rfc3339(rec.at("token").at("issued_at")));
        if (rec.at("token").contains("fingerprint")) { // not stored by version 1
            EXPECT_EQ(show.at("token").at("fingerprint"), rec.at("token").at("fingerprint"));
        }
        if (rec.value("kind", "") == "oauth-app")
            EXPECT_EQ(show.at("client_id"), rec.at("client_id"));
        else
            EXPECT_FALSE(show.contains("client_id")) << show.dump();
        const bool open = rec.contains("rotation") && rec["rotation"].at("old_expires_at").get<long long>() > now;
        if (open) {
            const auto& r = rec["rotation"];
            ASSERT_TRUE(show.at("rotation").is_object()) << show.dump();
            EXPECT_EQ(show["rotation"].at("started_at"), rfc3339(r.at("started_at")));
            EXPECT_EQ(show["rotation"].at("old_expires_at"), rfc3339(r.at("old_expires_at")));
            if (r.at("old").contains("fingerprint")) {
                EXPECT_EQ(show["rotation"].at("old_fingerprint"), r.at("old").at("fingerprint"));
            }
        } else {
            EXPECT_TRUE(show.at("rotation").is_null()) << show.dump();
        }
        if (rec.contains("oauth") && rec.at("kind") == "oauth") {
            const auto& o = rec["oauth"];
            const auto& so = show.at("oauth");
            EXPECT_EQ(so.at("has_refresh_token"), o.contains("refresh_token"));
            EXPECT_EQ(so.at("user_type"), o.value("user_type", ""));
            EXPECT_EQ(so.at("user_id"), o.value("user_id", ""));
            EXPECT_EQ(so.at("app"), o.value("app", ""));
            if (o.contains("access_expires_at") && o["access_expires_at"].get<long long>() != 0)
                EXPECT_EQ(so.at("access_expires_at"), rfc3339(o["access_expires_at"]));
            else
                EXPECT_TRUE(so.at("access_expires_at").is_null());
        } else {
            EXPECT_FALSE(show.contains("oauth")) << show.dump();
        }
        if (rec.contains("last_check")) {
            const auto& l = rec["last_check"];
            const auto& sl = show.at("last_check");
            EXPECT_EQ(sl.at("at"), rfc3339(l.at("at")));
            EXPECT_EQ(sl.at("status"), l.at("status"));
            EXPECT_EQ(sl.at("ok"), l.at("ok"));
            EXPECT_EQ(sl.at("summary"), l.at("summary"));
        } else {
            EXPECT_TRUE(show.at("last_check").is_null());
        }
        if (rec.contains("extra") && !rec["extra"].empty())
            EXPECT_EQ(show.at("extra"), rec["extra"]);
        else
            EXPECT_FALSE(show.contains("extra")) << show.dump();
    }

    /// Everything pitool prints about the vault equals the oracle's reading.
    /// `at`: frozen time for pitool (empty: now). `show_every`: every how
    /// many integrations `show` and `get` run (export covers all of them).
    void expect_agreement(const json& o, const std::string& pass, const std::string& at = {},
                          std::size_t show_every = 1)
    {
        Call call{.env = {{"PITOOL_PASSPHRASE", pass}}, .at = at};
        const long long now = at.empty() ? static_cast<long long>(std::time(nullptr)) : epoch_of(at);
        const auto& ints = o.at("integrations");

        json names = json::array();
        for (const auto& rec : ints) names.push_back(rec.at("name"));
        json listed = json::array();
        for (const auto& row : ok_json({"list", "--json"}, call)) listed.push_back(row.at("name"));
        EXPECT_EQ(listed, names) << "list and the oracle disagree on the names";

        // export --yes-secrets: every record and its tokens in one run.
        auto exported = ok({"export", "--yes-secrets"}, call).out;
        std::istringstream lines(exported);
        std::size_t k = 0;
        for (std::string line; std::getline(lines, line); ++k) {
            ASSERT_LT(k, ints.size()) << "export has more lines than the oracle has records";
            const auto row = json::parse(line);
            const auto& rec = ints[k];
            expect_show(rec, row, now);
            EXPECT_EQ(row.at("secrets").at("token"), rec.at("token").at("secret")) << rec.at("name");
            const bool open = rec.contains("rotation") && rec["rotation"].at("old_expires_at").get<long long>() > now;
            if (open)
                EXPECT_EQ(row["secrets"].at("old_token"), rec["rotation"]["old"].at("secret")) << rec.at("name");
            else
                EXPECT_FALSE(row["secrets"].contains("old_token")) << row.dump();
            if (rec.contains("oauth") && rec["oauth"].contains("refresh_token")) {
                EXPECT_EQ(row["secrets"].at("refresh_token"), rec["oauth"]["refresh_token"]) << rec.at("name");
            }
        }
        EXPECT_EQ(k, ints.size()) << "export and the oracle disagree on the count";

        // show and get, one process per command.
        for (std::size_t i = 0; i < ints.size(); i += show_every) {
            const auto& rec = ints[i];
            const std::string name = rec.at("name");
            expect_show(rec, ok_json({"show", name, "--json"}, call), now);
            EXPECT_EQ(ok({"get", name}, call).out, rec["token"]["secret"].get<std::string>() + "\n") << name;
            const bool open = rec.contains("rotation") && rec["rotation"].at("old_expires_at").get<long long>() > now;
            if (open) {
                EXPECT_EQ(ok({"get", name, "--old"}, call).out,
                          rec["rotation"]["old"]["secret"].get<std::string>() + "\n")
                    << name;
            }
        }

        // The history, event by event.
        const auto h = ok_json({"history", "--json"}, call);
        EXPECT_EQ(h.at("chain_intact"), true);
        const auto& ev = h.at("events");
        ASSERT_EQ(ev.size(), o.at("history").size());
        for (std::size_t i = 0; i < ev.size(); ++i) {
            const auto& e = o["history"][i];
            EXPECT_EQ(ev[i].at("at"), rfc3339(e.at("at"))) << i;
            for (const char* f : {"action", "name", "fingerprint", "actor", "detail", "hash"})
                EXPECT_EQ(ev[i].at(f), e.at(f)) << "event " << i << " " << f;
        }
    }
};

TEST_F(Oracle, GoldenVaultsOfEveryVersion)
{
    for (const auto& [file, version] : std::vector<std::pair<std::string, int>>{
             {"golden-v1.vault", 1}, {"golden-v2.vault", 2}, {"golden-v3.vault", 3}, {"golden-v4.vault", 4}}) {
        SCOPED_TRACE(file);
        fs::remove_all(m_dir);
        install_golden(file);
        int got = 0;
        const json o = oracle(k_golden_passphrase, &got);
        EXPECT_EQ(got, version);
        // What the golden generator stored (tests/unit/vault/golden_test.cpp).
        ASSERT_EQ(o["integrations"].size(), 2u) << o.dump();
        EXPECT_EQ(o["integrations"][0]["name"], "acme-prod");
        EXPECT_EQ(o["integrations"][0]["token"]["secret"], "pit-golden-new-2222-3333");
        EXPECT_EQ(o["integrations"][0]["rotation"]["old"]["secret"], "pit-golden-old-0000-1111");
        EXPECT_EQ(o["integrations"][1]["name"], "hint-clinic");
        EXPECT_EQ(o["integrations"][1]["token"]["secret"], "hint-golden-practice-key-4444");
        const VaultSnapshot before(m_dir);
        expect_agreement(o, k_golden_passphrase, k_golden_at);
        EXPECT_TRUE(before.unchanged()) << "reading a version " << version << " vault wrote";
    }
}

TEST_F(Oracle, VaultWrittenByThisBinary)
{
    init_vault();
    create_pit("acme", k_token);
    rotate("acme", k_token2); // a window: old token, window end in the index
    ok({"create", "clinic", "--provider", "hint", "--kind", "practice-key", "--practice", "pra-7", "--description",
        "a clinic", "--token-stdin"},
       {.stdin_data = "hint_practice_key_oracle_0001"});
    ok({"create", "app", "--provider", "leadconnector", "--kind", "oauth-app", "--client-id", "client-123", "--scope",
        "contacts.readonly", "--token-stdin"},
       {.stdin_data = std::string(k_client_secret)});
    create_pit("gone", "pit-00000000-0000-4000-8000-00000000dead");
    ok({"delete", "gone", "--yes"});
    ok({"rotate", "clinic", "--now", "--token-stdin"}, {.stdin_data = "hint_practice_key_oracle_0002"});
    int version = 0;
    const json o = oracle(std::string(k_passphrase), &version);
    EXPECT_EQ(version, 4);
    ASSERT_EQ(o["integrations"].size(), 3u) << o.dump();
    EXPECT_EQ(o["integrations"][0]["name"], "acme");
    EXPECT_EQ(o["integrations"][0]["token"]["secret"], std::string(k_token2));
    EXPECT_EQ(o["integrations"][0]["rotation"]["old"]["secret"], std::string(k_token));
    EXPECT_EQ(o["integrations"][1]["token"]["secret"], std::string(k_client_secret));
    EXPECT_EQ(o["integrations"][2]["token"]["secret"], "hint_practice_key_oracle_0002");
    expect_agreement(o, std::string(k_passphrase));

    // After passwd the same data under the new passphrase, none under the old.
    ok({"passwd"}, {.env = {{"PITOOL_NEW_PASSPHRASE", "oracle-new-passphrase-1"}}});
    std::string why;
    EXPECT_FALSE(oracle::read_vault_file(m_vault, std::string(k_passphrase), &why).has_value());
    EXPECT_EQ(why, "wrong passphrase");
    const json after = oracle("oracle-new-passphrase-1");
    EXPECT_EQ(after["integrations"], o["integrations"]);
    EXPECT_EQ(after["history"].size(), o["history"].size() + 1);
}

TEST_F(Oracle, ManyPartsWrittenByImport)
{
    // 700 names in one import: the index is cut into parts (about 256
    // entries each), which the oracle opens and checks one by one.
    init_vault();
    ok({"import"}, {.stdin_data = numbered_pit_lines(700)});
    ok({"rotate", "n0300", "--token-stdin"}, {.stdin_data = "pit-11111111-0000-4000-8000-000000000300"});
    ok({"delete", "n0001", "--yes"});
    const json o = oracle(std::string(k_passphrase));
    ASSERT_EQ(o["integrations"].size(), 699u);
    EXPECT_EQ(o["integrations"][299]["name"], "n0300");
    EXPECT_EQ(o["integrations"][299]["token"]["secret"], "pit-11111111-0000-4000-8000-000000000300");
    EXPECT_EQ(o["integrations"][299]["rotation"]["old"]["secret"], "pit-00000000-0000-4000-8000-000000000300");
    expect_agreement(o, std::string(k_passphrase), {}, 233);
}

} // namespace
} // namespace pitool::test
