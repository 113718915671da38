// Network behaviour no other suite covered: exchange-code's --redirect-uri,
// --description and --code-file, the JSON shape of refresh, and the on-disk
// secret scan for what pitool obtained over the network (OAuth access and
// refresh tokens, Hint practice keys): not in any file of the vault
// directory or of pitool's temporary directory, not even a 16-character
// prefix, and no prefix on stdout or stderr either.

#include "e2e/e2e_support.hpp"
#include "support/vault_snapshot.hpp"

#include <set>
#include <sstream>

namespace pitool::e2e {
namespace {

std::set<std::string> keys(const json& j)
{
    std::set<std::string> out;
    if (j.is_object())
        for (const auto& [k, v] : j.items()) out.insert(k);
    return out;
}

class NetCoverage : public E2E {
protected:
    /// Every pitool run of these tests gets its own TMPDIR, scanned at the end.
    How how(const std::string& in = {}) const
    {
        How h;
        h.in = in;
        h.env["TMPDIR"] = tmp_dir().string();
        return h;
    }
    [[nodiscard]] std::filesystem::path tmp_dir() const { return dir() / "pitool-tmp"; }

    void SetUp() override
    {
        E2E::SetUp();
        std::filesystem::create_directories(tmp_dir());
    }
};

TEST_F(NetCoverage, ExchangeCodeSendsRedirectUriAndKeepsTheDescription)
{
    std::string cid = store_app("crm-app", {"locations.readonly"});
    // A code minted for a redirect URI is only exchanged with that URI.
    std::string code = mint_code(cid, "LOC1", {{"redirect_uri", "https://app.example/oauth/cb"}});
    const std::vector<std::string> base{"exchange-code", "--provider", "leadconnector", "--app",
                                        "crm-app",       "--name",     "crm",           "--code-stdin"};
    const pitool::test::VaultSnapshot before(vault().parent_path());
    pit_expect(7, base, how(code + "\n"));
    auto wrong = base;
    wrong.insert(wrong.end(), {"--redirect-uri", "https://app.example/other"});
    pit_expect(7, wrong, how(code + "\n"));
    EXPECT_TRUE(before.unchanged()) << "a refused exchange wrote the vault";
    auto right = base;
    right.insert(right.end(), {"--redirect-uri", "https://app.example/oauth/cb", "--description", "CRM sync"});
    right.insert(right.begin(), "--json");
    auto r = pit_expect(0, right, how(code + "\n"));
    auto j = parsed(r);
    EXPECT_EQ(j["description"], "CRM sync") << r.out;
    EXPECT_EQ(show("crm")["description"], "CRM sync");
    EXPECT_EQ(j["kind"], "oauth");
}

TEST_F(NetCoverage, CodeFileIsASuccessfulSource)
{
    std::string cid = store_app("crm-app", {"locations.readonly"});
    const auto code_file = dir() / "code.txt";
    pitool::test::write_file(code_file, mint_code(cid, "LOC1") + "\n");
    pit_expect(0,
               {"exchange-code", "--provider", "leadconnector", "--app", "crm-app", "--name", "crm", "--code-file",
                code_file.string()},
               how());
    EXPECT_EQ(show("crm")["oauth"]["has_refresh_token"], true);
    pit_expect(0, {"test-call", "crm"}, how());

    // Hint too.
    std::string pid = store_partner("acme");
    pitool::test::write_file(code_file, mint_hint_code(pid) + "\n");
    pit_expect(0,
               {"exchange-code", "--provider", "hint", "--partner", "acme", "--name", "joes", "--code-file",
                code_file.string()},
               how());
    EXPECT_EQ(show("joes")["kind"], "practice-key");
}

TEST_F(NetCoverage, RefreshJsonIsTheIntegrationObjectPlusRefreshed)
{
    oauth_token("crm", "LOC1");
    const std::set<std::string> integration{"account_id", "base_url", "created_at", "description", "kind",
                                            "last_check", "level",    "name",       "oauth",       "provider",
                                            "rotation",   "scopes",   "token"};
    auto r = pit_expect(0, {"--json", "refresh", "crm"}, how());
    auto j = parsed(r);
    auto expected = integration;
    expected.insert("refreshed");
    expected.insert("schema_version"); // every JSON object document (docs/cli.md)
    // extra (company_id) is present for a location-level grant.
    if (j.contains("extra")) expected.insert("extra");
    EXPECT_EQ(keys(j), expected) << j.dump();
    EXPECT_EQ(j["refreshed"], true);
    EXPECT_EQ(j["name"], "crm");
    EXPECT_TRUE(j["oauth"]["access_expires_at"].is_string()) << j.dump();
    EXPECT_EQ(j["oauth"]["has_refresh_token"], true);
    EXPECT_EQ(j["token"]["fingerprint"], show("crm")["token"]["fingerprint"]);

    auto again = parsed(pit_expect(0, {"--json", "refresh", "crm", "--if-needed"}, how()));
    EXPECT_EQ(again["refreshed"], false) << again.dump();
    EXPECT_EQ(keys(again), expected) << again.dump();
}

TEST_F(NetCoverage, SecretsObtainedOverTheNetworkAreNeverOnDiskOrPrinted)
{
    // OAuth: exchange, refresh (a second pair), Hint: a practice key.
    std::string cid = store_app("crm-app", {"locations.readonly", "contacts.write"});
    pit_expect(0, {"exchange-code", "--provider", "leadconnector", "--app", "crm-app", "--name", "crm", "--code-stdin"},
               how(mint_code(cid, "LOC1") + "\n"));
    std::string pid = store_partner("acme");
    pit_expect(0, {"exchange-code", "--provider", "hint", "--partner", "acme", "--name", "joes", "--code-stdin"},
               how(mint_hint_code(pid) + "\n"));

    // What pitool obtained, read back through export --yes-secrets (its
    // stdout is where tokens belong; every other output is checked below).
    std::vector<std::string> obtained;
    auto collect = [&] {
        How h = how();
        h.reveals_token = true;
        auto r = pit_expect(0, {"export", "--yes-secrets"}, h);
        std::istringstream lines(r.out);
        for (std::string line; std::getline(lines, line);) {
            auto row = json::parse(line);
            for (const auto& [k, v] : row["secrets"].items()) obtained.push_back(plant(v.get<std::string>()));
        }
    };
    collect();
    pit_expect(0, {"refresh", "crm"}, how());
    pit_expect(0, {"test-call", "crm"}, how());
    pit_expect(0, {"test-call", "joes"}, how());
    collect();
    // The first pair's refresh token is spent and replaced: both pairs are known.
    std::set<std::string> distinct(obtained.begin(), obtained.end());
    ASSERT_GE(distinct.size(), 6u) << "access + refresh twice, practice key, partner key, client secret";

    // Every command a user runs afterwards, read-only and writing.
    for (const std::vector<std::string>& args : {std::vector<std::string>{"list"},
                                                 {"--json", "list"},
                                                 {"show", "crm"},
                                                 {"--json", "show", "joes"},
                                                 {"history"},
                                                 {"--json", "history"},
                                                 {"audit"},
                                                 {"--json", "audit"},
                                                 {"verify"},
                                                 {"export"},
                                                 {"-v", "test-call", "crm"},
                                                 {"-v", "--json", "refresh", "crm"},
                                                 {"-v", "test-call", "joes"}})
        pit_expect(0, args, how());
    collect();

    // On disk: every file below the vault's directory (vault, backup, data
    // files, lock, agent sockets, the TMPDIR pitool was given) holds no
    // obtained secret, and not even a 16-character prefix of one.
    int files = 0;
    for (const auto& root : {vault().parent_path(), tmp_dir()}) {
        for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
            if (!e.is_regular_file()) continue;
            ++files;
            const auto bytes = pitool::test::read_file(e.path());
            for (const auto& s : obtained) {
                EXPECT_EQ(bytes.find(s), std::string::npos) << "an obtained secret in clear in " << e.path();
                if (s.size() >= 16 && !s.starts_with("eyJ")) {
                    EXPECT_EQ(bytes.find(s.substr(0, 16)), std::string::npos)
                        << "a 16-character prefix of an obtained secret in " << e.path();
                }
            }
        }
    }
    EXPECT_GE(files, 3) << "vault, its data file and its backup at least";
    std::size_t left = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(tmp_dir())) ++left;
    EXPECT_EQ(left, 0u) << "pitool left files in its TMPDIR";
    // Outputs: TearDown checks every recorded stdout and stderr for every
    // planted secret; the prefixes are checked here.
}

} // namespace
} // namespace pitool::e2e
