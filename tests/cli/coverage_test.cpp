// Offline behaviour no other suite covered: list filters, the KDF levels of
// init and passwd, the new-passphrase file sources, export --json refusal,
// the documented JSON shapes (exact key sets and types) of init, delete,
// passwd, unlock, lock and audit, and exec's environment scrubbing.
// (audit's formats and filters: overdue_test.cpp.)
#include "cli/cli_fixture.hpp"
#include "support/vault_snapshot.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <set>
#include <sstream>

namespace pitool::test {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

/// The key set of a JSON object.
std::set<std::string> keys(const json& j)
{
    std::set<std::string> out;
    if (j.is_object())
        for (const auto& [k, v] : j.items()) out.insert(k);
    return out;
}

/// The first recipient's Argon2id opslimit and memlimit, read from the
/// header as docs/vault-format.md lays it out (offsets 24 and 32).
std::pair<std::uint64_t, std::uint64_t> kdf_of(const std::string& vault)
{
    auto le = [&](std::size_t at) {
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < 8 && at + i < vault.size(); ++i)
            v |= static_cast<std::uint64_t>(static_cast<unsigned char>(vault[at + i])) << (8 * i);
        return v;
    };
    return {le(24), le(32)};
}

constexpr std::uint64_t k_mib = 1024 * 1024;
const std::pair<std::uint64_t, std::uint64_t> k_interactive{2, 64 * k_mib};
const std::pair<std::uint64_t, std::uint64_t> k_moderate{3, 256 * k_mib};
const std::pair<std::uint64_t, std::uint64_t> k_sensitive{4, 1024 * k_mib};

class Coverage : public CliTest {
protected:
    std::vector<std::string> names_of(const std::vector<std::string>& args) const
    {
        std::vector<std::string> out;
        for (const auto& row : ok_json(args)) out.push_back(row.at("name"));
        return out;
    }
};

TEST_F(Coverage, ListFiltersByProviderAndKind)
{
    init_vault();
    create_pit("lc-pit", k_token);
    ok({"create", "lc-app", "--provider", "leadconnector", "--kind", "oauth-app", "--client-id", "cid-1",
        "--token-stdin"},
       {.stdin_data = std::string(k_client_secret)});
    ok({"create", "h-partner", "--provider", "hint", "--token-stdin"}, {.stdin_data = "hint_partner_key_cov_1"});
    ok({"create", "h-practice", "--provider", "hint", "--kind", "practice-key", "--practice", "pra-1", "--token-stdin"},
       {.stdin_data = "hint_practice_key_cov_1"});
    using V = std::vector<std::string>;
    EXPECT_EQ(names_of({"list", "--json"}), (V{"h-partner", "h-practice", "lc-app", "lc-pit"}));
    EXPECT_EQ(names_of({"list", "--json", "--provider", "hint"}), (V{"h-partner", "h-practice"}));
    EXPECT_EQ(names_of({"list", "--json", "--provider", "leadconnector"}), (V{"lc-app", "lc-pit"}));
    EXPECT_EQ(names_of({"list", "--json", "--kind", "pit"}), (V{"lc-pit"}));
    EXPECT_EQ(names_of({"list", "--json", "--kind", "practice-key"}), (V{"h-practice"}));
    EXPECT_EQ(names_of({"list", "--json", "--provider", "leadconnector", "--kind", "oauth-app"}), (V{"lc-app"}));
    EXPECT_EQ(names_of({"list", "--json", "--provider", "hint", "--kind", "pit"}), V{});
    // The human table filters the same way.
    auto human = ok({"list", "--kind", "partner-key"}).out;
    EXPECT_THAT(human, HasSubstr("h-partner"));
    for (const char* other : {"h-practice", "lc-app", "lc-pit"}) EXPECT_THAT(human, ::testing::Not(HasSubstr(other)));
    // docs/cli.md: "Exit: 0; 2 unknown provider or kind."
    for (const std::vector<std::string>& bad :
         {std::vector<std::string>{"list", "--provider", "salesforce"}, {"list", "--kind", "password"}}) {
        auto r = pitool(bad);
        EXPECT_EQ(r.exit_code, 2) << bad[2] << " " << describe(r);
        EXPECT_TRUE(one_line(r.err)) << describe(r);
        EXPECT_EQ(r.out, "");
    }
}

TEST_F(Coverage, InitAtModerateThenPasswdFromAFileToInteractive)
{
    // init --json: exactly {vault: string, kdf: string, format_version: integer}.
    auto init = ok_json({"--json", "init", "--kdf", "moderate"});
    EXPECT_EQ(keys(init), (std::set<std::string>{"format_version", "kdf", "schema_version", "vault"})) << init.dump();
    EXPECT_EQ(init.at("vault"), m_vault.string());
    EXPECT_EQ(init.at("kdf"), "moderate");
    EXPECT_TRUE(init.at("format_version").is_number_integer()) << init.dump();
    EXPECT_EQ(kdf_of(vault_bytes()), k_moderate);
    create_pit("a", k_token);

    // --new-passphrase-file: the success path.
    const auto np = m_tmp / "new-pass";
    write_file(np, "cov-new-passphrase-from-file\n");
    auto pw = ok_json({"--json", "passwd", "--kdf", "interactive", "--new-passphrase-file", np.string()});
    EXPECT_EQ(keys(pw), (std::set<std::string>{"agent_key_replaced", "data_key_changed", "passphrase_changed",
                                               "schema_version", "vault"}))
        << pw.dump();
    EXPECT_EQ(pw.at("vault"), m_vault.string());
    EXPECT_EQ(pw.at("passphrase_changed"), true);
    EXPECT_EQ(kdf_of(vault_bytes()), k_interactive);
    const Call fresh{.env = {{"PITOOL_PASSPHRASE", "cov-new-passphrase-from-file"}}};
    EXPECT_EQ(ok({"get", "a"}, fresh).out, std::string(k_token) + "\n") << "the trailing newline is stripped";
    EXPECT_EQ(pitool({"get", "a"}).exit_code, 5) << "the old passphrase still opens the vault";
}

TEST_F(Coverage, InitAtSensitiveThenPasswdFromTheEnvironmentFile)
{
    // One sensitive derivation to create (1 GiB, ~4 s) and one to open.
    auto init = ok_json({"--json", "init", "--kdf", "sensitive"}, {.timeout_seconds = 120});
    EXPECT_EQ(init.at("kdf"), "sensitive");
    EXPECT_EQ(kdf_of(vault_bytes()), k_sensitive);

    // PITOOL_NEW_PASSPHRASE_FILE: the success path; --kdf moderate re-wraps
    // under the new cost.
    const auto np = m_tmp / "env-new-pass";
    write_file(np, "cov-new-passphrase-from-env-file\r\n");
    auto pw = ok_json({"--json", "passwd", "--kdf", "moderate"},
                      {.env = {{"PITOOL_NEW_PASSPHRASE_FILE", np.string()}}, .timeout_seconds = 120});
    EXPECT_EQ(pw.at("passphrase_changed"), true);
    EXPECT_EQ(kdf_of(vault_bytes()), k_moderate);
    EXPECT_EQ(ok_json({"list", "--json"}, {.env = {{"PITOOL_PASSPHRASE", "cov-new-passphrase-from-env-file"}}}),
              json::array());
}

TEST_F(Coverage, ExportRefusesJson)
{
    init_vault();
    create_pit("a", k_token);
    const VaultSnapshot before(m_dir);
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"--json", "export"}, {"export", "--json", "--yes-secrets"}}) {
        auto r = pitool(args);
        EXPECT_EQ(r.exit_code, 2) << describe(r);
        EXPECT_TRUE(one_line(r.err)) << describe(r);
        EXPECT_EQ(r.out.find(std::string(k_token)), std::string::npos) << "a refused export printed the token";
        EXPECT_EQ(r.out.find("\"name\""), std::string::npos) << "a refused export printed records: " << r.out;
    }
    EXPECT_TRUE(before.unchanged());
}

TEST_F(Coverage, DeleteAndAuditJsonShapes)
{
    init_vault(k_t0);
    create_pit("a", k_token, k_t0);
    create_pit("b", k_token2, k_t0);
    const std::string fp = ok_json({"show", "a", "--json"}, {.at = k_t0})["token"]["fingerprint"];

    auto audit = pitool({"--json", "audit"}, {.at = "2026-03-20 00:00:00"}); // 78 days: warn
    ASSERT_EQ(audit.exit_code, 0) << describe(audit);
    const auto doc = json::parse(audit.out);
    EXPECT_EQ(keys(doc), (std::set<std::string>{"checked_at", "findings", "policy", "schema_version"})) << doc.dump();
    EXPECT_TRUE(rfc3339_utc(doc.at("checked_at"))) << doc.dump();
    EXPECT_EQ(doc.at("policy"), (json{{"max_age_days", 90}, {"warn_days", 14}}));
    ASSERT_EQ(doc.at("findings").size(), 2u);
    for (const auto& f : doc["findings"]) {
        EXPECT_EQ(keys(f),
                  (std::set<std::string>{"account_id", "age_days", "due_at", "fingerprint", "issued_at", "kind",
                                         "last_check", "name", "provider", "reason", "rotation", "verdict"}))
            << f.dump();
        EXPECT_TRUE(f.at("name").is_string());
        EXPECT_EQ(f.at("verdict"), "warn");
        EXPECT_EQ(f.at("age_days"), 78);
        EXPECT_TRUE(f.at("reason").is_string());
        EXPECT_EQ(f.at("provider"), "leadconnector");
        EXPECT_EQ(f.at("kind"), "pit");
        EXPECT_TRUE(f.at("account_id").is_string());
        EXPECT_EQ(f.at("issued_at"), k_t0_rfc);
        EXPECT_EQ(f.at("due_at"), "2026-04-01T00:00:00Z");
        EXPECT_TRUE(f.at("fingerprint").is_string());
        EXPECT_TRUE(f.at("rotation").is_null());
        EXPECT_TRUE(f.at("last_check").is_null());
    }
    EXPECT_EQ(doc["findings"][0]["fingerprint"], fp);
    EXPECT_EQ(doc["findings"][0]["name"], "a");

    auto del = ok_json({"--json", "delete", "a", "--yes"});
    EXPECT_EQ(del, (json{{"deleted", "a"}, {"fingerprint", fp}, {"schema_version", 1}}));
}

/// Runs its function however the scope ends (here: `pitool lock`, so no
/// agent outlives a failed assertion).
struct AtExit {
    explicit AtExit(std::function<void()> fn) : f(std::move(fn)) {}
    std::function<void()> f;
    AtExit(const AtExit&) = delete;
    AtExit& operator=(const AtExit&) = delete;
    ~AtExit() { f(); }
};

TEST_F(Coverage, UnlockAndLockJsonShapes)
{
    init_vault();
    create_pit("a", k_token);
    const auto sock = m_tmp / "agent" / "agent.sock";
    const Call agent{.env = {{"PITOOL_AGENT_SOCKET", sock.string()}}};
    const AtExit guard{[&] { (void)pitool({"lock", "-q"}, agent); }};

    auto un = ok_json({"--json", "unlock", "--ttl", "10m", "--idle", "2m"}, agent);
    EXPECT_EQ(keys(un),
              (std::set<std::string>{"idle_s", "kept_earlier_limit", "schema_version", "ttl_s", "unlocked", "vault"}))
        << un.dump();
    EXPECT_EQ(un.at("unlocked"), true);
    EXPECT_EQ(un.at("kept_earlier_limit"), false);
    EXPECT_EQ(un.at("ttl_s"), 600);
    EXPECT_EQ(un.at("idle_s"), 120);
    EXPECT_TRUE(un.at("vault").is_string());

    auto st = ok_json({"--json", "unlock", "--status"}, agent);
    EXPECT_EQ(keys(st), (std::set<std::string>{"agent_running", "keys", "pid", "schema_version", "unlocked", "vault"}))
        << st.dump();
    EXPECT_EQ(st.at("agent_running"), true);
    EXPECT_EQ(st.at("unlocked"), true);
    EXPECT_TRUE(st.at("pid").is_number_integer());
    ASSERT_EQ(st.at("keys").size(), 1u) << st.dump();
    EXPECT_EQ(keys(st["keys"][0]), (std::set<std::string>{"expires_in_s", "idle_left_s", "vault"}));

    auto lk = ok_json({"--json", "lock"}, agent);
    EXPECT_EQ(lk, (json{{"agent_was_running", true}, {"keys_forgotten", 1}, {"schema_version", 1}}));
    auto again = ok_json({"--json", "lock"}, agent);
    EXPECT_EQ(again, (json{{"agent_was_running", false}, {"keys_forgotten", 0}, {"schema_version", 1}}));
    auto gone = ok_json({"--json", "unlock", "--status"}, agent);
    EXPECT_EQ(gone.at("agent_running"), false) << gone.dump();
    EXPECT_FALSE(gone.contains("pid")) << gone.dump();
}

TEST_F(Coverage, ExecRemovesEveryPitoolSecretVariable)
{
    init_vault();
    create_pit("a", k_token);
    const auto pass_file = m_tmp / "pass";
    write_file(pass_file, std::string(k_passphrase) + "\n");
    const std::map<std::string, std::string> secret_vars{
        {"PITOOL_PASSPHRASE", std::string(k_passphrase)},
        {"PITOOL_PASSPHRASE_FILE", pass_file.string()},
        {"PITOOL_NEW_PASSPHRASE", "cov-new-passphrase-in-env"},
        {"PITOOL_NEW_PASSPHRASE_FILE", (m_tmp / "new-pass-file").string()},
        {"PITOOL_AUTH_CODE", "cov-auth-code-in-env-0001"},
    };
    Call call{.env = secret_vars};
    call.env["COV_KEEP_ME"] = "kept";
    auto r = pitool({"exec", "a", "--", "/usr/bin/env"}, call);
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    std::map<std::string, std::string> env;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);)
        if (auto eq = line.find('='); eq != std::string::npos) env[line.substr(0, eq)] = line.substr(eq + 1);
    EXPECT_EQ(env["PITOOL_TOKEN"], std::string(k_token));
    EXPECT_EQ(env["COV_KEEP_ME"], "kept") << "exec dropped an ordinary variable: the check below would prove nothing";
    for (const auto& [name, value] : secret_vars) {
        EXPECT_FALSE(env.contains(name)) << name << " reached the command";
        EXPECT_EQ(r.out.find(value), std::string::npos) << "the value of " << name << " reached the command";
    }
}

} // namespace
} // namespace pitool::test
