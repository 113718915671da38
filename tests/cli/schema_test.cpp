// The JSON Schemas of docs/schema/ and the check every fixture run gets
// (support/json_schema.hpp): the check can fail, every command is in
// index.json, and the documented contradictions stay settled.

#include "cli/cli_fixture.hpp"
#include "support/json_schema.hpp"

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

namespace pitool::test {
namespace {

using nlohmann::json;

/// A delete --json document as pitool prints it.
json schema_test_delete_doc()
{
    return {{"deleted", "acme"}, {"fingerprint", "cafe:e51d2ec8"}, {"schema_version", 1}};
}

std::string schema_test_file(const std::filesystem::path& p)
{
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

/// The commands `pitool --help` lists.
std::set<std::string> schema_test_listed_commands(const RunResult& help)
{
    std::set<std::string> names;
    std::istringstream in(help.out);
    bool in_list = false;
    static const std::regex k_row(R"(^  ([a-z][a-z-]*)\s)");
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("Subcommands:", 0) == 0 || line.rfind("SUBCOMMANDS:", 0) == 0) {
            in_list = true;
            continue;
        }
        std::smatch m;
        if (in_list && std::regex_search(line, m, k_row)) names.insert(m[1]);
    }
    return names;
}

class Schema : public CliTest {};

TEST(SchemaCheck, AcceptsADocumentThatFollowsItsSchema)
{
    EXPECT_EQ(schema_problem("delete.json", schema_test_delete_doc()), "");
}

TEST(SchemaCheck, RejectsAWrongType)
{
    auto doc = schema_test_delete_doc();
    doc["deleted"] = 7;
    const auto problem = schema_problem("delete.json", doc);
    EXPECT_NE(problem.find("is not of type 'string'"), std::string::npos) << problem;
}

TEST(SchemaCheck, RejectsAMissingRequiredKey)
{
    auto doc = schema_test_delete_doc();
    doc.erase("fingerprint");
    const auto problem = schema_problem("delete.json", doc);
    EXPECT_NE(problem.find("'fingerprint' is a required property"), std::string::npos) << problem;
    doc = schema_test_delete_doc();
    doc.erase("schema_version");
    EXPECT_NE(schema_problem("delete.json", doc).find("'schema_version' is a required property"), std::string::npos);
}

TEST(SchemaCheck, RejectsAnUnknownKey)
{
    auto doc = schema_test_delete_doc();
    doc["surprise"] = true;
    const auto problem = schema_problem("delete.json", doc);
    EXPECT_NE(problem.find("'surprise' was unexpected"), std::string::npos) << problem;
}

TEST(SchemaCheck, RejectsAnUnknownKeyInAnIntegration)
{
    // The integration object is closed with unevaluatedProperties across its $ref.
    json in = {{"name", "a"},
               {"provider", "hint"},
               {"kind", "partner-key"},
               {"description", ""},
               {"level", nullptr},
               {"account_id", nullptr},
               {"scopes", json::array()},
               {"base_url", "https://api.hint.com"},
               {"created_at", "2026-01-01T00:00:00Z"},
               {"token", {{"fingerprint", "ey_1:0123abcd"}, {"issued_at", "2026-01-01T00:00:00Z"}, {"age_days", 0}}},
               {"rotation", nullptr},
               {"last_check", nullptr},
               {"schema_version", 1}};
    EXPECT_EQ(schema_problem("integration.json", in), "");
    in["kind"] = "pat";
    EXPECT_NE(schema_problem("integration.json", in), "") << "kinds are an enum";
    in["kind"] = "partner-key";
    in["token"]["secret"] = "x";
    EXPECT_NE(schema_problem("integration.json", in), "") << "token's members are closed too";
    in["token"].erase("secret");
    in["bogus"] = 1;
    EXPECT_NE(schema_problem("integration.json", in).find("'bogus' was unexpected"), std::string::npos);
    in.erase("bogus");
    in.erase("schema_version");
    EXPECT_EQ(schema_problem("list.json", json::array({in})), "") << "list items carry no schema_version";
}

void schema_test_check_bad_output()
{
    RunResult r;
    r.exit_code = 0;
    r.out = R"({"deleted":"acme","fingerprint":"cafe:e51d2ec8"})"
            "\n";
    expect_json_output_follows_schema({"delete", "acme", "--json"}, r);
}

TEST(SchemaCheck, TheFixtureCheckFailsOnADocumentOffItsSchema)
{
    EXPECT_NONFATAL_FAILURE(schema_test_check_bad_output(),
                            "pitool delete acme --json: its JSON output does not follow docs/schema/delete.json");
}

TEST(SchemaCheck, PicksTheSchemaFromTheCommandAndTheOutcome)
{
    RunResult r;
    r.exit_code = 0;
    r.out = "{}\n";
    auto got = json_output_of({"--json", "-q", "show", "x"}, r);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->first, "integration.json");
    EXPECT_FALSE(json_output_of({"show", "x"}, r)) << "no JSON asked for";
    EXPECT_FALSE(json_output_of({"show", "--help", "--json"}, r));
    EXPECT_FALSE(json_output_of({"exec", "x", "--json", "--", "true"}, r)) << "exec prints no document";
    EXPECT_FALSE(json_output_of({"exec", "x", "--", "cmd", "--json"}, r)) << "--json after -- is the command's";
    got = json_output_of({"audit", "--format", "json"}, r);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->first, "audit.json");
    r.exit_code = 3;
    r.out = R"({"error":{"code":3,"kind":"not_found","message":"x"},"schema_version":1})"
            "\n";
    got = json_output_of({"show", "x", "--json"}, r);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->first, "error.json");
    r.out = "not json\n";
    r.exit_code = 0;
    got = json_output_of({"show", "x", "--json"}, r);
    ASSERT_TRUE(got);
    EXPECT_NE(schema_problem(got->first, got->second), "") << "a stdout that is not JSON fails";
}

TEST_F(Schema, EveryCommandHasAnIndexEntryAndEverySchemaExists)
{
    // --json is a global flag: every command accepts it, so every command is
    // listed, with its schema or null (it prints no document of its own).
    auto help = ok({"--help"}, {.no_passphrase = true});
    const auto listed = schema_test_listed_commands(help);
    ASSERT_GE(listed.size(), 20u) << help.out;
    const auto& commands = schema_index().at("commands");
    for (const auto& name : listed) {
        ASSERT_TRUE(commands.contains(name)) << name << " has no entry in docs/schema/index.json";
        if (commands[name].is_null()) {
            EXPECT_TRUE(schema_index().at("notes").contains(name)) << name << ": say what it prints instead";
        }
    }
    for (const auto& [name, file] : commands.items()) {
        EXPECT_TRUE(listed.count(name)) << "index.json names " << name << ", which is no command";
        if (!file.is_null()) {
            EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(PITOOL_SOURCE_DIR) / "docs/schema" /
                                                file.get<std::string>()))
                << file;
        }
    }
    EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(PITOOL_SOURCE_DIR) / "docs/schema" /
                                        schema_index().at("error").get<std::string>()));
}

TEST_F(Schema, EveryObjectDocumentCarriesSchemaVersionAndArraysNone)
{
    init_vault(k_t0);
    create_pit("acme", k_token, k_t0);
    EXPECT_EQ(ok_json({"show", "acme", "--json"}, {.at = k_t0}).at("schema_version"), 1);
    EXPECT_EQ(ok_json({"audit", "--format", "json"}, {.at = k_t0}).at("schema_version"), 1);
    EXPECT_EQ(ok_json({"get", "acme", "--json"}, {.at = k_t0}).at("schema_version"), 1);
    const auto list = ok_json({"list", "--json"}, {.at = k_t0});
    ASSERT_TRUE(list.is_array());
    EXPECT_FALSE(list.at(0).contains("schema_version")) << "an array's items are no documents";
    auto r = pitool({"show", "nobody", "--json"}, {.at = k_t0});
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_EQ(json::parse(r.out).at("schema_version"), 1) << "the error object too";
    r = pitool({"--json", "show", "--no-such-flag"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(json::parse(r.out).at("schema_version"), 1) << "a parse error's object too";
}

TEST_F(Schema, DocumentedHistoryActionsAreTheOnesRecordedAndAccepted)
{
    // docs/cli.md's list of actions, the schema's enum and --action agree.
    const std::string doc = schema_test_file(std::filesystem::path(PITOOL_SOURCE_DIR) / "docs/cli.md");
    const auto at = doc.find("\nActions: ");
    ASSERT_NE(at, std::string::npos);
    const std::string para = doc.substr(at, doc.find("\n\n", at + 1) - at);
    std::set<std::string> documented;
    static const std::regex k_action("`([a-z-]+)`");
    for (std::sregex_iterator it(para.begin(), para.end(), k_action), end; it != end; ++it) documented.insert((*it)[1]);
    std::set<std::string> in_schema;
    const auto common =
        json::parse(schema_test_file(std::filesystem::path(PITOOL_SOURCE_DIR) / "docs/schema/common.json"));
    for (const auto& a : common.at("$defs").at("action").at("enum")) in_schema.insert(a.get<std::string>());
    EXPECT_EQ(documented, in_schema);
    init_vault(k_t0);
    for (const auto& a : documented) {
        auto r = pitool({"history", "--action", a, "--json"}, {.at = k_t0});
        EXPECT_EQ(r.exit_code, 0) << a << " " << describe(r);
    }
    EXPECT_EQ(pitool({"history", "--action", "unlock"}, {.at = k_t0}).exit_code, 2);

    // Every action a command records is one of them (old-token-expired: a
    // window that ran out, purged at the next write; rotate-now; import).
    create_pit("a", k_token, k_t0);
    rotate("a", k_token2, k_t0);
    ok({"import"}, {.stdin_data = numbered_pit_lines(1), .at = "2026-01-20 00:00:00"});
    ok({"rotate", "n0000", "--now", "--token-stdin"},
       {.stdin_data = "pit-00000000-0000-4000-8000-00000000abcd", .at = "2026-01-20 00:00:00"});
    ok({"delete", "n0000", "--yes"}, {.at = "2026-01-20 00:00:00"});
    std::set<std::string> recorded;
    for (const auto& e : events({}, "2026-01-20 00:00:00")) recorded.insert(e.at("action").get<std::string>());
    for (const auto& a : recorded) EXPECT_TRUE(documented.count(a)) << a << " is recorded but not documented";
    for (const char* a : {"init", "create", "rotate", "old-token-expired", "import", "rotate-now", "delete"})
        EXPECT_TRUE(recorded.count(a)) << a;
}

} // namespace
} // namespace pitool::test
