#pragma once
// End-to-end test support: a real pitool-sandbox on a free loopback port,
// driven through its admin API, and the real pitool binary driven like a CI
// script would (secrets only on stdin or in the environment, never in argv).
//
// Every pitool run of a test is recorded; TearDown fails the test if any
// planted secret (token, refresh token, client secret, code, partner or
// practice key, passphrase) or any JWT-shaped string shows up in any of
// them, except in runs that exist to print the token (`get`).

#include "support/json_schema.hpp"
#include "support/process.hpp"

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <regex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace pitool::e2e {

using nlohmann::json;
using pitool::test::RunOptions;
using pitool::test::RunResult;
using pitool::test::TempDir;

inline constexpr const char* k_faketime = "/usr/bin/faketime";
inline constexpr const char* k_openssl = "/usr/bin/openssl";
inline constexpr long long k_day_s = 86'400;

/// Random lowercase hex, for passphrases and planted fake secrets.
inline std::string random_hex(std::size_t n)
{
    static std::mt19937_64 rng{std::random_device{}()};
    static constexpr char hex[] = "0123456789abcdef";
    std::string s;
    for (std::size_t i = 0; i < n; ++i) s.push_back(hex[rng() % 16]);
    return s;
}

/// A running pitool-sandbox (SIGTERM on destruction).
class Sandbox {
public:
    struct Options {
        std::vector<std::string> args;
        std::string ca_file;     ///< HTTPS: the CA the admin client trusts
        std::string stderr_file; ///< capture the sandbox's stderr here
    };

    Sandbox() : Sandbox(Options{}) {}
    explicit Sandbox(const Options& o) : m_ca(o.ca_file)
    {
        std::vector<std::string> argv{PITOOL_SANDBOX_BIN, "--port", "0"};
        argv.insert(argv.end(), o.args.begin(), o.args.end());
        pitool::test::Background::Options bo;
        bo.stderr_file = o.stderr_file;
        m_bg = std::make_unique<pitool::test::Background>(argv, bo);
    }

    [[nodiscard]] const std::string& url() const { return m_bg->first_line(); }
    [[nodiscard]] int port() const { return std::stoi(url().substr(url().rfind(':') + 1)); }

    [[nodiscard]] std::unique_ptr<httplib::Client> client() const
    {
        auto c = std::make_unique<httplib::Client>(url());
        c->set_connection_timeout(5);
        c->set_read_timeout(15);
        if (!m_ca.empty()) {
            c->set_ca_cert_path(m_ca);
            c->enable_server_certificate_verification(true);
        }
        return c;
    }

    /// An admin call (`path` below /_sandbox); checks the status, returns the body.
    json admin(const std::string& method, const std::string& path, const json& body = json::object(),
               int expect_status = 0) const
    {
        auto c = client();
        const std::string full = "/_sandbox" + path;
        const std::string payload = body.dump();
        httplib::Result r = method == "GET"      ? c->Get(full)
                            : method == "DELETE" ? c->Delete(full, payload, "application/json")
                            : method == "PATCH"  ? c->Patch(full, payload, "application/json")
                                                 : c->Post(full, payload, "application/json");
        if (!r) throw std::runtime_error("admin " + method + " " + full + ": " + httplib::to_string(r.error()));
        if (expect_status != 0) {
            EXPECT_EQ(r->status, expect_status) << method << " " << full << " -> " << r->body;
        } else {
            EXPECT_LT(r->status, 300) << method << " " << full << " -> " << r->body;
        }
        return json::parse(r->body);
    }

    /// The provider request log (oldest first), optionally by path prefix.
    [[nodiscard]] json requests(const std::string& prefix = "") const
    {
        return admin("GET", "/requests" + (prefix.empty() ? std::string() : "?path_prefix=" + prefix))["requests"];
    }
    /// Requests in the log with this grant type.
    [[nodiscard]] int grants(const std::string& grant_type) const
    {
        int n = 0;
        for (const auto& r : requests("/oauth/token"))
            if (r["grant_type"].is_string() && r["grant_type"] == grant_type) ++n;
        return n;
    }
    void clear_requests() const { admin("DELETE", "/requests"); }
    [[nodiscard]] json counters() const { return admin("GET", "/counters"); }
    void fault(const json& spec) const { admin("POST", "/faults", spec, 201); }
    void advance(long long seconds) const { admin("POST", "/clock/advance", {{"seconds", seconds}}); }
    void config(const json& c) const { admin("PATCH", "/config", c); }

    /// A provider call made by the test itself (not pitool); returns the status.
    int lc_get(const std::string& path, const std::string& token) const
    {
        httplib::Headers h{{"Accept", "application/json"}, {"Version", "2021-07-28"}};
        h.emplace("Authorization", "Bearer " + token);
        auto r = client()->Get(path, h);
        return r ? r->status : -1;
    }

private:
    std::string m_ca;
    std::unique_ptr<pitool::test::Background> m_bg;
};

/// How one pitool run is made.
struct How {
    std::string in;                         ///< stdin
    std::map<std::string, std::string> env; ///< on top of the fixture's
    std::vector<std::string> prefix;        ///< e.g. faketime +7d
    bool reveals_token = false;             ///< `get`: its stdout is the token
    int timeout_seconds = 30;
};

/// A throwaway vault plus a sandbox, with secret bookkeeping.
class E2E : public ::testing::Test {
protected:
    void SetUp() override
    {
        m_passphrase = plant("pp-" + random_hex(32));
        start_sandbox();
        auto r = pit({"init", "--kdf", "interactive"});
        ASSERT_EQ(r.exit_code, 0) << r.err;
    }

    /// Starts (or restarts) the fixture's sandbox; override the options per test.
    void start_sandbox(const Sandbox::Options& o = {}) { m_sb = std::make_unique<Sandbox>(o); }

    void TearDown() override { check_hygiene(); }

    [[nodiscard]] const Sandbox& sb() const { return *m_sb; }
    [[nodiscard]] std::filesystem::path vault() const { return m_dir / "vault"; }
    [[nodiscard]] const TempDir& dir() const { return m_dir; }

    /// Remembers a secret that must never show up in pitool's output.
    std::string plant(const std::string& secret)
    {
        if (!secret.empty()) m_secrets.push_back(secret);
        return secret;
    }

    /// Environment every run gets.
    [[nodiscard]] std::map<std::string, std::string> base_env() const
    {
        return {{"PITOOL_VAULT", vault().string()},
                {"PITOOL_PASSPHRASE", m_passphrase},
                {"PITOOL_LOCK_TIMEOUT", "10"},
                {"PITOOL_HTTP_TIMEOUT", "10"}};
    }

    /// The vault's passphrase (PITOOL_PASSPHRASE of every run).
    [[nodiscard]] const std::string& passphrase() const { return m_passphrase; }
    /// After a passwd: the runs from now on give `p` (planted).
    void set_passphrase(const std::string& p) { m_passphrase = plant(p); }

    /// Runs the real pitool. Its stdout and stderr are recorded for the hygiene check.
    RunResult pit(const std::vector<std::string>& args, const How& how = {})
    {
        std::vector<std::string> argv = how.prefix;
        argv.emplace_back(PITOOL_BIN);
        argv.insert(argv.end(), args.begin(), args.end());
        for (const auto& a : argv)
            for (const auto& s : m_secrets)
                EXPECT_EQ(a.find(s), std::string::npos) << "test bug: a secret in pitool's argv";
        RunOptions o;
        o.stdin_data = how.in;
        o.dir = m_dir.path(); // HOME, XDG_*, TMPDIR, the agent socket: all in the test's directory
        o.env = base_env();
        for (const auto& [k, v] : how.env) o.env[k] = v;
        o.timeout_seconds = how.timeout_seconds;
        auto r = pitool::test::run(argv, o);
        pitool::test::expect_json_output_follows_schema(args, r);
        std::string label;
        for (const auto& a : args) label += a + " ";
        m_outputs.push_back({label + "(stderr)", r.err});
        if (!how.reveals_token) m_outputs.push_back({label + "(stdout)", r.out});
        return r;
    }

    /// Runs pitool and expects exit code `code`; returns the result.
    RunResult pit_expect(int code, const std::vector<std::string>& args, const How& how = {})
    {
        auto r = pit(args, how);
        std::string label;
        for (const auto& a : args) label += a + " ";
        EXPECT_EQ(r.exit_code, code) << "pitool " << label << "\nstdout: " << r.out << "\nstderr: " << r.err;
        return r;
    }

    /// Parses pitool's --json stdout.
    static json parsed(const RunResult& r)
    {
        auto j = json::parse(r.out, nullptr, false);
        EXPECT_FALSE(j.is_discarded()) << "not JSON: " << r.out;
        return j;
    }

    /// `show NAME --json`.
    json show(const std::string& name)
    {
        auto r = pit_expect(0, {"show", name, "--json"});
        return parsed(r);
    }

    /// `get NAME` (the token itself, recorded as a secret from now on).
    std::string get_token(const std::string& name, const std::vector<std::string>& extra = {}, int expect = 0)
    {
        std::vector<std::string> args{"get", name};
        args.insert(args.end(), extra.begin(), extra.end());
        How how;
        how.reveals_token = true;
        auto r = pit_expect(expect, args, how);
        std::string t = r.out;
        while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
        return plant(t);
    }

    // ---- provider-side setup through the admin API, stored in pitool ----

    /// A location PIT created in the sandbox and stored in pitool as `name`;
    /// returns the sandbox PIT view (with "token").
    json store_pit(const std::string& name, const std::string& location, const std::vector<std::string>& scopes,
                   const std::string& stored_location = "")
    {
        auto p =
            sb().admin("POST", "/pits",
                       {{"level", "location"}, {"location_id", location}, {"name", name}, {"scopes", scopes}}, 201);
        plant(p["token"].get<std::string>());
        std::vector<std::string> args{
            "create",        name,         "--provider",
            "leadconnector", "--location", stored_location.empty() ? location : stored_location,
            "--base-url",    sb().url(),   "--token-stdin"};
        for (const auto& s : scopes) {
            args.emplace_back("--scope");
            args.push_back(s);
        }
        How how;
        how.in = p["token"].get<std::string>() + "\n";
        pit_expect(0, args, how);
        return p;
    }

    /// An OAuth app registered in the sandbox and stored in pitool as `name`
    /// (client secret on stdin); returns the client id.
    std::string store_app(const std::string& name, const std::vector<std::string>& scopes)
    {
        auto a = sb().admin("POST", "/oauth/apps", {{"name", name}, {"scopes", scopes}}, 201);
        std::string secret = plant(a["client_secret"].get<std::string>());
        std::string client_id = a["client_id"];
        How how;
        how.in = secret + "\n";
        pit_expect(0,
                   {"create", name, "--provider", "leadconnector", "--kind", "oauth-app", "--client-id", client_id,
                    "--base-url", sb().url(), "--token-stdin"},
                   how);
        return client_id;
    }

    /// Mints a LeadConnector authorization code (planted).
    std::string mint_code(const std::string& client_id, const std::string& location, const json& extra = json::object())
    {
        json body = {{"client_id", client_id}, {"location_id", location}};
        for (const auto& [k, v] : extra.items()) body[k] = v;
        auto c = sb().admin("POST", "/oauth/codes", body, 201);
        return plant(c["code"].get<std::string>());
    }

    /// App + code + exchange-code: an oauth integration `name` for `location`.
    void oauth_token(const std::string& name, const std::string& location,
                     const std::vector<std::string>& scopes = {"locations.readonly", "contacts.write"})
    {
        std::string cid = store_app(name + "-app", scopes);
        std::string code = mint_code(cid, location);
        How how;
        how.in = code + "\n";
        pit_expect(0,
                   {"exchange-code", "--provider", "leadconnector", "--app", name + "-app", "--name", name,
                    "--code-stdin", "--user-type", "Location"},
                   how);
    }

    /// A Hint partner in the sandbox, its key stored in pitool as `name`
    /// (or a bogus key when `key` is given); returns the partner id.
    std::string store_partner(const std::string& name, const std::string& key = "")
    {
        auto p = sb().admin("POST", "/hint/partners", {{"name", name}}, 201);
        plant(p["partner_key"].get<std::string>());
        std::string stored = key.empty() ? p["partner_key"].get<std::string>() : plant(key);
        How how;
        how.in = stored + "\n";
        pit_expect(
            0,
            {"create", name, "--provider", "hint", "--kind", "partner-key", "--base-url", sb().url(), "--token-stdin"},
            how);
        return p["id"];
    }

    std::string mint_hint_code(const std::string& partner_id, const std::string& practice_name = "Joe's Practice")
    {
        auto c = sb().admin("POST", "/hint/codes", {{"partner_id", partner_id}, {"practice_name", practice_name}}, 201);
        return plant(c["code"].get<std::string>());
    }

    /// Fails the current test if a planted secret, its first 16 characters, or
    /// a JWT-shaped string is in any recorded output (or in `extra`).
    void check_hygiene(const std::vector<std::pair<std::string, std::string>>& extra = {})
    {
        static const std::regex jwt(R"(eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)");
        auto all = m_outputs;
        all.insert(all.end(), extra.begin(), extra.end());
        for (const auto& [label, text] : all) {
            for (const auto& s : m_secrets) {
                EXPECT_EQ(text.find(s), std::string::npos)
                    << "a planted secret (..." << s.substr(s.size() > 4 ? s.size() - 4 : 0) << ") leaked in " << label;
                // A prefix long enough to identify the secret must not leak
                // either, on stdout as on stderr. (A JWT's first 16
                // characters are its common header: the regex below covers those.)
                if (s.size() > 16 && !s.starts_with("eyJ")) {
                    EXPECT_EQ(text.find(s.substr(0, 16)), std::string::npos)
                        << "a 16-character prefix of a planted secret (..." << s.substr(s.size() - 4) << ") leaked in "
                        << label;
                }
            }
            EXPECT_FALSE(std::regex_search(text, jwt)) << "a JWT-shaped token leaked in " << label << ":\n" << text;
        }
    }

    /// A loopback port where connections are refused, for the rest of the
    /// test: a socket bound to it (never listening) holds it, so no other
    /// process can start listening there meanwhile.
    int closed_port()
    {
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) throw std::runtime_error("socket");
        m_held_ports.emplace_back(fd);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = 0;
        socklen_t len = sizeof a;
        if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
            throw std::runtime_error("bind a loopback port");
        return ntohs(a.sin_port);
    }

    static double seconds_since(std::chrono::steady_clock::time_point t0)
    {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }

private:
    /// Closes the sockets that hold closed_port()s.
    struct HeldSocket {
        explicit HeldSocket(int f) : fd(f) {}
        ~HeldSocket()
        {
            if (fd >= 0) ::close(fd);
        }
        HeldSocket(HeldSocket&& o) noexcept : fd(o.fd) { o.fd = -1; }
        HeldSocket& operator=(HeldSocket&&) = delete;
        HeldSocket(const HeldSocket&) = delete;
        HeldSocket& operator=(const HeldSocket&) = delete;
        int fd;
    };

    TempDir m_dir;
    std::vector<HeldSocket> m_held_ports;
    std::string m_passphrase;
    std::unique_ptr<Sandbox> m_sb;
    std::vector<std::string> m_secrets;
    std::vector<std::pair<std::string, std::string>> m_outputs;
};

} // namespace pitool::e2e
