// Findings of the hostile review (issue 12, part 1), each reproduced against
// the real binaries: a malicious provider is the sandbox with injected faults
// or a raw loopback server; a hand-edited vault is written through the vault
// library. Every test failed on the code before its fix.
#include "robust_support.hpp"
#include "support/vault_snapshot.hpp"

#include "pitool/vault/storage.hpp"
#include "pitool/vault/vault.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <sstream>

namespace pitool::robust {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string k_pit = "pit-5ec0de11-1111-4222-8333-444455556666";

/// Raw bytes no provider text may bring to a terminal or the vault.
const std::vector<std::pair<std::string, std::string>> k_raw_controls{
    {"ESC", "\x1b"}, {"BEL", "\x07"}, {"C1 CSI U+009B", "\xc2\x9b"}, {"RLO U+202E", "\xe2\x80\xae"}};

void expect_no_raw_controls(const std::string& text, const std::string& where)
{
    for (const auto& [what, bytes] : k_raw_controls)
        EXPECT_THAT(text, Not(HasSubstr(bytes))) << what << " reached " << where;
}

bool valid_json_lines(const std::string& text)
{
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (json::parse(line, nullptr, false).is_discarded()) return false;
    return true;
}

class Security : public ::testing::Test {
protected:
    void SetUp() override
    {
        pt.vault = tmp.path() / "v" / "vault";
        pt.env["PITOOL_HTTP_TIMEOUT"] = "3";
        pt.init_cheap();
        pit = sb.new_pit();
        pt.ok({"create", "p", "--provider", "leadconnector", "--location", "LOC1", "--base-url", sb.url(),
               "--token-stdin"},
              pit);
        auto app = sb.new_app();
        client_id = app["client_id"];
        client_secret = app["client_secret"];
        pt.ok({"create", "app", "--provider", "leadconnector", "--kind", "oauth-app", "--client-id", client_id,
               "--base-url", sb.url(), "--token-stdin"},
              client_secret);
        pt.ok({"exchange-code", "--provider", "leadconnector", "--app", "app", "--name", "o", "--code-stdin"},
              sb.new_code(client_id));
    }

    /// The `export --yes-secrets` line of `name`, parsed.
    json exported(const std::string& name)
    {
        std::istringstream in(pt.ok({"export", "--yes-secrets"}).out);
        for (std::string line; std::getline(in, line);) {
            auto j = json::parse(line);
            if (j["name"] == name) return j;
        }
        throw std::runtime_error("not exported: " + name);
    }

    /// Changes one stored record the way a hand edit of the vault would.
    void tamper(const std::string& name, const std::function<void(core::Integration&)>& edit)
    {
        vault::FileStorage storage(pt.vault);
        auto v = vault::Vault::open(storage, Secret::from(std::string_view(pt.passphrase)));
        ASSERT_TRUE(v.ok()) << v.error().message;
        auto lock = storage.lock(std::chrono::seconds(10));
        ASSERT_TRUE(lock.ok());
        ASSERT_TRUE(v->load(name).ok());
        auto* in = v->payload().find(name);
        ASSERT_NE(in, nullptr);
        edit(*in);
        auto st = v->save();
        ASSERT_TRUE(st.ok()) << st.error().message;
    }

    /// A refused command: its exit code, one line on stderr, the vault unchanged.
    Proc refused(const std::vector<std::string>& args, int code, const std::string& in = {})
    {
        const pitool::test::VaultSnapshot before(pt.vault.parent_path());
        Proc p = pt.run(args, in);
        EXPECT_EQ(p.exit_code, code) << describe(p);
        EXPECT_TRUE(one_line(p.err)) << describe(p);
        EXPECT_THAT(p.err, ::testing::StartsWith("pitool: error: ")) << describe(p);
        EXPECT_TRUE(before.unchanged()) << "the vault was written";
        return p;
    }

    pitool::test::TempDir tmp;
    Sandbox sb;
    Pitool pt;
    std::string pit, client_id, client_secret;
};

// --- credentials go only where they belong ---------------------------------

TEST_F(Security, RefreshNeverSendsTheClientSecretToAnotherBaseUrl)
{
    RawServer stranger("HTTP/1.1 400 Bad Request\r\nContent-Length: 2\r\n\r\n{}");
    tamper("o", [&](core::Integration& in) {
        in.base_url = stranger.url();
        in.oauth->access_expires_at = Timestamp{}; // expired: every use refreshes first
    });
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"refresh", "o"}, {"get", "o"}, {"exec", "o", "--", "/bin/true"}, {"test-call", "o"}}) {
        SCOPED_TRACE(args[0]);
        auto p = refused(args, k_usage);
        EXPECT_THAT(p.err, HasSubstr("'app'")) << describe(p);
    }
    auto all = pt.run({"test-call", "--all"});
    EXPECT_NE(all.exit_code, 0) << describe(all);
    EXPECT_EQ(stranger.accepted(), 0) << "the client secret was sent to another base URL";
    EXPECT_EQ(sb.admin("GET", "/counters")["requests_by_path"].value("/oauth/token", 0), 1)
        << "only exchange-code's request reached the token endpoint";
}

TEST_F(Security, ImportRefusesAnOAuthRecordNotBoundToItsApp)
{
    RawServer stranger("");
    json line = exported("o");
    line["name"] = "o2";
    auto with = [&](const std::function<void(json&)>& edit) {
        json j = line;
        edit(j);
        return j.dump() + "\n";
    };
    const std::vector<std::pair<std::string, std::string>> cases{
        {"base URL of a stranger", with([&](json& j) { j["base_url"] = stranger.url(); })},
        {"app missing", with([](json& j) { j["oauth"]["app"] = "nope"; })},
        {"app not an oauth-app", with([](json& j) { j["oauth"]["app"] = "p"; })},
        // The app comes in the same input, after the record, at another base URL.
        {"app in the input elsewhere", with([&](json& j) {
                                           j["oauth"]["app"] = "zapp";
                                           j["base_url"] = stranger.url();
                                       }) +
                                           [&] {
                                               json a = exported("app");
                                               a["name"] = "zapp";
                                               a["base_url"] = sb.url();
                                               return a.dump() + "\n";
                                           }()},
    };
    for (const auto& [label, input] : cases) {
        SCOPED_TRACE(label);
        refused({"import"}, k_usage, input);
    }
    // The whole vault round-trips, a record before its app in name order included.
    json a = exported("app");
    a["name"] = "zz-app";
    json o = exported("o");
    o["name"] = "aa-o";
    o["oauth"]["app"] = "zz-app";
    pt.ok({"import"}, o.dump() + "\n" + a.dump() + "\n");
    Pitool other = pt;
    other.vault = tmp.path() / "w" / "vault";
    other.init_cheap();
    other.ok({"import"}, pt.ok({"export", "--yes-secrets"}).out);
}

TEST_F(Security, PartnerKeyBindingIsCheckedOnImport)
{
    pt.ok({"create", "partner", "--provider", "hint", "--kind", "partner-key", "--base-url", sb.url(), "--token-stdin"},
          "hint-partner-key-0123456789");
    RawServer stranger("");
    json practice = {{"name", "pr"},
                     {"provider", "hint"},
                     {"kind", "practice-key"},
                     {"base_url", stranger.url()},
                     {"account_id", "pra-1"},
                     {"extra", {{"partner", "partner"}}},
                     {"token", "hint-practice-key-0123456789"}};
    refused({"import"}, k_usage, practice.dump() + "\n");
    practice["extra"]["partner"] = "p"; // not a partner key
    practice["base_url"] = sb.url();
    refused({"import"}, k_usage, practice.dump() + "\n");
    practice["extra"]["partner"] = "partner";
    pt.ok({"import"}, practice.dump() + "\n");
}

TEST_F(Security, PlainHttpOnlyForLoopback)
{
    int n = 0;
    for (const char* url : {"http://example.com", "http://10.0.0.1:8080", "http://128.0.0.1", "http://[::2]",
                            "http://localhost.example.com", "http://127.0.0.1.example.com"}) {
        SCOPED_TRACE(url);
        auto p = refused({"create", "h" + std::to_string(++n), "--provider", "leadconnector", "--location", "L",
                          "--base-url", url, "--token-stdin"},
                         k_usage, k_pit);
        EXPECT_THAT(p.err, HasSubstr("loopback")) << describe(p);
        json line = {{"name", "i" + std::to_string(n)},
                     {"provider", "hint"},
                     {"kind", "partner-key"},
                     {"base_url", url},
                     {"token", k_pit}};
        refused({"import"}, k_usage, line.dump() + "\n");
    }
    for (const char* url : {"http://127.0.0.1:9", "http://127.9.8.7", "http://[::1]:9", "http://localhost:9",
                            "HTTP://LOCALHOST", "https://example.com"}) {
        SCOPED_TRACE(url);
        pt.ok({"create", "ok" + std::to_string(++n), "--provider", "leadconnector", "--location", "L", "--base-url",
               url, "--token-stdin"},
              k_pit);
    }
}

TEST_F(Security, ExecRefusesLoaderAndShellStartupVariables)
{
    for (const char* name : {"LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT", "LD_DEBUG", "LD_ANYTHING", "GCONV_PATH",
                             "GETCONF_DIR", "HOSTALIASES", "LOCALDOMAIN", "LOCPATH", "MALLOC_TRACE", "NIS_PATH",
                             "NLSPATH", "RESOLV_HOST_CONF", "RES_OPTIONS", "TMPDIR", "TZDIR", "BASH_ENV", "ENV"}) {
        SCOPED_TRACE(name);
        auto p = refused({"exec", "p", "--env", name, "--", "/bin/true"}, k_usage);
        EXPECT_THAT(p.out + p.err, Not(HasSubstr(pit)));
    }
    pt.ok({"exec", "p", "--env", "LDX", "--", "/bin/true"});
}

// --- provider text is hostile input -----------------------------------------

TEST_F(Security, ProviderMessageEchoingASecretIsRedactedBeforeItIsCut)
{
    const std::string filler(185, 'x');
    // A 401 that echoes the PIT after filler: the cut used to fall inside it.
    sb.admin("POST", "/faults",
             {{"kind", "malformed"},
              {"status", 401},
              {"count", 1},
              {"path_prefix", "/locations"},
              {"body", json{{"message", filler + pit}}.dump()}});
    auto p = pt.run({"test-call", "p"});
    EXPECT_EQ(p.exit_code, k_rejected) << describe(p);
    const std::string piece = pit.substr(4, 10);
    EXPECT_THAT(p.out + p.err, Not(HasSubstr(piece))) << describe(p);
    EXPECT_THAT(pt.ok({"show", "p", "--json"}).out, Not(HasSubstr(piece)));

    // The token endpoint echoing the client secret and the refresh token.
    const std::string refresh_token = exported("o")["secrets"]["refresh_token"];
    for (const std::string& echoed : {client_secret, refresh_token}) {
        sb.admin("POST", "/faults",
                 {{"kind", "malformed"},
                  {"status", 400},
                  {"count", 1},
                  {"path_prefix", "/oauth/token"},
                  {"body", json{{"message", filler + echoed}}.dump()}});
        auto r = pt.run({"refresh", "o"});
        EXPECT_NE(r.exit_code, 0) << describe(r);
        EXPECT_THAT(r.out + r.err, Not(HasSubstr(echoed.substr(0, 12)))) << describe(r);
    }

    // A success summary echoing the token it was called with.
    sb.admin("POST", "/faults",
             {{"kind", "malformed"},
              {"status", 200},
              {"count", 1},
              {"path_prefix", "/locations"},
              {"body", json{{"location", {{"name", pit}}}}.dump()}});
    auto ok = pt.run({"test-call", "p"});
    EXPECT_EQ(ok.exit_code, 0) << describe(ok);
    EXPECT_THAT(ok.out + ok.err, Not(HasSubstr(piece))) << describe(ok);
    EXPECT_THAT(pt.ok({"show", "p", "--json"}).out, Not(HasSubstr(piece)));
}

TEST_F(Security, MessagesAreCutOnCodePointsAndJsonStaysValid)
{
    sb.admin("POST", "/faults",
             {{"kind", "malformed"},
              {"status", 401},
              {"count", 1},
              {"path_prefix", "/locations"},
              {"body", json{{"message", std::string(199, 'x') + "\xc3\xa9\xc3\xa9 and more"}}.dump()}});
    auto p = pt.run({"test-call", "p"});
    EXPECT_EQ(p.exit_code, k_rejected) << describe(p);
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"show", "p", "--json"}, {"list", "--json"}, {"export"}, {"export", "--yes-secrets"}}) {
        SCOPED_TRACE(args[0]);
        auto r = pt.run(args);
        EXPECT_EQ(r.exit_code, 0) << describe(r);
        EXPECT_TRUE(valid_json_lines(r.out)) << r.out;
    }
}

TEST_F(Security, BadBytesAlreadyInTheVaultStillListShowAndExport)
{
    tamper("p", [](core::Integration& in) {
        in.description = "broken \xff\xc3 text \x1b[2J";
        in.last_check = core::LastCheck{Timestamp{}, 200, true, "cut \xe2\x80"};
        in.extra.emplace_back("note", "\xc2\x9b"
                                      "31m\xe2\x80\xae");
    });
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"show", "p", "--json"}, {"list", "--json"}, {"export"}, {"export", "--yes-secrets"}, {"show", "p"}}) {
        SCOPED_TRACE(args[0]);
        auto r = pt.run(args);
        EXPECT_EQ(r.exit_code, 0) << describe(r);
        if (args.back() != "p") {
            EXPECT_TRUE(valid_json_lines(r.out)) << r.out;
        }
        expect_no_raw_controls(r.out, args[0]);
    }
    auto all = pt.run({"test-call", "--all", "--json"});
    EXPECT_TRUE(valid_json_lines(all.out)) << describe(all);
}

TEST_F(Security, TerminalControlsFromAProviderAreEscaped)
{
    pt.ok({"create", "pr", "--provider", "hint", "--kind", "practice-key", "--practice", "pra-1", "--base-url",
           sb.url(), "--token-stdin"},
          "hint-practice-key-0123456789");
    sb.admin("POST", "/faults",
             {{"kind", "malformed"},
              {"status", 200},
              {"count", 1},
              {"path_prefix", "/api/provider/practice"},
              {"body", json{{"id", "pra-\x1b[2J\xc2\x9b"
                                   "31m"},
                            {"name", "\xe2\x80\xae"
                                     "evil\x07"}}
                           .dump()}});
    auto p = pt.run({"test-call", "pr"});
    EXPECT_EQ(p.exit_code, 0) << describe(p);
    expect_no_raw_controls(p.out + p.err, "test-call");
    EXPECT_THAT(p.out, HasSubstr("\\x1B"));
    EXPECT_THAT(p.out, HasSubstr("\\u009B"));
    EXPECT_THAT(p.out, HasSubstr("\\u202E"));
    expect_no_raw_controls(pt.ok({"show", "pr"}).out, "show");
    expect_no_raw_controls(pt.ok({"show", "pr", "--json"}).out, "show --json");
    std::string why;
    auto payload = decrypt_vault(*slurp(pt.vault), pt.passphrase, pt.vault, &why);
    ASSERT_TRUE(payload) << why;
    expect_no_raw_controls(payload->dump(-1, ' ', false, json::error_handler_t::replace), "the vault");
}

TEST_F(Security, HttpTraceEscapesResponseHeaders)
{
    RawServer evil("HTTP/1.1 200 OK\r\nX-Evil: \x1b]0;pwned\x07\x9b"
                   "31m\xe2\x80\xae\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
    pt.ok({"create", "ev", "--provider", "leadconnector", "--location", "L", "--base-url", evil.url(), "--token-stdin"},
          k_pit);
    auto p = pt.run({"-vv", "test-call", "ev"});
    EXPECT_THAT(p.err, HasSubstr("X-Evil")) << describe(p);
    expect_no_raw_controls(p.err, "the -v trace");
    EXPECT_THAT(p.err, Not(HasSubstr("\x9b")));
}

TEST_F(Security, TypedNamesAndDescriptionsWithBidiControlsAreRefused)
{
    refused({"create", "b1", "--provider", "leadconnector", "--location", "L", "--base-url", sb.url(), "--description",
             "inv\xe2\x80\xaeoice", "--token-stdin"},
            k_usage, k_pit);
    refused({"create", "b2", "--provider", "leadconnector", "--location", "L", "--base-url", sb.url(), "--description",
             "x\xe2\x81\xa6y", "--token-stdin"},
            k_usage, k_pit);
}

} // namespace
} // namespace pitool::robust
