#pragma once
// Shared helpers for the pitool-sandbox black-box tests: start the real
// binary on a free loopback port and talk to it over HTTP.

#include "support/process.hpp"

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace pitool::sandbox_test {

using nlohmann::json;

constexpr const char* k_version = "2021-07-28";
constexpr long long k_day_s = 86'400;

/// A running pitool-sandbox, killed (SIGTERM) when destroyed.
class SandboxProcess {
public:
    explicit SandboxProcess(std::vector<std::string> extra_args = {}, std::vector<std::string> prefix = {})
    {
        std::vector<std::string> argv = std::move(prefix);
        argv.emplace_back(PITOOL_SANDBOX_BIN);
        argv.emplace_back("--port");
        argv.emplace_back("0");
        for (auto& a : extra_args) argv.push_back(std::move(a));
        m_bg = std::make_unique<pitool::test::Background>(argv);
    }

    [[nodiscard]] const std::string& url() const { return m_bg->first_line(); }
    [[nodiscard]] int port() const { return std::stoi(url().substr(url().rfind(':') + 1)); }
    [[nodiscard]] int pid() const { return m_bg->pid(); }

    [[nodiscard]] std::unique_ptr<httplib::Client> client() const
    {
        auto c = std::make_unique<httplib::Client>(url());
        c->set_connection_timeout(5);
        c->set_read_timeout(10);
        return c;
    }

    /// Calls an admin endpoint and expects `expect_status`; returns the parsed body.
    json admin(const std::string& method, const std::string& path, const json& body = json::object(),
               int expect_status = 0) const
    {
        auto c = client();
        const std::string full = "/_sandbox" + path;
        const std::string payload = body.is_null() ? std::string("{}") : body.dump();
        httplib::Result r = method == "GET"      ? c->Get(full)
                            : method == "DELETE" ? c->Delete(full, payload, "application/json")
                            : method == "PATCH"  ? c->Patch(full, payload, "application/json")
                                                 : c->Post(full, payload, "application/json");
        if (!r) throw std::runtime_error("admin " + method + " " + full + ": no response");
        if (expect_status != 0) {
            EXPECT_EQ(r->status, expect_status) << method << " " << full << " -> " << r->body;
        } else {
            EXPECT_LT(r->status, 300) << method << " " << full << " -> " << r->body;
        }
        return json::parse(r->body);
    }

    /// Creates a PIT; returns the admin response (with "token" and "id").
    json make_pit(const std::string& level, const std::string& owner_id, const std::vector<std::string>& scopes) const
    {
        json body = {{"level", level}, {"name", "test"}, {"scopes", scopes}};
        body[level == "location" ? "location_id" : "company_id"] = owner_id;
        return admin("POST", "/pits", body, 201);
    }

    void advance(long long seconds) const { admin("POST", "/clock/advance", {{"seconds", seconds}}); }

private:
    std::unique_ptr<pitool::test::Background> m_bg;
};

inline httplib::Headers lc_headers(const std::string& token, const std::string& version = k_version)
{
    httplib::Headers h{{"Accept", "application/json"}};
    if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
    if (!version.empty()) h.emplace("Version", version);
    return h;
}

inline json body_of(const httplib::Result& r)
{
    if (!r) throw std::runtime_error("no response");
    return json::parse(r->body);
}

/// GET /locations/{id} with a token; returns the status (-1: no response).
inline int get_location_status(const SandboxProcess& sb, const std::string& token, const std::string& id)
{
    auto r = sb.client()->Get("/locations/" + id, lc_headers(token));
    return r ? r->status : -1;
}

} // namespace pitool::sandbox_test
