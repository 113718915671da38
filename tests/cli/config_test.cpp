// The config file (docs/cli.md, "Config file"): where it is found, what it
// may hold, how its errors read, and that its settings reach the commands
// (vault path, policy in audit / due warnings / show, HTTP timeouts), below
// flags and environment variables.
#include "cli/cli_fixture.hpp"

#include <gmock/gmock.h>
#include <sys/stat.h>

namespace pitool::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class ConfigFile : public CliTest {
protected:
    /// Writes `text` as the config file at m_config (mode 0600).
    void write_config(const std::string& text) const
    {
        write_file(m_config, text);
        ::chmod(m_config.c_str(), 0600);
    }

    /// The `settings` entry for `key` of `pitool config --json`.
    static nlohmann::json setting_of(const nlohmann::json& doc, const std::string& key)
    {
        for (const auto& s : doc.at("settings"))
            if (s.at("key") == key) return s;
        ADD_FAILURE() << "no setting " << key << " in " << doc.dump();
        return nlohmann::json::object();
    }

    /// `pitool --config FILE ARGS...`.
    RunResult with_config(std::vector<std::string> args, const Call& call = {}) const
    {
        args.insert(args.begin(), {"--config", m_config.string()});
        return pitool(args, call);
    }

    std::filesystem::path m_config = m_tmp / "config.toml";
};

TEST_F(ConfigFile, ShowsDefaultsWithoutAFile)
{
    auto doc = ok_json({"--json", "config"});
    EXPECT_EQ(doc["config_file"]["loaded"], false);
    EXPECT_EQ(doc["config_file"]["source"], "default");
    EXPECT_THAT(doc["config_file"]["path"].get<std::string>(), HasSubstr("/xdg/config/pitool/config.toml"));
    EXPECT_EQ(setting_of(doc, "policy.max_age_days")["value"], 90);
    EXPECT_EQ(setting_of(doc, "policy.max_age_days")["source"], "default");
    EXPECT_EQ(setting_of(doc, "http.timeout_seconds")["value"], 30);
    EXPECT_EQ(setting_of(doc, "vault")["source"], "flag");
    EXPECT_EQ(setting_of(doc, "vault")["where"], "--vault");
}

TEST_F(ConfigFile, ReadFromTheXdgLocationAndEachValueNamesItsLine)
{
    m_config = m_tmp.path() / ".env" / "xdg" / "config" / "pitool" / "config.toml";
    std::filesystem::create_directories(m_config.parent_path());
    write_config("# pitool\n[policy]\nmax_age_days = 60\n\n[policy.leadconnector.pit]\nwarn_days = 5\n"
                 "[http]\nconnect_timeout_seconds = 2.5\n");
    auto doc = ok_json({"--json", "config"});
    EXPECT_EQ(doc["config_file"]["loaded"], true);
    EXPECT_EQ(setting_of(doc, "policy.max_age_days")["value"], 60);
    EXPECT_EQ(setting_of(doc, "policy.max_age_days")["where"], m_config.string() + ":3");
    EXPECT_EQ(setting_of(doc, "policy.leadconnector.pit.max_age_days")["where"], m_config.string() + ":3");
    EXPECT_EQ(setting_of(doc, "policy.leadconnector.pit.warn_days")["value"], 5);
    EXPECT_EQ(setting_of(doc, "policy.leadconnector.pit.warn_days")["where"], m_config.string() + ":6");
    EXPECT_EQ(setting_of(doc, "policy.hint.partner-key.warn_days")["source"], "default");
    EXPECT_EQ(setting_of(doc, "http.connect_timeout_seconds")["value"], 2.5);
    // The human form names the same origins.
    auto r = ok({"config"});
    EXPECT_THAT(r.out, HasSubstr("policy.leadconnector.pit.warn_days"));
    EXPECT_THAT(r.out, HasSubstr("config " + m_config.string() + ":6\n"));
    // --no-config reads none.
    doc = ok_json({"--no-config", "--json", "config"});
    EXPECT_EQ(doc["config_file"]["loaded"], false);
    EXPECT_EQ(setting_of(doc, "policy.max_age_days")["value"], 90);
}

TEST_F(ConfigFile, PrecedenceFlagThenEnvironmentThenFileThenDefault)
{
    init_vault();
    write_config("vault = \"" + m_vault.string() + "\"\n[http]\ntimeout_seconds = 20\n");
    // The file's vault when neither --vault nor PITOOL_VAULT is given.
    auto r = pitool({"--config", m_config.string(), "list"}, {.no_vault_flag = true});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    auto doc =
        nlohmann::json::parse(pitool({"--config", m_config.string(), "--json", "config"}, {.no_vault_flag = true}).out);
    EXPECT_EQ(setting_of(doc, "vault")["source"], "config");
    EXPECT_EQ(setting_of(doc, "vault")["where"], m_config.string() + ":1");
    // PITOOL_VAULT beats the file, --vault beats both.
    doc = nlohmann::json::parse(pitool({"--config", m_config.string(), "--json", "config"},
                                       {.env = {{"PITOOL_VAULT", "/elsewhere/vault"}}, .no_vault_flag = true})
                                    .out);
    EXPECT_EQ(setting_of(doc, "vault")["value"], "/elsewhere/vault");
    EXPECT_EQ(setting_of(doc, "vault")["source"], "environment");
    // PITOOL_CONFIG names the file; --config beats it.
    doc = ok_json({"--json", "config"}, {.env = {{"PITOOL_CONFIG", m_config.string()}}});
    EXPECT_EQ(doc["config_file"]["source"], "environment");
    EXPECT_EQ(setting_of(doc, "http.timeout_seconds")["value"], 20);
    EXPECT_EQ(setting_of(doc, "http.timeout_seconds")["source"], "config");
    doc = ok_json({"--json", "config"}, {.env = {{"PITOOL_CONFIG", m_config.string()}, {"PITOOL_HTTP_TIMEOUT", "7"}}});
    EXPECT_EQ(setting_of(doc, "http.timeout_seconds")["value"], 7);
    EXPECT_EQ(setting_of(doc, "http.timeout_seconds")["where"], "PITOOL_HTTP_TIMEOUT");
    r = pitool({"--config", (m_tmp / "missing.toml").string(), "config"},
               {.env = {{"PITOOL_CONFIG", m_config.string()}}});
    EXPECT_EQ(r.exit_code, 2) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("missing.toml"));
}

TEST_F(ConfigFile, ErrorsNameFileAndLineAndNeverTheValue)
{
    struct Case {
        std::string text;
        std::string expected;
    };
    const std::vector<Case> cases{
        {"[policy]\nmax_age_days = 30\nmax_age = 5\n", ":3: unknown key 'max_age' in [policy]"},
        {"\n[http]\ntimeout_seconds = \"soon\"\n", ":3: 'http.timeout_seconds' must be a number"},
        {"[policy.hint]\nmax_age_days = 0\n", ":2: 'policy.hint.max_age_days' must be between 1 and 3650"},
        {"[policy]\nwarn_days = 100\n", ":2: warn_days (100) exceeds max_age_days (90)"},
        {"[policy.hint.pit]\nmax_age_days = 5\n", ":1: kind 'pit' does not exist for hint"},
        {"vault = \"relative/vault\"\n", ":1: 'vault' must be an absolute path"},
        {"\napi_token = \"" + std::string(k_token) + "\"\n", ":2: 'api_token' looks like a secret"},
        {"vault = \"/v\"\n\"" + std::string(k_token) + "\" = 1\n",
         ":2: a key (not repeated: it may be a secret) looks like a secret"},
        {"[http\n", ":1: not valid TOML"},
        {"x = " + std::string(k_token) + "\n", ":1: not valid TOML"},
    };
    for (const auto& c : cases) {
        write_config(c.text);
        auto r = with_config({"list"});
        EXPECT_EQ(r.exit_code, 2) << c.text << describe(r);
        EXPECT_THAT(r.err, HasSubstr(m_config.string() + c.expected)) << c.text;
        EXPECT_TRUE(one_line(r.err)) << r.err;
        EXPECT_THAT(r.err, Not(HasSubstr(k_token)));
        EXPECT_THAT(r.err, Not(HasSubstr("soon")));
    }
}

TEST_F(ConfigFile, RefusedWhenOthersMayWriteIt)
{
    write_config("[policy]\nmax_age_days = 30\n");
    ::chmod(m_config.c_str(), 0620);
    auto r = with_config({"config"});
    EXPECT_EQ(r.exit_code, 10) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("writable by group or others (mode 0620; run: chmod go-w"));
    ::chmod(m_config.c_str(), 0644); // readable by others is fine: it holds no secret
    EXPECT_EQ(with_config({"config"}).exit_code, 0);
}

TEST_F(ConfigFile, PolicyReachesAuditDueWarningsAndShow)
{
    init_vault(k_t0);
    create_pit("lc", k_token, k_t0);
    ok({"create", "h", "--provider", "hint", "--token-stdin"}, {.stdin_data = "hint_partner_key_1", .at = k_t0});
    write_config("[policy.leadconnector.pit]\nmax_age_days = 30\nwarn_days = 3\n");
    const std::string day31 = "2026-02-01 00:00:00";
    // audit: the LeadConnector PIT is due by the file, the Hint key is not.
    auto r = with_config({"--json", "audit"}, {.at = day31});
    EXPECT_EQ(r.exit_code, 9) << describe(r);
    auto doc = nlohmann::json::parse(r.out);
    for (const auto& f : doc["findings"]) EXPECT_EQ(f["verdict"], f["name"] == "lc" ? "due" : "ok") << f.dump();
    // A flag beats the file.
    EXPECT_EQ(with_config({"audit", "--max-age", "90"}, {.at = day31}).exit_code, 0);
    // get warns by the file's policy.
    r = with_config({"get", "lc"}, {.at = day31});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("'lc' is due for rotation: token is 31 days old; rotate every 30 days"));
    r = with_config({"get", "lc", "--fail-if-due"}, {.at = day31});
    EXPECT_EQ(r.exit_code, 9) << describe(r);
    EXPECT_THAT(r.out, Not(HasSubstr(k_token)));
    // Without the file: not due.
    r = pitool({"get", "lc"}, {.at = day31});
    EXPECT_EQ(r.err, "");
    // show's due date.
    r = with_config({"show", "lc"}, {.at = day31});
    EXPECT_THAT(r.out, HasSubstr("due:       2026-01-31T00:00:00"));
    EXPECT_THAT(r.out, HasSubstr("(1 day ago; due)"));
}

} // namespace
} // namespace pitool::test
