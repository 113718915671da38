// pitool import / export: one locked write for a whole import, nothing
// written on any bad line, secrets exported only when asked.
#include "cli/cli_fixture.hpp"
#include "support/vault_snapshot.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

namespace pitool::test {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

std::string line(const std::string& name, std::string_view token, const std::string& extra = "")
{
    return R"({"name":")" + name + R"(","provider":"leadconnector","kind":"pit","level":"location",)" +
           R"("account_id":"LOC1","scopes":["contacts.readonly"],"secrets":{"token":")" + std::string(token) + "\"}" +
           extra + "}\n";
}

std::vector<json> lines_of(const std::string& out)
{
    std::vector<json> v;
    std::istringstream in(out);
    for (std::string l; std::getline(in, l);) v.push_back(json::parse(l));
    return v;
}

class ImportExport : public CliTest {};

TEST_F(ImportExport, TimesWithAnOffsetAreConvertedToUtc)
{
    init_vault(k_t0);
    ok({"import"},
       {.stdin_data =
            line("east", "pit-00000000-0000-4000-8000-000000000003", R"(,"created_at":"2025-12-01T02:00:00+02:00")") +
            line("west", "pit-00000000-0000-4000-8000-000000000004", R"(,"created_at":"2025-11-30T19:00:00-05:00")"),
        .at = k_t0});
    EXPECT_EQ(ok_json({"--json", "show", "east"}, {.at = k_t0})["created_at"], "2025-12-01T00:00:00Z");
    EXPECT_EQ(ok_json({"--json", "show", "west"}, {.at = k_t0})["created_at"], "2025-12-01T00:00:00Z");
}

TEST_F(ImportExport, ImportsEveryLineInOneWriteAndExportRoundTrips)
{
    init_vault(k_t0);
    create_pit("already", k_token, k_t0);
    rotate("already", k_token2, k_t0); // an open window: old token in the export too
    auto before = events().size();
    std::string input = line("b-two", "pit-00000000-0000-4000-8000-000000000002") + "\n" +
                        line("a-one", "pit-00000000-0000-4000-8000-000000000001",
                             R"(,"description":"imported","created_at":"2025-12-01T00:00:00Z")");
    auto r = ok({"import"}, {.stdin_data = input, .at = k_t0});
    EXPECT_THAT(r.out, HasSubstr("Imported 2 integrations"));
    EXPECT_EQ(events().size(), before + 2);
    EXPECT_EQ(ok({"get", "a-one"}, {.at = k_t0}).out, "pit-00000000-0000-4000-8000-000000000001\n");
    auto shown = ok_json({"--json", "show", "a-one"}, {.at = k_t0});
    EXPECT_EQ(shown["description"], "imported");
    EXPECT_EQ(shown["created_at"], "2025-12-01T00:00:00Z");

    // Without --yes-secrets: metadata only, no token anywhere.
    auto meta = ok({"export"}, {.at = k_t0});
    EXPECT_EQ(meta.out.find("pit-00000000"), std::string::npos);
    EXPECT_EQ(meta.out.find(std::string(k_token)), std::string::npos);
    auto rows = lines_of(meta.out);
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[0]["name"], "a-one"); // name order
    EXPECT_FALSE(rows[0].contains("secrets"));

    // With it: the import format, which a fresh vault takes back unchanged.
    auto full = ok({"export", "--yes-secrets"}, {.at = k_t0});
    auto with = lines_of(full.out);
    ASSERT_EQ(with.size(), 3u);
    EXPECT_EQ(with[1]["name"], "already");
    EXPECT_EQ(with[1]["secrets"]["token"], std::string(k_token2));
    EXPECT_EQ(with[1]["secrets"]["old_token"], std::string(k_token));

    std::filesystem::remove(m_vault);
    std::filesystem::remove(m_dir / "vault.bak");
    init_vault(k_t0);
    ok({"import"}, {.stdin_data = full.out, .at = k_t0});
    auto again = ok({"export", "--yes-secrets"}, {.at = k_t0});
    EXPECT_EQ(again.out, full.out) << "export -> import -> export is the identity";
    EXPECT_EQ(ok({"get", "already", "--old"}, {.at = k_t0}).out, std::string(k_token) + "\n");
}

TEST_F(ImportExport, ABadLineWritesNothing)
{
    init_vault(k_t0);
    create_pit("exists", k_token, k_t0);
    const VaultSnapshot before(m_dir);
    const std::string good = line("fine", "pit-00000000-0000-4000-8000-000000000009");
    struct Case {
        std::string input;
        int code;
        std::string needle;
    };
    const std::vector<Case> cases{
        {good + "not json\n", 2, "line 2: not valid JSON"},
        {good + line("Bad Name", "pit-00000000-0000-4000-8000-000000000008"), 2, "line 2"},
        {good + line("short", "abc"), 2, "not a valid token"},
        {good + line("fp", "pit-00000000-0000-4000-8000-000000000007", R"(,"token":{"fingerprint":"0000:00000000"})"),
         2, "does not match its fingerprint"},
        {good + R"({"name":"nokind","provider":"leadconnector","secrets":{"token":"pit-1234567890"}})"
                "\n",
         2, "missing field 'kind'"},
        {good + line("exists", "pit-00000000-0000-4000-8000-000000000006"), 4, "already exists"},
        {good + good, 4, "already exists"},
        {good + line("rot", "pit-00000000-0000-4000-8000-000000000005",
                     R"(,"rotation":{"started_at":"2026-01-01T00:00:00Z"})"),
         2, "old_token"},
    };
    for (const auto& c : cases) {
        auto r = pitool({"import"}, {.stdin_data = c.input, .at = k_t0});
        EXPECT_EQ(r.exit_code, c.code) << c.needle << " " << describe(r);
        EXPECT_TRUE(one_line(r.err)) << describe(r);
        EXPECT_THAT(r.err, HasSubstr(c.needle));
        EXPECT_THAT(r.err, HasSubstr("nothing imported"));
        EXPECT_EQ(r.err.find("pit-00000000"), std::string::npos) << "never quotes a token";
        EXPECT_TRUE(before.unchanged()) << c.needle;
    }
}

TEST_F(ImportExport, SkipExistingAndShortTokenForm)
{
    init_vault(k_t0);
    create_pit("exists", k_token, k_t0);
    std::string input = line("exists", "pit-00000000-0000-4000-8000-000000000006") +
                        R"({"name":"plain","provider":"hint","kind":"partner-key","token":"hint_partner_key_plain_1"})"
                        "\n";
    auto r = ok_json({"--json", "import", "--skip-existing"}, {.stdin_data = input, .at = k_t0});
    EXPECT_EQ(r, (json{{"imported", 1}, {"skipped", 1}, {"schema_version", 1}}));
    EXPECT_EQ(ok({"get", "exists"}, {.at = k_t0}).out, std::string(k_token) + "\n") << "left alone";
    EXPECT_EQ(ok({"get", "plain"}, {.at = k_t0}).out, "hint_partner_key_plain_1\n");
}

} // namespace
} // namespace pitool::test
