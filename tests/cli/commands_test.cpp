// Happy paths and documented exit codes of every offline command, run
// through the real binary.
#include "cli/cli_fixture.hpp"
#include "support/vault_snapshot.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <sstream>

namespace pitool::test {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

class Commands : public CliTest {};

mode_t mode_of(const std::filesystem::path& p)
{
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) return 0;
    return st.st_mode & 07777;
}

std::map<std::string, std::string> parse_env_output(const std::string& out)
{
    std::map<std::string, std::string> env;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);)
        if (auto eq = line.find('='); eq != std::string::npos) env[line.substr(0, eq)] = line.substr(eq + 1);
    return env;
}

TEST_F(Commands, HelpAndVersionExitZero)
{
    auto help = pitool({"--help"});
    EXPECT_EQ(help.exit_code, 0) << describe(help);
    EXPECT_THAT(help.out, HasSubstr("rotate"));
    auto version = pitool({"--version"});
    EXPECT_EQ(version.exit_code, 0) << describe(version);
    // docs/cli.md: "prints `pitool 0.1.0`": the name, one space, the version, nothing else.
    EXPECT_EQ(version.out, "pitool " PITOOL_VERSION "\n");
    EXPECT_THAT(std::string(PITOOL_VERSION), ::testing::MatchesRegex("[0-9]+\\.[0-9]+\\.[0-9]+"));
    EXPECT_EQ(version.err, "");
    auto sub_help = pitool({"create", "--help"});
    EXPECT_EQ(sub_help.exit_code, 0) << describe(sub_help);
    EXPECT_THAT(sub_help.out, HasSubstr("--token-stdin"));
}

TEST_F(Commands, HelpCommandAndNearestCommandSuggestion)
{
    auto help = pitool({"help", "create"});
    EXPECT_EQ(help.exit_code, 0) << describe(help);
    EXPECT_EQ(help.out, pitool({"create", "--help"}).out);
    EXPECT_EQ(pitool({"help"}).out, pitool({"--help"}).out);
    auto bad = pitool({"help", "rotat"});
    EXPECT_EQ(bad.exit_code, 2) << describe(bad);
    EXPECT_EQ(bad.err, "pitool: error: unknown command; did you mean rotate? (see pitool --help for the list)\n");

    auto typo = pitool({"rotaet", "a"});
    EXPECT_EQ(typo.exit_code, 2) << describe(typo);
    EXPECT_EQ(typo.err, "pitool: error: unknown command; did you mean rotate? (see pitool --help for the list)\n");
    // Far from every command (a pasted token, say): no suggestion, and never echoed.
    auto far = pitool({"pit-5ec12e75-bead"});
    EXPECT_EQ(far.exit_code, 2) << describe(far);
    EXPECT_EQ(far.err, "pitool: error: unknown command (see pitool --help for the list)\n");
}

TEST_F(Commands, UnknownOptionNamesTheNearestAndStrayWordsAreNotEchoed)
{
    init_vault();
    auto typo = pitool({"list", "--provder", "hint"});
    EXPECT_EQ(typo.exit_code, 2) << describe(typo);
    EXPECT_EQ(typo.err,
              "pitool: error: --provder: unknown option; did you mean --provider? (see pitool list --help)\n");
    auto far = pitool({"list", "--frobnicate-everything=1"});
    EXPECT_EQ(far.exit_code, 2) << describe(far);
    EXPECT_EQ(far.err, "pitool: error: --frobnicate-everything: unknown option (see pitool list --help)\n");
    auto stray = pitool({"show", "a", "stray-word-7f3a9c"});
    EXPECT_EQ(stray.exit_code, 2) << describe(stray);
    EXPECT_THAT(stray.err, Not(HasSubstr("stray-word-7f3a9c")));
    EXPECT_THAT(stray.err, HasSubstr("unexpected argument"));
}

TEST_F(Commands, UnknownCommandOrFlagIsUsageError)
{
    init_vault();
    for (const std::vector<std::string>& args : {std::vector<std::string>{"frobnicate"},
                                                 {"list", "--frobnicate"},
                                                 {"--frobnicate", "list"},
                                                 {},
                                                 {"frobnicate", "--help"},
                                                 {"pit-0c5e2a9f-pasted-by-mistake"}}) {
        auto r = pitool(args);
        EXPECT_EQ(r.exit_code, 2) << describe(r);
        EXPECT_TRUE(one_line(r.err)) << describe(r);
        EXPECT_EQ(r.out, "");
        // An unknown first word is not echoed: it may be a pasted token.
        EXPECT_EQ(r.err.find("pasted-by-mistake"), std::string::npos) << r.err;
    }
}

TEST_F(Commands, InitCreatesPrivateVaultAndRefusesToOverwrite)
{
    auto r = pitool({"init", "--kdf", "interactive"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(mode_of(m_vault), 0600u);
    EXPECT_EQ(mode_of(m_dir), 0700u);
    const VaultSnapshot before(m_dir);
    auto again = pitool({"init", "--kdf", "interactive"});
    EXPECT_EQ(again.exit_code, 4) << describe(again);
    EXPECT_TRUE(one_line(again.err)) << describe(again);
    EXPECT_TRUE(before.unchanged());
    auto list = pitool({"list", "--json"});
    EXPECT_EQ(list.exit_code, 0) << describe(list);
    EXPECT_EQ(json::parse(list.out), json::array());
}

TEST_F(Commands, InitWithUnknownKdfLevelIsUsageError)
{
    auto r = pitool({"init", "--kdf", "extreme"});
    EXPECT_EQ(r.exit_code, 2) << describe(r);
    EXPECT_FALSE(std::filesystem::exists(m_vault));
}

TEST_F(Commands, VaultPathFromEnvironment)
{
    auto r =
        pitool({"init", "--kdf", "interactive"}, {.env = {{"PITOOL_VAULT", m_vault.string()}}, .no_vault_flag = true});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_TRUE(std::filesystem::is_regular_file(m_vault));
    auto xdg = m_tmp / "xdg";
    auto r2 =
        pitool({"init", "--kdf", "interactive"}, {.env = {{"XDG_DATA_HOME", xdg.string()}}, .no_vault_flag = true});
    ASSERT_EQ(r2.exit_code, 0) << describe(r2);
    EXPECT_TRUE(std::filesystem::is_regular_file(xdg / "pitool" / "vault"));
}

TEST_F(Commands, CreateEachKind)
{
    init_vault();
    auto token_file = m_tmp / "token.txt";
    write_file(token_file, std::string(k_token2) + "\n");
    ok({"create", "pit-loc", "--provider", "leadconnector", "--location", "loc-1", "--scope", "contacts.readonly",
        "--description", "CRM sync", "--token-stdin"},
       {.stdin_data = std::string(k_token) + "\n"});
    ok({"create", "pit-agency", "--provider", "leadconnector", "--kind", "pit", "--company", "comp-1", "--token-file",
        token_file.string()});
    ok({"create", "app", "--provider", "leadconnector", "--kind", "oauth-app", "--client-id", "client-1",
        "--token-stdin"},
       {.stdin_data = std::string(k_client_secret)});
    ok({"create", "hint-partner", "--provider", "hint", "--token-stdin"}, {.stdin_data = "hint_partner_key_1"});
    ok({"create", "hint-practice", "--provider", "hint", "--kind", "practice-key", "--practice", "prac-9",
        "--token-stdin"},
       {.stdin_data = "hint_practice_key_2"});

    auto list = ok_json({"list", "--json"});
    ASSERT_EQ(list.size(), 5u) << list.dump(2);
    std::map<std::string, json> by_name;
    for (const auto& j : list) by_name[j.at("name")] = j;
    EXPECT_EQ(by_name["pit-loc"]["kind"], "pit");
    EXPECT_EQ(by_name["pit-loc"]["level"], "location");
    EXPECT_EQ(by_name["pit-loc"]["account_id"], "loc-1");
    EXPECT_EQ(by_name["pit-loc"]["description"], "CRM sync");
    EXPECT_EQ(by_name["pit-loc"]["scopes"], json::array({"contacts.readonly"}));
    EXPECT_EQ(by_name["pit-agency"]["level"], "agency");
    EXPECT_EQ(by_name["pit-agency"]["account_id"], "comp-1");
    EXPECT_EQ(by_name["app"]["kind"], "oauth-app");
    EXPECT_EQ(by_name["hint-partner"]["provider"], "hint");
    EXPECT_EQ(by_name["hint-partner"]["kind"], "partner-key");
    EXPECT_EQ(by_name["hint-practice"]["kind"], "practice-key");
    EXPECT_EQ(by_name["hint-practice"]["account_id"], "prac-9");

    // The trailing newline of stdin and of the file is not part of the token.
    EXPECT_EQ(ok({"get", "pit-loc"}).out, std::string(k_token) + "\n");
    EXPECT_EQ(ok({"get", "pit-agency"}).out, std::string(k_token2) + "\n");
    EXPECT_EQ(ok({"get", "app"}).out, std::string(k_client_secret) + "\n");
}

TEST_F(Commands, CreatePrintsFingerprintNotToken)
{
    init_vault();
    auto r = ok({"create", "a", "--provider", "leadconnector", "--location", "loc-1", "--token-stdin"},
                {.stdin_data = std::string(k_token)});
    EXPECT_THAT(r.out, Not(HasSubstr(k_token)));
    auto fp = ok_json({"show", "a", "--json"})["token"]["fingerprint"].get<std::string>();
    EXPECT_THAT(fp, ::testing::StartsWith(std::string(k_token.substr(k_token.size() - 4)) + ":"));
    EXPECT_THAT(r.out, HasSubstr(fp));
}

TEST_F(Commands, CreateWithoutTokenAndWithoutTerminalFailsAtOnce)
{
    init_vault();
    auto start = std::chrono::steady_clock::now();
    auto r = pitool({"create", "a", "--provider", "leadconnector", "--location", "loc-1"}, {.timeout_seconds = 10});
    auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(r.exit_code, 2) << describe(r);
    EXPECT_TRUE(one_line(r.err)) << describe(r);
    EXPECT_LT(elapsed, std::chrono::seconds(5));
    auto rot = pitool({"rotate", "a"}, {.timeout_seconds = 10});
    EXPECT_EQ(rot.exit_code, 2) << describe(rot);
}

TEST_F(Commands, CreateRejectsBadInput)
{
    init_vault();
    const VaultSnapshot before(m_dir);
    const std::string tok(k_token);
    struct Case {
        std::vector<std::string> args;
        int code;
    };
    const std::vector<Case> cases{
        {{"create", "Upper", "--provider", "leadconnector", "--location", "l", "--token-stdin"}, 2},
        {{"create", "-dash", "--provider", "leadconnector", "--location", "l", "--token-stdin"}, 2},
        {{"create", "a/b", "--provider", "leadconnector", "--location", "l", "--token-stdin"}, 2},
        {{"create", std::string(65, 'a'), "--provider", "leadconnector", "--location", "l", "--token-stdin"}, 2},
        {{"create", "a", "--provider", "salesforce", "--token-stdin"}, 2},
        {{"create", "a", "--provider", "leadconnector", "--token-stdin"}, 2},
        {{"create", "a", "--provider", "leadconnector", "--kind", "pit", "--token-stdin"}, 2},
        {{"create", "a", "--provider", "leadconnector", "--location", "l", "--company", "c", "--token-stdin"}, 2},
        {{"create", "a", "--provider", "leadconnector", "--kind", "oauth-app", "--token-stdin"}, 2},
        {{"create", "a", "--provider", "hint", "--kind", "pit", "--token-stdin"}, 2},
        {{"create", "a", "--provider", "leadconnector", "--location", "l", "--scope", "no.such.scope",
          "--strict-scopes", "--token-stdin"},
         2},
        {{"create", "a", "--provider", "leadconnector", "--location", "l", "--token-stdin", "--token-file",
          (m_tmp / "t").string()},
         2},
    };
    for (const auto& c : cases) {
        auto r = pitool(c.args, {.stdin_data = tok});
        EXPECT_EQ(r.exit_code, c.code) << c.args[1] << " " << describe(r);
        EXPECT_TRUE(one_line(r.err)) << describe(r);
        EXPECT_EQ(r.out, "") << describe(r);
    }
    // Tokens that are too short or contain whitespace.
    for (const std::string bad : {"short", "has space in-it-12345", ""}) {
        auto r = pitool({"create", "a", "--provider", "hint", "--token-stdin"}, {.stdin_data = bad});
        EXPECT_EQ(r.exit_code, 2) << "token '" << bad << "' " << describe(r);
    }
    EXPECT_TRUE(before.unchanged());
    EXPECT_EQ(ok_json({"list", "--json"}), json::array());
}

TEST_F(Commands, CreateDuplicateNameIsConflict)
{
    init_vault();
    create_pit("a", k_token);
    const VaultSnapshot before(m_dir);
    auto r = pitool({"create", "a", "--provider", "hint", "--token-stdin"}, {.stdin_data = std::string(k_token2)});
    EXPECT_EQ(r.exit_code, 4) << describe(r);
    EXPECT_TRUE(before.unchanged());
    EXPECT_EQ(ok({"get", "a"}).out, std::string(k_token) + "\n");
}

TEST_F(Commands, UnknownScopeWarnsButSucceeds)
{
    init_vault();
    auto r = pitool({"create", "a", "--provider", "leadconnector", "--location", "l", "--scope",
                     "contacts.readonly,made.up.scope", "--token-stdin"},
                    {.stdin_data = std::string(k_token)});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("made.up.scope"));
    EXPECT_THAT(r.out, Not(HasSubstr("warn")));
    EXPECT_EQ(ok_json({"show", "a", "--json"})["scopes"], json::array({"contacts.readonly", "made.up.scope"}));
    // -q silences the warning.
    auto q = pitool({"-q", "create", "b", "--provider", "leadconnector", "--location", "l", "--scope", "made.up.scope",
                     "--token-stdin"},
                    {.stdin_data = std::string(k_token2)});
    EXPECT_EQ(q.exit_code, 0) << describe(q);
    EXPECT_EQ(q.err, "");
}

TEST_F(Commands, BaseUrlIsValidated)
{
    init_vault();
    int n = 0;
    for (const std::string bad : {"ftp://example.com", "example.com", "https://", "https://ex ample.com",
                                  "https://example.com/v1", "https://example.com:99999", "https://example.com?x=1"}) {
        auto r = pitool({"create", "bad" + std::to_string(n++), "--provider", "leadconnector", "--location", "l",
                         "--base-url", bad, "--token-stdin"},
                        {.stdin_data = std::string(k_token)});
        EXPECT_EQ(r.exit_code, 2) << bad << " " << describe(r);
    }
    ok({"create", "good", "--provider", "leadconnector", "--location", "l", "--base-url", "http://127.0.0.1:8080",
        "--token-stdin"},
       {.stdin_data = std::string(k_token)});
    EXPECT_EQ(ok_json({"show", "good", "--json"})["base_url"], "http://127.0.0.1:8080");
    ok({"create", "default", "--provider", "leadconnector", "--location", "l", "--token-stdin"},
       {.stdin_data = std::string(k_token)});
    EXPECT_EQ(ok_json({"show", "default", "--json"})["base_url"], "https://services.leadconnectorhq.com");
}

TEST_F(Commands, RotateLifecycle)
{
    init_vault();
    create_pit("a", k_token);
    auto fp1 = ok_json({"show", "a", "--json"})["token"]["fingerprint"];

    auto same = pitool({"rotate", "a", "--token-stdin"}, {.stdin_data = std::string(k_token)});
    EXPECT_EQ(same.exit_code, 4) << describe(same);

    auto rot = ok_json({"--json", "rotate", "a", "--token-stdin"}, {.stdin_data = std::string(k_token2)});
    auto fp2 = rot["token"]["fingerprint"];
    EXPECT_NE(fp1, fp2);
    ASSERT_TRUE(rot["rotation"].is_object()) << rot.dump();
    EXPECT_EQ(rot["rotation"]["old_fingerprint"], fp1);

    // Both tokens are retrievable during the window.
    EXPECT_EQ(ok({"get", "a"}).out, std::string(k_token2) + "\n");
    EXPECT_EQ(ok({"get", "a", "--old"}).out, std::string(k_token) + "\n");

    // A second rotate while the window is open is refused, --now too.
    const VaultSnapshot before(m_dir);
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"rotate", "a", "--token-stdin"}, {"rotate", "a", "--now", "--token-stdin"}}) {
        auto r = pitool(args, {.stdin_data = "pit-0a0a0a0a-1111-4222-8333-444444444444"});
        EXPECT_EQ(r.exit_code, 4) << describe(r);
        EXPECT_TRUE(one_line(r.err)) << describe(r);
    }
    EXPECT_TRUE(before.unchanged());
}

TEST_F(Commands, RotateNowDropsOldTokenAtOnce)
{
    init_vault();
    create_pit("a", k_token);
    auto r = ok_json({"--json", "rotate", "a", "--now", "--token-stdin"}, {.stdin_data = std::string(k_token2)});
    EXPECT_TRUE(r["rotation"].is_null()) << r.dump();
    EXPECT_EQ(ok({"get", "a"}).out, std::string(k_token2) + "\n");
    auto old = pitool({"get", "a", "--old"});
    EXPECT_EQ(old.exit_code, 4) << describe(old);
    // No window: another rotation is allowed straight away.
    rotate("a", k_token);
}

TEST_F(Commands, CancelRotationRestoresOldToken)
{
    init_vault();
    create_pit("a", k_token);
    auto fp1 = ok_json({"show", "a", "--json"})["token"]["fingerprint"];
    rotate("a", k_token2);
    auto r = ok_json({"--json", "cancel-rotation", "a"});
    EXPECT_EQ(r["token"]["fingerprint"], fp1);
    EXPECT_TRUE(r["rotation"].is_null());
    EXPECT_EQ(ok({"get", "a"}).out, std::string(k_token) + "\n");
    EXPECT_EQ(pitool({"get", "a", "--old"}).exit_code, 4);
    auto again = pitool({"cancel-rotation", "a"});
    EXPECT_EQ(again.exit_code, 4) << describe(again);
}

TEST_F(Commands, ExpireOldDropsOldToken)
{
    init_vault();
    create_pit("a", k_token);
    rotate("a", k_token2);
    auto r = ok_json({"--json", "expire-old", "a"});
    EXPECT_TRUE(r["rotation"].is_null());
    EXPECT_EQ(ok({"get", "a"}).out, std::string(k_token2) + "\n");
    EXPECT_EQ(pitool({"get", "a", "--old"}).exit_code, 4);
    auto again = pitool({"expire-old", "a"});
    EXPECT_EQ(again.exit_code, 4) << describe(again);
}

TEST_F(Commands, WindowCommandsWithoutWindowAreConflicts)
{
    init_vault();
    create_pit("a", k_token);
    const VaultSnapshot before(m_dir);
    for (const std::vector<std::string>& args : {std::vector<std::string>{"cancel-rotation", "a"},
                                                 {"expire-old", "a"},
                                                 {"get", "a", "--old"},
                                                 {"exec", "a", "--old", "--", "/bin/true"}}) {
        auto r = pitool(args);
        EXPECT_EQ(r.exit_code, 4) << args[0] << " " << describe(r);
        EXPECT_TRUE(one_line(r.err)) << describe(r);
    }
    EXPECT_TRUE(before.unchanged());
}

TEST_F(Commands, UnknownIntegrationIsNotFound)
{
    init_vault();
    for (const std::vector<std::string>& args : {std::vector<std::string>{"get", "nope"},
                                                 {"show", "nope"},
                                                 {"cancel-rotation", "nope"},
                                                 {"expire-old", "nope"},
                                                 {"delete", "nope", "--yes"},
                                                 {"history", "nope"},
                                                 {"exec", "nope", "--", "/bin/true"}}) {
        auto r = pitool(args);
        EXPECT_EQ(r.exit_code, 3) << args[0] << " " << describe(r);
    }
    auto r = pitool({"rotate", "nope", "--token-stdin"}, {.stdin_data = std::string(k_token)});
    EXPECT_EQ(r.exit_code, 3) << describe(r);
}

TEST_F(Commands, GetJson)
{
    init_vault();
    create_pit("a", k_token);
    rotate("a", k_token2);
    auto cur = ok_json({"--json", "get", "a"});
    EXPECT_EQ(cur["name"], "a");
    EXPECT_EQ(cur["token"], std::string(k_token2));
    auto old = ok_json({"--json", "get", "a", "--old"});
    EXPECT_EQ(old["token"], std::string(k_token));
    EXPECT_EQ(old["fingerprint"], ok_json({"show", "a", "--json"})["rotation"]["old_fingerprint"]);
}

void expect_integration_shape(const json& j)
{
    for (const char* key : {"name", "provider", "kind", "description", "level", "account_id", "scopes", "base_url",
                            "created_at", "token", "rotation"})
        EXPECT_TRUE(j.contains(key)) << "missing " << key << " in " << j.dump();
    EXPECT_TRUE(j["name"].is_string());
    EXPECT_TRUE(j["provider"].is_string());
    EXPECT_TRUE(j["kind"].is_string());
    EXPECT_TRUE(j["description"].is_string());
    EXPECT_TRUE(j["scopes"].is_array());
    EXPECT_TRUE(j["base_url"].is_string());
    EXPECT_TRUE(rfc3339_utc(j["created_at"])) << j["created_at"];
    ASSERT_TRUE(j["token"].is_object());
    EXPECT_TRUE(j["token"]["fingerprint"].is_string());
    EXPECT_TRUE(rfc3339_utc(j["token"]["issued_at"])) << j["token"];
    EXPECT_TRUE(j["token"]["age_days"].is_number_integer());
    EXPECT_EQ(j["token"].size(), 3u) << "token carries only metadata: " << j["token"].dump();
    if (!j["rotation"].is_null()) {
        EXPECT_TRUE(rfc3339_utc(j["rotation"]["started_at"]));
        EXPECT_TRUE(rfc3339_utc(j["rotation"]["old_expires_at"]));
        EXPECT_TRUE(j["rotation"]["old_fingerprint"].is_string());
    }
}

TEST_F(Commands, ShowAndListJsonShape)
{
    init_vault(k_t0);
    ok({"create", "a", "--provider", "leadconnector", "--company", "comp-7", "--scope", "contacts.readonly", "--scope",
        "locations.readonly", "--description", "agency sync", "--token-stdin"},
       {.stdin_data = std::string(k_token), .at = k_t0});
    ok({"create", "h", "--provider", "hint", "--token-stdin"}, {.stdin_data = "hint_partner_key_1", .at = k_t0});
    rotate("a", k_token2, "2026-01-03 12:00:00");

    auto a = ok_json({"show", "a", "--json"}, {.at = "2026-01-05 12:00:00"});
    expect_integration_shape(a);
    EXPECT_EQ(a["name"], "a");
    EXPECT_EQ(a["provider"], "leadconnector");
    EXPECT_EQ(a["kind"], "pit");
    EXPECT_EQ(a["description"], "agency sync");
    EXPECT_EQ(a["level"], "agency");
    EXPECT_EQ(a["account_id"], "comp-7");
    EXPECT_EQ(a["scopes"], json::array({"contacts.readonly", "locations.readonly"}));
    EXPECT_EQ(a["base_url"], "https://services.leadconnectorhq.com");
    EXPECT_EQ(a["created_at"], k_t0_rfc);
    EXPECT_EQ(a["token"]["issued_at"], "2026-01-03T12:00:00Z");
    EXPECT_EQ(a["token"]["age_days"], 2);
    ASSERT_TRUE(a["rotation"].is_object());
    EXPECT_EQ(a["rotation"]["started_at"], "2026-01-03T12:00:00Z");
    EXPECT_EQ(a["rotation"]["old_expires_at"], "2026-01-10T12:00:00Z");

    auto list = ok_json({"list", "--json"}, {.at = "2026-01-05 12:00:00"});
    ASSERT_TRUE(list.is_array());
    ASSERT_EQ(list.size(), 2u);
    for (const auto& j : list) expect_integration_shape(j);
    auto h = list[0]["name"] == "h" ? list[0] : list[1];
    EXPECT_EQ(h["provider"], "hint");
    EXPECT_TRUE(h["rotation"].is_null());
    EXPECT_EQ(h["token"]["age_days"], 4);
    // A list item is the show document without its schema_version (arrays carry none).
    a.erase("schema_version");
    EXPECT_EQ(list[0]["name"] == "a" ? list[0] : list[1], a);
}

TEST_F(Commands, ShowAndListHuman)
{
    init_vault();
    auto empty = pitool({"list"});
    EXPECT_EQ(empty.exit_code, 0) << describe(empty);
    create_pit("alpha", k_token);
    rotate("alpha", k_token2);
    auto show = ok_json({"show", "alpha", "--json"});
    auto list = ok({"list"});
    EXPECT_THAT(list.out, HasSubstr("alpha"));
    EXPECT_THAT(list.out, HasSubstr(show["token"]["fingerprint"].get<std::string>()));
    auto human = ok({"show", "alpha"});
    EXPECT_THAT(human.out, HasSubstr("alpha"));
    EXPECT_THAT(human.out, HasSubstr(show["token"]["fingerprint"].get<std::string>()));
    EXPECT_THAT(human.out, HasSubstr(show["rotation"]["old_fingerprint"].get<std::string>()));
    EXPECT_THAT(human.out, HasSubstr("loc-1"));
    EXPECT_EQ(human.err, "");
}

TEST_F(Commands, ExecPassesTokenAndScrubsPassphrase)
{
    init_vault();
    create_pit("a", k_token);
    auto r = ok({"exec", "a", "--", "/usr/bin/env"}, {.env = {{"PITOOL_NEW_PASSPHRASE", "new-pass-xyz-123"}}});
    auto env = parse_env_output(r.out);
    EXPECT_EQ(env["PITOOL_TOKEN"], std::string(k_token));
    EXPECT_EQ(env.count("PITOOL_PASSPHRASE"), 0u) << r.out;
    EXPECT_EQ(env.count("PITOOL_NEW_PASSPHRASE"), 0u) << r.out;
    EXPECT_EQ(env["PATH"], "/usr/local/bin:/usr/bin:/bin") << "the rest of the environment is kept";

    // With the passphrase in a file instead, the file's path is not passed on either.
    auto pass_file = m_tmp / "pass";
    write_file(pass_file, std::string(k_passphrase) + "\n");
    auto r2 = ok({"exec", "a", "--env", "CRM_TOKEN", "--", "/usr/bin/env"},
                 {.env = {{"PITOOL_PASSPHRASE_FILE", pass_file.string()}}, .no_passphrase = true});
    auto env2 = parse_env_output(r2.out);
    EXPECT_EQ(env2["CRM_TOKEN"], std::string(k_token));
    EXPECT_EQ(env2.count("PITOOL_TOKEN"), 0u);
    EXPECT_EQ(env2.count("PITOOL_PASSPHRASE_FILE"), 0u) << r2.out;
    EXPECT_EQ(env2.count("PITOOL_PASSPHRASE"), 0u) << r2.out;
}

TEST_F(Commands, ExecOldTokenAndExitCodePassThrough)
{
    init_vault();
    create_pit("a", k_token);
    rotate("a", k_token2);
    auto r = ok({"exec", "a", "--old", "--", "/usr/bin/env"});
    EXPECT_EQ(parse_env_output(r.out)["PITOOL_TOKEN"], std::string(k_token));
    auto code = pitool({"exec", "a", "--", "/bin/sh", "-c", "exit 42"});
    EXPECT_EQ(code.exit_code, 42) << describe(code);
    auto bad_var = pitool({"exec", "a", "--env", "1BAD=", "--", "/usr/bin/env"});
    EXPECT_EQ(bad_var.exit_code, 2) << describe(bad_var);
    auto no_cmd = pitool({"exec", "a"});
    EXPECT_EQ(no_cmd.exit_code, 2) << describe(no_cmd);
}

TEST_F(Commands, ExecHandsSeveralTokensEachInItsVariable)
{
    init_vault();
    create_pit("crm", k_token);
    create_pit("hint-key", k_token2);
    auto r = ok({"exec", "--env", "GHL_TOKEN=crm", "--env", "HINT_KEY=hint-key", "--", "/usr/bin/env"},
                {.env = {{"GHL_TOKEN", "inherited"}}});
    auto env = parse_env_output(r.out);
    EXPECT_EQ(env["GHL_TOKEN"], std::string(k_token)) << "an inherited variable is replaced";
    EXPECT_EQ(env["HINT_KEY"], std::string(k_token2));
    EXPECT_EQ(env.count("PITOOL_TOKEN"), 0u);
    EXPECT_EQ(env.count("PITOOL_PASSPHRASE"), 0u);

    // The same from a file of VAR=pitool://NAME lines, with comments; the
    // first word after -- is the command even when it looks like a name.
    const auto file = m_tmp / "tokens.env";
    write_file(file, "# tokens for sync.sh\n\nGHL_TOKEN=pitool://crm\n  HINT_KEY=pitool://hint-key\n");
    auto f = ok({"exec", "--env-file", file.string(), "--env", "MORE=crm", "--", "/bin/sh", "-c",
                 "test \"$GHL_TOKEN\" = \"$MORE\" && echo ${#HINT_KEY}"});
    EXPECT_EQ(f.out, std::to_string(k_token2.size()) + "\n");
}

TEST_F(Commands, ExecPairsRefuseMixingAndBadInput)
{
    init_vault();
    create_pit("crm", k_token);
    const VaultSnapshot before(m_dir);
    const auto bad_file = m_tmp / "bad.env";
    write_file(bad_file, "GHL_TOKEN=crm\n");
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{"exec", "crm", "--env", "A=crm", "--", "/usr/bin/env"}, "give no NAME before --"},
        {{"exec", "--env", "A", "--env", "B=crm", "--", "/usr/bin/env"}, "cannot be mixed"},
        {{"exec", "--env", "A=crm", "--old", "--", "/usr/bin/env"}, "--old goes with a single NAME"},
        {{"exec", "--env", "A=crm", "--env", "A=crm", "--", "/usr/bin/env"}, "--env A is given twice"},
        {{"exec", "--env", "LD_PRELOAD=crm", "--", "/usr/bin/env"}, "read by the dynamic loader"},
        {{"exec", "--env", "A=crm", "/usr/bin/env"}, "put -- before the command"},
        {{"exec", "--env", "A=crm", "--"}, "no command given"},
        {{"exec", "--env-file", bad_file.string(), "--", "/usr/bin/env"}, "line 1: expected VAR=pitool://NAME"},
        {{"exec", "--env", "A", "--env", "B", "crm", "--", "/usr/bin/env"}, "give --env once"},
    };
    for (const auto& [args, message] : cases) {
        auto r = pitool(args);
        EXPECT_EQ(r.exit_code, 2) << describe(r);
        EXPECT_TRUE(one_line(r.err)) << describe(r);
        EXPECT_THAT(r.err, HasSubstr(message)) << describe(r);
        EXPECT_EQ(r.out, "");
    }
    auto missing = pitool({"exec", "--env", "A=crm", "--env", "B=nope", "--", "/usr/bin/env"});
    EXPECT_EQ(missing.exit_code, 3) << describe(missing);
    EXPECT_EQ(missing.out, "") << "the command ran without all its tokens";
    EXPECT_TRUE(before.unchanged());
}

TEST_F(Commands, InjectFillsReferencesAndWritesAPrivateFile)
{
    init_vault();
    create_pit("crm", k_token);
    create_pit("hint-key", k_token2);
    const std::string tpl = "# sync.env\nGHL_TOKEN={{ pitool://crm }}\nHINT_KEY={{pitool://hint-key}}\n"
                            "KEEP={{ not.a.reference }}\nAGAIN={{  pitool://crm  }}";
    const std::string want = "# sync.env\nGHL_TOKEN=" + std::string(k_token) + "\nHINT_KEY=" + std::string(k_token2) +
                             "\nKEEP={{ not.a.reference }}\nAGAIN=" + std::string(k_token);
    EXPECT_EQ(ok({"inject"}, {.stdin_data = tpl}).out, want);

    const auto file = m_tmp / "out.env";
    write_file(file, "old contents\n");
    ::chmod(file.c_str(), 0644);
    auto r = ok({"inject", "-o", file.string()}, {.stdin_data = tpl});
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(read_file(file), want);
    EXPECT_EQ(mode_of(file), 0600u) << "the written file holds tokens";
}

TEST_F(Commands, InjectWritesNothingWhenAReferenceFails)
{
    init_vault();
    create_pit("crm", k_token);
    const auto file = m_tmp / "out.env";
    const std::vector<std::pair<std::string, int>> cases = {
        {"A={{ pitool://crm }}\nB={{ pitool://nope }}\n", 3},
        {"A={{ pitool://crm }}\nB={{ pitool://crm \n", 2},
        {"A={{ pitool://bad name }}\n", 2},
        {"A={{ pitool:// }}\n", 2},
    };
    for (const auto& [tpl, code] : cases) {
        auto r = pitool({"inject", "-o", file.string()}, {.stdin_data = tpl});
        EXPECT_EQ(r.exit_code, code) << describe(r);
        EXPECT_TRUE(one_line(r.err)) << describe(r);
        EXPECT_FALSE(std::filesystem::exists(file)) << tpl;
        auto out = pitool({"inject"}, {.stdin_data = tpl});
        EXPECT_EQ(out.exit_code, code) << describe(out);
        EXPECT_EQ(out.out, "") << "a partial document was printed";
    }
    auto unclosed = pitool({"inject"}, {.stdin_data = "x\nA={{ pitool://crm \n"});
    EXPECT_EQ(unclosed.err, "pitool: error: template line 2: a {{ pitool://NAME }} reference is not closed\n");
}

TEST_F(Commands, AuditVerdictsAndExitNineWhenDue)
{
    init_vault(k_t0);
    create_pit("old", k_token, k_t0);
    create_pit("mid", k_token2, "2026-02-15 00:00:00");
    ok({"create", "new", "--provider", "hint", "--token-stdin"},
       {.stdin_data = "hint_partner_key_1", .at = "2026-03-25 00:00:00"});
    ok({"create", "rot", "--provider", "hint", "--token-stdin"}, {.stdin_data = "hint_partner_key_2", .at = k_t0});
    ok({"rotate", "rot", "--token-stdin"}, {.stdin_data = "hint_partner_key_3", .at = "2026-03-30 00:00:00"});

    // 2026-04-01: old is 90 days (due), mid 45 days (ok), new 7 days, rot rotating.
    auto r = pitool({"audit", "--json"}, {.at = "2026-04-01 00:00:00"});
    EXPECT_EQ(r.exit_code, 9) << describe(r);
    EXPECT_TRUE(one_line(r.err)) << describe(r);
    auto j = json::parse(r.out);
    ASSERT_TRUE(j["findings"].is_array()) << j.dump();
    std::map<std::string, json> f;
    for (const auto& x : j["findings"]) {
        for (const char* key : {"name", "verdict", "age_days", "reason"})
            EXPECT_TRUE(x.contains(key)) << key << " missing: " << x.dump();
        EXPECT_TRUE(x["reason"].is_string());
        EXPECT_FALSE(x["reason"].get<std::string>().empty());
        f[x["name"]] = x;
    }
    ASSERT_EQ(f.size(), 4u);
    EXPECT_EQ(f["old"]["verdict"], "due");
    EXPECT_EQ(f["old"]["age_days"], 90);
    EXPECT_EQ(f["mid"]["verdict"], "ok");
    EXPECT_EQ(f["mid"]["age_days"], 45);
    EXPECT_EQ(f["new"]["verdict"], "ok");
    EXPECT_EQ(f["rot"]["verdict"], "rotating");

    // One day earlier "old" is in the warning band (89 >= 90 - 14): exit 0.
    auto warn = pitool({"audit", "--json"}, {.at = "2026-03-31 23:59:59"});
    EXPECT_EQ(warn.exit_code, 0) << describe(warn);
    // Findings come in name order: mid, new, old, rot.
    EXPECT_EQ(json::parse(warn.out)["findings"][2]["name"], "old");
    EXPECT_EQ(json::parse(warn.out)["findings"][2]["verdict"], "warn");

    // --max-age / --warn-days override the policy.
    auto strict = pitool({"audit", "--json", "--max-age", "40", "--warn-days", "5"}, {.at = "2026-04-01 00:00:00"});
    EXPECT_EQ(strict.exit_code, 9);
    const auto strict_doc = json::parse(strict.out);
    const auto& findings = strict_doc.at("findings");
    const auto mid = std::find_if(findings.begin(), findings.end(), [](const json& x) { return x["name"] == "mid"; });
    ASSERT_NE(mid, findings.end()) << "no finding for 'mid': " << strict_doc.dump();
    EXPECT_EQ((*mid)["verdict"], "due");
    auto human = pitool({"audit"}, {.at = "2026-04-01 00:00:00"});
    EXPECT_EQ(human.exit_code, 9);
    EXPECT_THAT(human.out, HasSubstr("due"));
    EXPECT_EQ(pitool({"audit", "--max-age", "0"}).exit_code, 2);
}

TEST_F(Commands, AuditThroughFaketimeWrapper)
{
    // Real time for create, /usr/bin/faketime (relative offset) for audit.
    init_vault();
    create_pit("a", k_token);
    EXPECT_EQ(pitool({"audit"}).exit_code, 0);
    auto r = pitool({"audit", "--json"}, {.wrapper = {"/usr/bin/faketime", "+91 days"}});
    ASSERT_EQ(r.exit_code, 9) << describe(r);
    auto f = json::parse(r.out)["findings"][0];
    EXPECT_EQ(f["verdict"], "due");
    EXPECT_EQ(f["age_days"], 91);
}

TEST_F(Commands, HistoryRecordsEveryChange)
{
    init_vault();
    create_pit("a", k_token);
    rotate("a", k_token2);
    ok({"cancel-rotation", "a"});
    rotate("a", k_token2);
    ok({"expire-old", "a"});
    ok({"rotate", "a", "--now", "--token-stdin"}, {.stdin_data = std::string(k_token)});
    ok({"create", "b", "--provider", "hint", "--token-stdin"}, {.stdin_data = "hint_partner_key_1"});
    ok({"delete", "b", "--yes"});
    ok({"passwd"}, {.env = {{"PITOOL_NEW_PASSPHRASE", "another-passphrase-1"}}});

    auto ev = ok_json({"history", "--json"}, {.env = {{"PITOOL_PASSPHRASE", "another-passphrase-1"}}})["events"];
    std::vector<std::string> actions;
    for (const auto& e : ev) {
        actions.push_back(e["action"]);
        EXPECT_EQ(e["actor"], expected_actor()) << e.dump();
        EXPECT_TRUE(rfc3339_utc(e["at"])) << e.dump();
    }
    EXPECT_EQ(actions, (std::vector<std::string>{"init", "create", "rotate", "cancel-rotation", "rotate", "expire-old",
                                                 "rotate-now", "create", "delete", "passwd"}));
    // Token events carry the fingerprint; rotate's is the new token's.
    auto fp1 = ev[1]["fingerprint"].get<std::string>();
    auto fp2 = ev[2]["fingerprint"].get<std::string>();
    EXPECT_FALSE(fp1.empty());
    EXPECT_NE(fp1, fp2);
    EXPECT_EQ(ev[3]["fingerprint"], fp1); // cancel: the old token is current again
    EXPECT_EQ(ev[5]["fingerprint"], fp1); // expire-old: the token dropped
    EXPECT_EQ(ev[6]["fingerprint"], fp1); // rotate --now back to the first token
    for (std::size_t i = 1; i < 9; ++i) EXPECT_FALSE(ev[i]["fingerprint"].get<std::string>().empty()) << i;

    auto only_b = ok_json({"history", "--json", "b"}, {.env = {{"PITOOL_PASSPHRASE", "another-passphrase-1"}}});
    EXPECT_EQ(only_b["events"].size(), 2u) << "a deleted integration keeps its history";
    auto human = ok({"history", "a"}, {.env = {{"PITOOL_PASSPHRASE", "another-passphrase-1"}}});
    EXPECT_THAT(human.out, HasSubstr(expected_actor()));
    EXPECT_THAT(human.out, HasSubstr(fp2));
}

TEST_F(Commands, DeleteNeedsYes)
{
    init_vault();
    create_pit("a", k_token);
    const VaultSnapshot before(m_dir);
    auto r = pitool({"delete", "a"});
    EXPECT_EQ(r.exit_code, 2) << describe(r);
    EXPECT_TRUE(before.unchanged());
    ok({"delete", "a", "--yes"});
    EXPECT_EQ(pitool({"get", "a"}).exit_code, 3);
    EXPECT_EQ(ok_json({"list", "--json"}), json::array());
    // The name is free again.
    create_pit("a", k_token2);
}

TEST_F(Commands, PasswdChangesPassphrase)
{
    init_vault();
    create_pit("a", k_token);
    const std::string fresh = "the-new-passphrase-42";
    auto r = pitool({"passwd"}, {.env = {{"PITOOL_NEW_PASSPHRASE", fresh}}});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    auto old = pitool({"get", "a"});
    EXPECT_EQ(old.exit_code, 5) << describe(old);
    EXPECT_EQ(ok({"get", "a"}, {.env = {{"PITOOL_PASSPHRASE", fresh}}}).out, std::string(k_token) + "\n");

    // Wrong current passphrase: 5, file untouched.
    const VaultSnapshot before(m_dir);
    auto wrong = pitool({"passwd"}, {.env = {{"PITOOL_NEW_PASSPHRASE", "x-y-z-passphrase"}}});
    EXPECT_EQ(wrong.exit_code, 5) << describe(wrong);
    EXPECT_TRUE(before.unchanged());

    // No new passphrase and no terminal: usage error, not a hang.
    auto none = pitool({"passwd"}, {.env = {{"PITOOL_PASSPHRASE", fresh}}, .timeout_seconds = 10});
    EXPECT_EQ(none.exit_code, 2) << describe(none);
    EXPECT_TRUE(before.unchanged());
}

TEST_F(Commands, PassphraseFromFile)
{
    auto pass_file = m_tmp / "pass";
    write_file(pass_file, std::string(k_passphrase) + "\n");
    init_vault();
    create_pit("a", k_token);
    auto r = ok({"--passphrase-file", pass_file.string(), "get", "a"},
                {.env = {{"PITOOL_PASSPHRASE", "wrong-passphrase-from-env"}}});
    EXPECT_EQ(r.out, std::string(k_token) + "\n") << "the file wins over PITOOL_PASSPHRASE";
    // docs/cli.md: "A missing file is exit 2, an unreadable one exit 10."
    auto missing = pitool({"--passphrase-file", (m_tmp / "none").string(), "get", "a"});
    EXPECT_EQ(missing.exit_code, 2) << describe(missing);
    EXPECT_TRUE(one_line(missing.err)) << describe(missing);
}

TEST_F(Commands, NoPassphraseAndNoTerminalFailsAtOnce)
{
    init_vault();
    create_pit("a", k_token);
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"list"}, {"get", "a"}, {"delete", "a", "--yes"}, {"passwd"}, {"audit"}}) {
        auto start = std::chrono::steady_clock::now();
        auto r = pitool(args, {.no_passphrase = true, .timeout_seconds = 10});
        auto elapsed = std::chrono::steady_clock::now() - start;
        EXPECT_EQ(r.exit_code, 2) << args[0] << " " << describe(r);
        EXPECT_TRUE(one_line(r.err)) << describe(r);
        EXPECT_LT(elapsed, std::chrono::seconds(5)) << args[0];
    }
    auto start = std::chrono::steady_clock::now();
    auto fresh = m_tmp / "other" / "vault";
    auto r = pitool({"init"}, {.env = {{"PITOOL_VAULT", fresh.string()}},
                               .no_passphrase = true,
                               .no_vault_flag = true,
                               .timeout_seconds = 10});
    EXPECT_EQ(r.exit_code, 2) << describe(r);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
    EXPECT_FALSE(std::filesystem::exists(fresh));
    auto c = pitool({"create", "b", "--provider", "hint", "--token-stdin"},
                    {.stdin_data = "hint_partner_key_1", .no_passphrase = true, .timeout_seconds = 10});
    EXPECT_EQ(c.exit_code, 2) << describe(c);
}

// An empty --vault (`pitool --vault "$UNSET_VAR" delete x --yes`) is a usage
// error: it must not fall back to $PITOOL_VAULT or the default vault.
TEST_F(Commands, EmptyVaultFlagIsUsageError)
{
    auto xdg = m_tmp / "xdg";
    const std::map<std::string, std::string> env{{"XDG_DATA_HOME", xdg.string()}, {"HOME", m_tmp.path().string()}};
    ok({"init", "--kdf", "interactive"}, {.env = env, .no_vault_flag = true});
    ok({"create", "a", "--provider", "hint", "--token-stdin"},
       {.stdin_data = "hint_partner_key_1", .env = env, .no_vault_flag = true});
    const VaultSnapshot before(xdg / "pitool");
    ASSERT_FALSE(before.entries().empty()) << "the default vault is not where the test expects it";
    auto r = pitool({"--vault", "", "delete", "a", "--yes"}, {.env = env, .no_vault_flag = true});
    EXPECT_EQ(r.exit_code, 2) << "an empty --vault must not fall back to the default vault: " << describe(r);
    EXPECT_TRUE(one_line(r.err)) << describe(r);
    EXPECT_TRUE(before.unchanged()) << "the default vault was touched";
}

} // namespace
} // namespace pitool::test
