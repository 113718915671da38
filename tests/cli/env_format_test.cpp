// `export --format env` and `import --format env` (docs/cli.md, "The env
// format"): VAR=token lines, names mapped to variables by one rule (or
// --name), a round trip, and errors that never echo a value.
#include "cli/cli_fixture.hpp"

#include <gmock/gmock.h>
#include <sys/stat.h>

namespace pitool::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class EnvFormat : public CliTest {
protected:
    void SetUp() override { init_vault(); }

    /// A second vault beside the first, for round trips.
    RunResult in_other(const std::vector<std::string>& args, const Call& call = {}) const
    {
        std::vector<std::string> a{"--vault", (m_tmp / "other" / "vault").string()};
        a.insert(a.end(), args.begin(), args.end());
        Call c = call;
        c.no_vault_flag = true;
        return pitool(a, c);
    }
};

TEST_F(EnvFormat, ExportWritesVarLinesOnlyWithYesSecrets)
{
    create_pit("acme-crm", k_token);
    ok({"create", "joes.practice", "--provider", "hint", "--token-stdin"}, {.stdin_data = std::string(k_token2)});
    auto r = pitool({"export", "--format", "env"});
    EXPECT_EQ(r.exit_code, 2) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("--yes-secrets"));
    EXPECT_EQ(r.out, "");
    r = ok({"export", "--format", "env", "--yes-secrets"});
    EXPECT_EQ(r.out, "ACME_CRM=" + std::string(k_token) + "\nJOES_PRACTICE=" + std::string(k_token2) + "\n");
    r = ok({"export", "--format", "env", "--yes-secrets", "--name", "GHL_TOKEN=acme-crm"});
    EXPECT_EQ(r.out, "GHL_TOKEN=" + std::string(k_token) + "\nJOES_PRACTICE=" + std::string(k_token2) + "\n");
    r = pitool({"export", "--format", "env", "--yes-secrets", "--name", "X=nobody"});
    EXPECT_EQ(r.exit_code, 2) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("no integration named 'nobody'"));
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(pitool({"export", "--format", "yaml"}).exit_code, 2);
}

TEST_F(EnvFormat, ExportToAFileCreatesItPrivate)
{
    create_pit("acme-crm", k_token);
    const auto file = m_tmp / "out" / "tokens.env";
    std::filesystem::create_directories(file.parent_path());
    auto r = ok({"export", "--format", "env", "--yes-secrets", "-o", file.string()});
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(read_file(file), "ACME_CRM=" + std::string(k_token) + "\n");
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    // Nothing else was left in the directory (no temporary copy).
    std::size_t entries = 0;
    for (const auto& e : std::filesystem::directory_iterator(file.parent_path())) {
        (void)e;
        ++entries;
    }
    EXPECT_EQ(entries, 1u);
}

TEST_F(EnvFormat, TwoNamesOnOneVariableAreExitTwo)
{
    create_pit("a-b", k_token);
    create_pit("a.b", k_token2);
    auto r = pitool({"export", "--format", "env", "--yes-secrets"});
    EXPECT_EQ(r.exit_code, 2) << describe(r);
    EXPECT_TRUE(one_line(r.err)) << r.err;
    EXPECT_THAT(r.err, HasSubstr("'a-b' and 'a.b' both map to A_B"));
    EXPECT_EQ(r.out, "");
    EXPECT_THAT(r.err, Not(HasSubstr(k_token)));
    r = ok({"export", "--format", "env", "--yes-secrets", "--name", "A_DOT_B=a.b"});
    EXPECT_THAT(r.out, HasSubstr("A_DOT_B=" + std::string(k_token2) + "\n"));
}

TEST_F(EnvFormat, RoundTripExportThenImport)
{
    create_pit("acme-crm", k_token);
    create_pit("beta", k_token2);
    const std::string lines = ok({"export", "--format", "env", "--yes-secrets"}).out;
    ASSERT_EQ(in_other({"init", "--kdf", "interactive"}).exit_code, 0);
    auto r = in_other({"import", "--format", "env", "--provider", "leadconnector", "--location", "loc-1"},
                      {.stdin_data = lines});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(r.out, "Imported 2 integrations\n");
    EXPECT_EQ(in_other({"get", "acme-crm"}).out, std::string(k_token) + "\n");
    EXPECT_EQ(in_other({"get", "beta"}).out, std::string(k_token2) + "\n");
    auto shown = nlohmann::json::parse(in_other({"show", "acme-crm", "--json"}).out);
    EXPECT_EQ(shown["provider"], "leadconnector");
    EXPECT_EQ(shown["kind"], "pit");
    EXPECT_EQ(shown["account_id"], "loc-1");
    // And back out again: the same lines.
    EXPECT_EQ(in_other({"export", "--format", "env", "--yes-secrets"}).out, lines);
}

TEST_F(EnvFormat, ImportTakesQuotesCommentsExportAndNameOverrides)
{
    const std::string input = "# from .env\n\nexport GHL_TOKEN='" + std::string(k_token) + "'\nHINT_KEY=\"" +
                              std::string(k_token2) + "\"\r\n";
    auto r = ok({"import", "--format", "env", "--provider", "hint", "--name", "GHL_TOKEN=joes"}, {.stdin_data = input});
    EXPECT_EQ(r.out, "Imported 2 integrations\n");
    EXPECT_EQ(ok({"get", "joes"}).out, std::string(k_token) + "\n");
    EXPECT_EQ(ok({"get", "hint-key"}).out, std::string(k_token2) + "\n");
    EXPECT_EQ(ok_json({"show", "hint-key", "--json"})["kind"], "partner-key");
}

TEST_F(EnvFormat, BadLinesNameTheirLineAndNeverTheValue)
{
    const std::string tok(k_token);
    struct Case {
        std::string input;
        std::string expected;
    };
    const std::vector<Case> cases{
        {"A=" + tok + "\n" + tok + "\n", "line 2: not a VAR=value line"},
        {"\n\n1A=" + tok + "\n", "line 3: the variable name must match"},
        {"SHORT=pit-1\n", "line 1: the value of SHORT: token is too short"},
        {"SP=" + tok + " x" + tok + "\n", "line 1: the value of SP: token contains whitespace"},
        {"__=" + tok + "\n", "line 1: __ maps to no valid name"},
    };
    for (const auto& c : cases) {
        auto r = pitool({"import", "--format", "env", "--provider", "leadconnector", "--location", "loc-1"},
                        {.stdin_data = c.input});
        EXPECT_EQ(r.exit_code, 2) << c.expected << describe(r);
        EXPECT_TRUE(one_line(r.err)) << r.err;
        EXPECT_THAT(r.err, HasSubstr(c.expected));
        EXPECT_THAT(r.err, HasSubstr("(nothing imported)"));
        EXPECT_THAT(r.err, Not(HasSubstr("pit-")));
    }
    // Two lines for one name: the second finds the first (exit 4, as JSON lines).
    auto twice =
        pitool({"import", "--format", "env", "--provider", "hint"}, {.stdin_data = "A=" + tok + "\na=" + tok + "\n"});
    EXPECT_EQ(twice.exit_code, 4) << describe(twice);
    EXPECT_THAT(twice.err, HasSubstr("line 2: an integration named 'a' already exists (nothing imported"));
    EXPECT_EQ(ok_json({"list", "--json"}).size(), 0u);
    // Provider is required, flags of the env form stay with it.
    auto r = pitool({"import", "--format", "env"}, {.stdin_data = "A=" + tok + "\n"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.err, HasSubstr("needs --provider"));
    r = pitool({"import", "--provider", "hint"}, {.stdin_data = ""});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.err, HasSubstr("apply to --format env only"));
}

} // namespace
} // namespace pitool::test
