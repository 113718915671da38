// Hostile input matrix: every value a user or a provider controls, made
// empty, huge, non-UTF-8, or full of control characters and newlines; broken
// provider answers; vault files that are not what they should be. Each case
// must end with ONE line on stderr, its documented exit code (docs/cli.md),
// no crash (exit < 128), and every file of the vault directory unchanged.
//
// PITOOL_ROBUSTNESS_TABLE=FILE writes the matrix (case -> expected, actual)
// as Markdown rows, for docs/robustness.md.
#include "robust_support.hpp"
#include "support/vault_snapshot.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <mutex>

namespace pitool::robust {
namespace {

struct Case {
    std::string group;
    std::string label;
    std::vector<std::string> args;
    std::string in{};
    std::map<std::string, std::string> env{};
    int expect = k_usage;
    bool vault_may_change = false; ///< e.g. a test-call that records its result
    double max_seconds = 20;
};

std::mutex g_table_mu;

void table_row(const Case& c, int got)
{
    const char* path = std::getenv("PITOOL_ROBUSTNESS_TABLE");
    if (path == nullptr) return;
    std::lock_guard lock(g_table_mu);
    std::string cmd = c.args.empty() ? "" : c.args[0];
    std::ofstream(path, std::ios::app) << "| " << c.group << " | `" << cmd << "` | " << c.label << " | " << c.expect
                                       << " | " << got << " |\n";
}

const std::string k_huge_arg(120'000, 'a');    // argv: one string is capped at 128 KiB by the kernel
const std::string k_huge_in(1024 * 1024, 'A'); // stdin / files: 1 MiB
const std::string k_nonutf8 = "\xff\xfe\xc3\x28";
const std::string k_token = "pit-0badc0de-1111-4222-8333-444455556666";

class Hostile : public ::testing::Test {
protected:
    void SetUp() override
    {
        pt.vault = tmp.path() / "v" / "vault";
        pt.env["PITOOL_HTTP_TIMEOUT"] = "2";
        pt.init_cheap();
        pt.ok({"create", "p", "--provider", "leadconnector", "--location", "LOC1", "--base-url", sb.url(),
               "--token-stdin"},
              sb.new_pit());
        auto app = sb.new_app();
        client_id = app["client_id"];
        pt.ok({"create", "app", "--provider", "leadconnector", "--kind", "oauth-app", "--client-id", client_id,
               "--base-url", sb.url(), "--token-stdin"},
              app["client_secret"].get<std::string>());
        pt.ok({"exchange-code", "--provider", "leadconnector", "--app", "app", "--name", "o", "--code-stdin"},
              sb.new_code(client_id));
        pt.ok({"rotate", "p", "--token-stdin"}, k_token); // a window is open: cancel/expire are valid
    }

    /// Runs one case and checks the contract; returns the result.
    Proc check(const Case& c)
    {
        SCOPED_TRACE(c.group + " / " + c.label + " / " + (c.args.empty() ? "" : c.args[0]));
        // Every file of the vault directory (vault, backup, data file, lock):
        // its bytes, or its kind when it is not a regular file (a FIFO is
        // never opened), its owner and mode.
        const pitool::test::VaultSnapshot before(pt.vault.parent_path());
        auto s = pt.spec(c.args, c.in);
        for (const auto& [k, v] : c.env) s.env[k] = v;
        s.timeout_s = c.max_seconds;
        const Proc p = spawn(s);
        ++cases;
        table_row(c, p.exit_code);
        EXPECT_FALSE(p.killed) << "hung: " << describe(p);
        EXPECT_LT(p.exit_code, 128) << "crashed: " << describe(p);
        EXPECT_EQ(p.exit_code, c.expect) << describe(p);
        if (p.exit_code != 0) {
            EXPECT_TRUE(one_line(p.err)) << "stderr is not one line: " << describe(p);
            EXPECT_THAT(p.err, ::testing::StartsWith("pitool: error: ")) << describe(p);
        }
        if (!c.vault_may_change) {
            EXPECT_TRUE(before.unchanged()) << "the vault was written";
        }
        return p;
    }

    void run_all(const std::vector<Case>& cs)
    {
        for (const auto& c : cs) check(c);
    }

    pitool::test::TempDir tmp;
    Sandbox sb;
    Pitool pt;
    std::string client_id;
    int cases = 0;
};

/// Every command that takes an integration name, with hostile names.
TEST_F(Hostile, Names)
{
    const std::vector<std::pair<std::string, std::string>> bad{{"empty", ""},
                                                               {"huge (120 KB)", k_huge_arg},
                                                               {"non-UTF-8", k_nonutf8},
                                                               {"newline", "p\nx"},
                                                               {"control char", std::string("p\x01", 2) + "x"},
                                                               {"escape sequence", "p\x1b[31m"},
                                                               {"path", "../p"},
                                                               {"upper case", "P"}};
    std::vector<Case> cs;
    for (const auto& [label, name] : bad) {
        const auto tok = k_token;
        cs.push_back({"name",
                      label,
                      {"create", name, "--provider", "leadconnector", "--location", "L", "--token-stdin"},
                      "pit-aaaaaaaa-1111-4222-8333-444455556666"});
        cs.push_back({"name", label, {"rotate", name, "--token-stdin"}, "pit-bbbbbbbb-1111-4222-8333-444455556666"});
        cs.push_back({"name", label, {"show", name}});
        cs.push_back({"name", label, {"get", name}});
        cs.push_back({"name", label, {"cancel-rotation", name}});
        cs.push_back({"name", label, {"expire-old", name}});
        cs.push_back({"name", label, {"delete", name, "--yes"}});
        if (!name.empty()) cs.push_back({"name", label, {"history", name}}); // "": see BUG_ test below
        cs.push_back({"name", label, {"test-call", name}});
        cs.push_back({"name", label, {"refresh", name}});
        cs.push_back({"name", label, {"exec", name, "--", "/bin/true"}});
        cs.push_back({"name",
                      label,
                      {"exchange-code", "--provider", "leadconnector", "--app", "app", "--name", name, "--code-stdin"},
                      "some-code-value"});
        cs.push_back({"name",
                      label,
                      {"exchange-code", "--provider", "leadconnector", "--app", name, "--name", "new1", "--code-stdin"},
                      "some-code-value"});
    }
    run_all(cs);
    std::cout << "[hostile] names: " << cases << " cases" << std::endl;
}

/// create's other values: description, scope, base URL, account ids, client id.
TEST_F(Hostile, CreateValues)
{
    const std::vector<std::string> base{"create", "n", "--provider", "leadconnector", "--token-stdin"};
    auto with = [&](std::vector<std::string> extra, bool location = true) {
        auto a = base;
        if (location) extra.insert(extra.end(), {"--location", "L"});
        a.insert(a.end(), extra.begin(), extra.end());
        return a;
    };
    const std::string tok = "pit-cccccccc-1111-4222-8333-444455556666";
    std::vector<Case> cs{
        {"description", "huge (120 KB)", with({"--description", k_huge_arg}), tok},
        {"description", "non-UTF-8", with({"--description", k_nonutf8}), tok},
        {"description", "newline", with({"--description", "a\nb"}), tok},
        {"description", "escape sequence", with({"--description", "a\x1b[2Jb"}), tok},
        {"description", "NUL-free control char",
         with({"--description", "a\x7f"
                                "b"}),
         tok},
        {"scope", "huge (120 KB)", with({"--scope", k_huge_arg, "--strict-scopes"}), tok},
        {"scope", "non-UTF-8", with({"--scope", k_nonutf8}), tok},
        {"scope", "newline", with({"--scope", "locations.readonly\nx"}), tok},
        {"scope", "control char",
         with({"--scope", "a\x01"
                          "b"}),
         tok},
        {"scope", "escape sequence", with({"--scope", "\x1b[31mred"}), tok},
        {"base URL", "huge (120 KB)", with({"--base-url", "https://" + k_huge_arg}), tok},
        {"base URL", "non-UTF-8", with({"--base-url", "https://" + k_nonutf8}), tok},
        {"base URL", "newline", with({"--base-url", "https://a.test\nHost: evil"}), tok},
        {"base URL", "user info", with({"--base-url", "https://user:pw@a.test"}), tok},
        {"base URL", "path", with({"--base-url", "https://a.test/x"}), tok},
        {"base URL", "query", with({"--base-url", "https://a.test?x=1"}), tok},
        {"base URL", "scheme ftp", with({"--base-url", "ftp://a.test"}), tok},
        {"base URL", "no host", with({"--base-url", "https://"}), tok},
        {"base URL", "bad port", with({"--base-url", "https://a.test:99999"}), tok},
        {"location", "empty", with({"--location", ""}, false), tok},
        {"location", "huge (120 KB)", with({"--location", k_huge_arg}, false), tok},
        {"location", "non-UTF-8", with({"--location", k_nonutf8}, false), tok},
        {"location", "newline", with({"--location", "L\nM"}, false), tok},
        {"location", "space", with({"--location", "L M"}, false), tok},
        {"company", "control char", with({"--company", "C\x01"}, false), tok},
        {"client id",
         "empty",
         {"create", "n", "--provider", "leadconnector", "--kind", "oauth-app", "--client-id", "", "--token-stdin"},
         tok},
        {"client id",
         "newline",
         {"create", "n", "--provider", "leadconnector", "--kind", "oauth-app", "--client-id", "a\nb", "--token-stdin"},
         tok},
        {"client id",
         "non-UTF-8",
         {"create", "n", "--provider", "leadconnector", "--kind", "oauth-app", "--client-id", k_nonutf8,
          "--token-stdin"},
         tok},
        {"client id",
         "huge (120 KB)",
         {"create", "n", "--provider", "leadconnector", "--kind", "oauth-app", "--client-id", k_huge_arg,
          "--token-stdin"},
         tok},
        {"provider", "non-UTF-8", {"create", "n", "--provider", k_nonutf8, "--token-stdin"}, tok},
        {"kind",
         "newline",
         {"create", "n", "--provider", "leadconnector", "--kind", "pit\n", "--location", "L", "--token-stdin"},
         tok},
    };
    run_all(cs);
}

/// Secrets on stdin or in files: tokens, codes, passphrases, request bodies.
TEST_F(Hostile, SecretInputs)
{
    const auto big = tmp.path() / "big";
    const auto empty = tmp.path() / "empty";
    pitool::test::write_file(big, k_huge_in);
    pitool::test::write_file(empty, "");
    const std::vector<std::pair<std::string, std::string>> bad_tokens{
        {"empty", ""},
        {"huge (1 MiB)", k_huge_in},
        {"non-UTF-8", "pit-" + k_nonutf8 + "0000-1111"},
        {"newline inside", "pit-aaaa\nbbbb-cccc"},
        {"control char", std::string("pit-aaaa\x01") + "bbbb"},
        {"space", "pit-aaaa bbbb"},
        {"too short", "pit-1"},
        {"only newlines", "\n\n\n"}};
    std::vector<Case> cs;
    for (const auto& [label, t] : bad_tokens) {
        cs.push_back({"token (stdin)",
                      label,
                      {"create", "n", "--provider", "leadconnector", "--location", "L", "--token-stdin"},
                      t});
        cs.push_back({"token (stdin)", label, {"rotate", "o", "--token-stdin"}, t, {}, k_usage});
        cs.push_back({"code (stdin)",
                      label,
                      {"exchange-code", "--provider", "leadconnector", "--app", "app", "--name", "n", "--code-stdin"},
                      t});
        const int code_expect = label == "too short" ? k_rejected : k_usage; // codes have no minimum length
        cs.back().expect = code_expect;
        cs.push_back({"code (env)",
                      label,
                      {"exchange-code", "--provider", "leadconnector", "--app", "app", "--name", "n"},
                      {},
                      {{"PITOOL_AUTH_CODE", t.substr(0, 100000)}},
                      code_expect});
    }
    // rotate o: o is kind oauth: refused (2) whatever the token; use the pit with the window closed instead.
    for (const auto& [file, label] :
         std::vector<std::pair<std::string, std::string>>{{big.string(), "huge file (1 MiB)"},
                                                          {empty.string(), "empty file"},
                                                          {"/dev/zero", "/dev/zero"},
                                                          {tmp.path().string(), "a directory"},
                                                          {"/nonexistent/x", "missing file"}}) {
        cs.push_back({"token file",
                      label,
                      {"create", "n", "--provider", "leadconnector", "--location", "L", "--token-file", file}});
        cs.push_back(
            {"code file",
             label,
             {"exchange-code", "--provider", "leadconnector", "--app", "app", "--name", "n", "--code-file", file}});
        cs.push_back({"passphrase file", label, {"list"}, {}, {{"PITOOL_PASSPHRASE_FILE", file}}});
        cs.push_back({"passphrase file", label, {"--passphrase-file", file, "list"}});
        cs.push_back({"new passphrase file", label, {"passwd", "--new-passphrase-file", file}});
        cs.push_back({"request body file", label, {"test-call", "p", "--data", "@" + file}});
    }
    cs.push_back({"passphrase", "non-UTF-8 (wrong)", {"list"}, {}, {{"PITOOL_PASSPHRASE", k_nonutf8}}, k_wrong_pass});
    cs.push_back(
        {"passphrase", "huge env (120 KB, wrong)", {"list"}, {}, {{"PITOOL_PASSPHRASE", k_huge_arg}}, k_wrong_pass});
    run_all(cs);
}

/// test-call, exec, audit, global options.
TEST_F(Hostile, OtherFlags)
{
    std::vector<Case> cs{
        {"path", "absolute URL", {"test-call", "p", "--path", "http://evil.test/x"}},
        {"path", "scheme-relative", {"test-call", "p", "--path", "//evil.test/x"}},
        {"path", "newline", {"test-call", "p", "--path", "/locations/LOC1\r\nX-Evil: 1"}},
        {"path", "space", {"test-call", "p", "--path", "/a b"}},
        {"path", "non-UTF-8", {"test-call", "p", "--path", "/" + k_nonutf8}},
        {"path", "huge (120 KB)", {"test-call", "p", "--path", "/" + k_huge_arg}},
        {"method", "space", {"test-call", "p", "--method", "GE T"}},
        {"method", "TRACE", {"test-call", "p", "--method", "TRACE"}},
        {"data", "truncated JSON", {"test-call", "p", "--data", "{\"a\":"}},
        {"data", "non-UTF-8", {"test-call", "p", "--data", "\"" + k_nonutf8 + "\""}},
        {"data", "huge (120 KB)", {"test-call", "p", "--data", "[" + k_huge_arg + "]"}},
        {"exec --env", "empty", {"exec", "p", "--env", "", "--", "/bin/true"}},
        {"exec --env", "digit first", {"exec", "p", "--env", "1X", "--", "/bin/true"}},
        {"exec --env", "with =", {"exec", "p", "--env", "A=B", "--", "/bin/true"}},
        {"exec --env", "newline", {"exec", "p", "--env", "A\nB", "--", "/bin/true"}},
        {"exec --env", "huge (120 KB)", {"exec", "p", "--env", k_huge_arg, "--", "/bin/true"}},
        {"exec", "no command", {"exec", "p", "--"}},
        {"audit", "max-age text", {"audit", "--max-age", "x"}},
        {"audit", "max-age negative", {"audit", "--max-age", "-1"}},
        {"audit", "max-age overflow", {"audit", "--max-age", "99999999999999999999999"}},
        {"audit", "warn-days > max-age", {"audit", "--max-age", "10", "--warn-days", "11"}},
        {"user type",
         "newline",
         {"exchange-code", "--provider", "leadconnector", "--app", "app", "--name", "n", "--code-stdin", "--user-type",
          "Location\n"},
         "code-1234"},
        {"kdf", "unknown", {"passwd", "--kdf", "fast"}, {}, {{"PITOOL_NEW_PASSPHRASE", "another-pass-123"}}},
        {"--vault", "empty", {"--vault", "", "list"}},
        {"--cacert", "missing", {"--cacert", "/nonexistent.pem", "test-call", "p"}},
    };
    run_all(cs);
}

/// Broken provider answers from the sandbox (faults, never spending the token).
TEST_F(Hostile, ProviderAnswers)
{
    const std::vector<std::pair<std::string, std::string>> bodies{
        {"truncated JSON", "{\"access_token\":\"eyJ"},
        {"empty body", ""},
        {"JSON array", "[]"},
        {"JSON null", "null"},
        {"JSON string", "\"ok\""},
        {"missing fields", "{}"},
        {"access_token a number",
         R"({"access_token":12345,"token_type":"Bearer","expires_in":86399,"refresh_token":"eyJr.x.y","userType":"Location","locationId":"LOC1","companyId":"C1","userId":"U1","scope":"locations.readonly"})"},
        {"refresh_token an array",
         R"({"access_token":"eyJa.b.c","token_type":"Bearer","expires_in":86399,"refresh_token":["x"],"userType":"Location","locationId":"LOC1","companyId":"C1","userId":"U1","scope":"locations.readonly"})"},
        {"expires_in a string",
         R"({"access_token":"eyJa.b.c","token_type":"Bearer","expires_in":"soon","refresh_token":"eyJr.x.y","userType":"Location","locationId":"LOC1","companyId":"C1","userId":"U1","scope":"locations.readonly"})"},
        {"expires_in huge",
         R"({"access_token":"eyJa.b.c","token_type":"Bearer","expires_in":1e300,"refresh_token":"eyJr.x.y","userType":"Location","locationId":"LOC1","companyId":"C1","userId":"U1","scope":"locations.readonly"})"},
        {"access_token empty",
         R"({"access_token":"","token_type":"Bearer","expires_in":86399,"refresh_token":"eyJr.x.y","userType":"Location","locationId":"LOC1","companyId":"C1","userId":"U1","scope":"locations.readonly"})"},
    };
    const auto o_before = json::parse(pt.ok({"show", "o", "--json"}).out);
    for (const auto& [label, body] : bodies) {
        for (const std::string which : {"refresh", "exchange-code"}) {
            sb.admin("POST", "/faults",
                     {{"kind", "malformed"},
                      {"status", 200},
                      {"body", body},
                      {"count", 1},
                      {"path_prefix", "/oauth/token"}});
            if (which == "refresh")
                check({"provider answer (200)", label, {"refresh", "o"}, {}, {}, k_unavailable});
            else
                check({"provider answer (200)",
                       label,
                       {"exchange-code", "--provider", "leadconnector", "--app", "app", "--name", "n", "--code-stdin"},
                       sb.new_code(client_id),
                       {},
                       k_unavailable});
            sb.admin("DELETE", "/faults");
        }
    }
    struct F {
        std::string label;
        json spec;
        int expect;
    };
    const std::vector<F> faults{
        {"302 to another origin", {{"kind", "redirect"}, {"status", 302}}, k_unavailable},
        {"307 to another host",
         {{"kind", "redirect"}, {"status", 307}, {"location", "http://evil.test/oauth/token"}},
         k_unavailable},
        {"connection closed, no answer", {{"kind", "close"}}, k_unavailable},
        {"500 on every attempt", {{"kind", "status"}, {"status", 500}, {"count", 8}}, k_unavailable},
        {"429 with Retry-After 3600", {{"kind", "rate_limit"}, {"retry_after", 3600}, {"count", 8}}, k_unavailable},
        {"200 text/html", {{"kind", "malformed"}, {"status", 200}, {"body", "<html>oops</html>"}}, k_unavailable},
        {"3xx without Location (malformed 304)", {{"kind", "malformed"}, {"status", 304}, {"body", ""}}, k_unavailable},
    };
    for (const auto& ft : faults) {
        json spec = ft.spec;
        spec["path_prefix"] = "/oauth/token";
        if (!spec.contains("count")) spec["count"] = 1;
        sb.admin("POST", "/faults", spec);
        check({"provider answer", ft.label, {"refresh", "o"}, {}, {}, ft.expect, false, 40});
        sb.admin("DELETE", "/faults");
    }
    // Nothing above spent the refresh token or changed the credential.
    EXPECT_EQ(json::parse(pt.ok({"show", "o", "--json"}).out), o_before);
    pt.ok({"refresh", "o"});
}

// ---------------------------------------------------------------------------
// Known pitool bugs found by this matrix: these tests FAIL until pitool is
// fixed. Each case states the documented expectation.

/// An explicitly empty value is taken as "not given" instead of a usage error
/// (docs/cli.md: names must match [a-z0-9][a-z0-9._-]{0,63}; --base-url must be
/// http(s)://host; --path must start with '/'; empty --vault/--cacert are already
/// usage errors). `test-call --path ""` even runs the default call and records it.
TEST_F(Hostile, EmptyValuesAreUsageErrorsNotDefaults)
{
    run_all({
        {"name", "empty", {"history", ""}},
        {"base URL",
         "empty",
         {"create", "e1", "--provider", "leadconnector", "--location", "L", "--base-url", "", "--token-stdin"},
         "pit-abababab-1111-4222-8333-444455556666"},
        {"path", "empty", {"test-call", "p", "--path", ""}},
        {"method", "empty", {"test-call", "p", "--method", ""}},
    });
}

/// A 200 answer whose fields have the wrong shape is stored instead of being
/// refused as a malformed answer (exit 8, docs/cli.md "a success answer that
/// cannot be parsed is exit 8"): an access token containing a newline (later
/// printed by `get` and exported by `exec`), and a non-string `scope`.
TEST_F(Hostile, ProviderAnswerWithBadFieldsIsRefused)
{
    const std::vector<std::pair<std::string, std::string>> bodies{
        {"access_token with newline",
         R"({"access_token":"eyJa\nb.c","token_type":"Bearer","expires_in":86399,"refresh_token":"eyJr.x.y","userType":"Location","locationId":"LOC1","companyId":"C1","userId":"U1","scope":"locations.readonly"})"},
        {"scope a number",
         R"({"access_token":"eyJa.b.c","token_type":"Bearer","expires_in":86399,"refresh_token":"eyJr.x.y","userType":"Location","locationId":"LOC1","companyId":"C1","userId":"U1","scope":5})"},
    };
    int k = 0;
    for (const auto& [label, body] : bodies) {
        for (const std::string which : {"refresh", "exchange-code"}) {
            sb.admin("POST", "/faults",
                     {{"kind", "malformed"},
                      {"status", 200},
                      {"body", body},
                      {"count", 1},
                      {"path_prefix", "/oauth/token"}});
            if (which == "refresh")
                check({"provider answer (200)", label, {"refresh", "o"}, {}, {}, k_unavailable});
            else
                check({"provider answer (200)",
                       label,
                       {"exchange-code", "--provider", "leadconnector", "--app", "app", "--name",
                        "bad" + std::to_string(++k), "--code-stdin"},
                       sb.new_code(client_id),
                       {},
                       k_unavailable});
            sb.admin("DELETE", "/faults");
        }
    }
}

/// Answers from a raw socket the test controls: silence, truncation, size, TLS.
TEST_F(Hostile, RawServers)
{
    struct R {
        std::string label;
        std::string reply;
        bool tls = false;
        int expect = k_unavailable;
    };
    const std::string nine_mib(9 * 1024 * 1024, 'x');
    std::vector<R> rs{
        {"accepts and never answers", ""},
        {"truncated body (Content-Length 500, 10 sent)",
         "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"access_"},
        {"over the 8 MiB cap (Content-Length)",
         "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(nine_mib.size()) +
             "\r\n\r\n" + nine_mib},
        {"over the 8 MiB cap (no length, close)",
         "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n" + nine_mib},
        {"302 to another host",
         "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.2:9/oauth/token\r\nContent-Length: 0\r\n\r\n"},
        {"not HTTP", "HELLO THERE\r\n\r\n"},
        {"200 JSON with non-UTF-8 bytes", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                                          "46\r\n\r\n{\"access_token\":\"eyJ\xff.b.c\",\"expires_in\":86399}"},
        {"TLS handshake with a plain-text server", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", true},
    };
    int k = 0;
    for (const auto& r : rs) {
        RawServer srv(r.reply, true);
        const std::string url = (r.tls ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(srv.port());
        const std::string app = "rawapp" + std::to_string(k), pit = "raw" + std::to_string(k);
        ++k;
        pt.ok({"create", app, "--provider", "leadconnector", "--kind", "oauth-app", "--client-id", "cid", "--base-url",
               url, "--token-stdin"},
              "client-secret-raw");
        pt.ok({"create", pit, "--provider", "leadconnector", "--location", "LOC1", "--base-url", url, "--token-stdin"},
              "pit-dddddddd-1111-4222-8333-44445555666" + std::to_string(k));
        const std::map<std::string, std::string> fast{{"PITOOL_HTTP_TIMEOUT", "1"}};
        check({"raw server",
               r.label,
               {"exchange-code", "--provider", "leadconnector", "--app", app, "--name", "n", "--code-stdin"},
               "code-raw-0001",
               fast,
               r.expect,
               false,
               15});
        // GET is retried (at most 4 attempts); a test-call without an HTTP answer stores nothing.
        const bool got_http_answer =
            r.label.starts_with("302") || r.label.starts_with("over") || r.label.starts_with("200");
        // (test-call judges a 2xx by its status alone, so the non-UTF-8 200 is exchange-code only.)
        if (!r.label.starts_with("200"))
            check({"raw server", r.label, {"test-call", pit}, {}, fast, r.expect, got_http_answer, 25});
        EXPECT_GE(srv.accepted(), 1) << r.label;
    }
}

/// The vault path is not a private regular file.
TEST_F(Hostile, VaultFileKinds)
{
    const auto bytes = *slurp(pt.vault);
    const auto dir = pt.vault.parent_path();
    const std::vector<std::vector<std::string>> cmds{
        {"list"},
        {"get", "p"},
        {"rotate", "p", "--now", "--token-stdin"},
        {"create", "n", "--provider", "leadconnector", "--location", "L", "--token-stdin"}};
    auto each = [&](const std::string& label, int expect) {
        for (const auto& c : cmds)
            check({"vault file", label, c, "pit-eeeeeeee-1111-4222-8333-444455556666", {}, expect});
    };
    auto restore = [&] {
        std::filesystem::remove_all(pt.vault);
        pitool::test::write_file(pt.vault, bytes);
    };
    // A directory.
    std::filesystem::remove(pt.vault);
    std::filesystem::create_directory(pt.vault);
    each("a directory", k_io);
    EXPECT_TRUE(std::filesystem::is_directory(pt.vault));
    restore();
    // A symlink to a real vault.
    const auto real = tmp.path() / "real-vault";
    pitool::test::write_file(real, bytes);
    std::filesystem::remove(pt.vault);
    std::filesystem::create_symlink(real, pt.vault);
    each("a symlink to a vault", k_io);
    EXPECT_TRUE(std::filesystem::is_symlink(pt.vault));
    EXPECT_EQ(slurp(real), bytes);
    restore();
    // World-readable.
    ::chmod(pt.vault.c_str(), 0644);
    each("world-readable (0644)", k_io);
    ::chmod(pt.vault.c_str(), 0600);
    // Owned by someone else (we are root in CI; skip the part otherwise).
    if (::geteuid() == 0) {
        ASSERT_EQ(::chown(pt.vault.c_str(), 65534, 65534), 0);
        each("owned by nobody", k_io);
        ASSERT_EQ(::chown(pt.vault.c_str(), 0, 0), 0);
    }
    // A FIFO: must not block.
    std::filesystem::remove(pt.vault);
    ASSERT_EQ(::mkfifo(pt.vault.c_str(), 0600), 0);
    each("a FIFO", k_io);
    restore();
    // The lock file is a symlink to another file: writers must not follow it.
    const auto victim = tmp.path() / "victim";
    pitool::test::write_file(victim, "precious");
    std::filesystem::remove(dir / "vault.lock");
    std::filesystem::create_symlink(victim, dir / "vault.lock");
    check({"lock file",
           "a symlink",
           {"rotate", "p", "--now", "--token-stdin"},
           "pit-ffffffff-1111-4222-8333-444455556666",
           {},
           k_io});
    EXPECT_EQ(slurp(victim), "precious");
    std::filesystem::remove(dir / "vault.lock");
    std::filesystem::create_directory(dir / "vault.lock");
    check({"lock file",
           "a directory",
           {"rotate", "p", "--now", "--token-stdin"},
           "pit-ffffffff-1111-4222-8333-444455556666",
           {},
           k_io});
    std::filesystem::remove(dir / "vault.lock");
    // Garbage and truncation are damage (6), not a crash.
    pitool::test::write_file(pt.vault, bytes.substr(0, bytes.size() / 2));
    each("truncated to half", k_damaged);
    pitool::test::write_file(pt.vault, "");
    each("empty file", k_damaged);
    pitool::test::write_file(pt.vault, std::string(4096, '\xff'));
    each("4 KiB of 0xff", k_damaged);
    restore();
    pt.ok({"list"});
}

} // namespace
} // namespace pitool::robust
