#include "cli/cli_fixture.hpp"

#include "support/json_schema.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <regex>
#include <stdexcept>

namespace pitool::test {
std::string describe(const RunResult& r)
{
    return "exit " + std::to_string(r.exit_code) + "\n--- stdout ---\n" + r.out + "--- stderr ---\n" + r.err;
}

bool one_line(const std::string& s)
{
    return !s.empty() && s.back() == '\n' && s.find('\n') == s.size() - 1;
}

bool rfc3339_utc(const nlohmann::json& s)
{
    static const std::regex k_re(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$)");
    return s.is_string() && std::regex_match(s.get<std::string>(), k_re);
}

std::string numbered_pit_lines(int count)
{
    std::string lines;
    for (int i = 0; i < count; ++i) {
        char tok[64];
        std::snprintf(tok, sizeof tok, "pit-00000000-0000-4000-8000-%012d", i);
        char name[16];
        std::snprintf(name, sizeof name, "n%04d", i);
        lines += nlohmann::json{{"name", name},         {"provider", "leadconnector"}, {"kind", "pit"},
                                {"account_id", "LOC1"}, {"level", "location"},         {"token", tok}}
                     .dump() +
                 "\n";
    }
    return lines;
}

std::string expected_actor()
{
    const passwd* pw = ::getpwuid(::geteuid());
    std::string user = pw != nullptr ? pw->pw_name : "uid" + std::to_string(::geteuid());
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
    return user + "@" + (host[0] != '\0' ? host : "localhost");
}

CliTest::CliTest() : m_dir(m_tmp / "vault-dir"), m_vault(m_dir / "vault") {}

RunResult CliTest::pitool(const std::vector<std::string>& args, const Call& call) const
{
    std::vector<std::string> argv = call.wrapper;
    argv.emplace_back(PITOOL_BIN);
    if (!call.no_vault_flag) {
        argv.emplace_back("--vault");
        argv.push_back(m_vault.string());
    }
    argv.insert(argv.end(), args.begin(), args.end());
    // Tests hand secrets over on stdin, in files or the environment only.
    for (const auto& a : argv)
        for (std::string_view s : {k_passphrase, k_token, k_token2, k_client_secret})
            EXPECT_EQ(a.find(s), std::string::npos) << "test bug: a planted secret in pitool's argv: " << a;
    RunOptions opts;
    opts.stdin_data = call.stdin_data;
    opts.timeout_seconds = call.timeout_seconds;
    // HOME, XDG_*, TMPDIR and the agent socket point into the test's directory.
    opts.dir = m_tmp.path();
    // Without --vault, only what the test sets decides (never a default vault).
    opts.env["PITOOL_VAULT"] = call.no_vault_flag ? std::string() : m_vault.string();
    opts.env["TZ"] = "UTC";
    if (!call.no_passphrase) opts.env["PITOOL_PASSPHRASE"] = std::string(k_passphrase);
    if (!call.at.empty()) {
        // Frozen absolute time (no '@': the clock does not advance), so a
        // boundary second stays that second however slow the machine is.
        // The monotonic clock stays real so lock waits still end.
        opts.env["LD_PRELOAD"] = "/usr/$LIB/faketime/libfaketime.so.1";
        opts.env["FAKETIME"] = call.at;
        opts.env["FAKETIME_DONT_FAKE_MONOTONIC"] = "1";
        opts.env["FAKETIME_NO_CACHE"] = "1";
    }
    for (const auto& [k, v] : call.env) opts.env[k] = v;
    auto r = run(argv, opts);
    expect_json_output_follows_schema(args, r);
    return r;
}

RunResult CliTest::ok(const std::vector<std::string>& args, const Call& call) const
{
    auto r = pitool(args, call);
    if (r.exit_code != 0) {
        std::string cmd;
        for (const auto& a : args) cmd += " " + a;
        throw std::runtime_error("pitool" + cmd + " failed: " + describe(r));
    }
    return r;
}

nlohmann::json CliTest::ok_json(const std::vector<std::string>& args, const Call& call) const
{
    auto r = ok(args, call);
    return nlohmann::json::parse(r.out);
}

void CliTest::init_vault(const std::string& at) const
{
    ok({"init", "--kdf", "interactive"}, {.at = at});
}

void CliTest::create_pit(const std::string& name, std::string_view token, const std::string& at) const
{
    ok({"create", name, "--provider", "leadconnector", "--location", "loc-1", "--token-stdin"},
       {.stdin_data = std::string(token), .at = at});
}

void CliTest::rotate(const std::string& name, std::string_view token, const std::string& at) const
{
    ok({"rotate", name, "--token-stdin"}, {.stdin_data = std::string(token), .at = at});
}

std::string CliTest::vault_bytes() const
{
    return read_file(m_vault);
}

std::filesystem::path CliTest::data_file() const
{
    std::vector<std::filesystem::path> found;
    for (const auto& e : std::filesystem::directory_iterator(m_dir))
        if (e.path().filename().string().rfind("vault.data-", 0) == 0) found.push_back(e.path());
    EXPECT_EQ(found.size(), 1u) << "data files beside the vault";
    return found.empty() ? m_dir / "vault.data-missing" : found.front();
}

nlohmann::json CliTest::events(const std::string& name, const std::string& at) const
{
    std::vector<std::string> args{"history", "--json"};
    if (!name.empty()) args.push_back(name);
    return ok_json(args, {.at = at}).at("events");
}

} // namespace pitool::test
