// The LeadConnector (HighLevel) API v2 and its OAuth token endpoint, as
// described in docs/reference providers.md sections 1-3.

#include "sandbox/random.hpp"
#include "sandbox/sandbox.hpp"

#include <algorithm>
#include <cctype>

namespace pitool::sandbox {

using nlohmann::json;
using namespace detail;

namespace {

constexpr const char* k_invalid_token = "Invalid token: access token is invalid";
constexpr const char* k_no_scope = "The token is not authorized for this scope.";
constexpr const char* k_no_location = "The token does not have access to this location.";
constexpr const char* k_no_company = "The token does not have access to this company.";
constexpr const char* k_inactive = "Location is not active";

std::string lower(std::string s)
{
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

bool pit_token_live(const PitToken& t, Millis now)
{
    return !t.token.empty() && (t.expires_at == 0 || now < t.expires_at);
}

} // namespace

Company& Sandbox::ensure_company(const std::string& id)
{
    std::string cid = id.empty() ? random_base62(20) : id;
    auto it = m_state.companies.find(cid);
    if (it != m_state.companies.end()) return it->second;
    Company c{cid, "Sandbox Agency " + cid.substr(0, 6), "agency-" + lower(cid.substr(0, 6)) + "@example.test"};
    return m_state.companies.emplace(cid, std::move(c)).first->second;
}

Location& Sandbox::ensure_location(const std::string& id, const std::string& company_id)
{
    if (!id.empty()) {
        auto it = m_state.locations.find(id);
        if (it != m_state.locations.end()) return it->second;
    }
    std::string lid = id.empty() ? random_base62(20) : id;
    const Company& company = ensure_company(company_id);
    Location l;
    l.id = lid;
    l.company_id = company.id;
    l.name = "Sandbox Location " + lid.substr(0, 6);
    l.timezone = "America/New_York";
    l.email = "location-" + lower(lid.substr(0, 6)) + "@example.test";
    return m_state.locations.emplace(lid, std::move(l)).first->second;
}

std::optional<Principal> Sandbox::lc_authenticate(const Request& req)
{
    const std::string token = bearer_token(req);
    if (token.empty()) return std::nullopt;
    const Millis t = now();
    for (auto& [id, pit] : m_state.pits) {
        const bool match = (pit.current.token == token && pit_token_live(pit.current, t)) ||
                           (pit.previous.token == token && pit_token_live(pit.previous, t));
        if (!match) continue;
        ++pit.presented;
        Principal p;
        p.kind = "pit";
        p.scopes = pit.scopes;
        if (pit.level == "agency") {
            p.company_level = true;
            p.company_id = pit.company_id;
        } else {
            p.location_id = pit.location_id;
            auto loc = m_state.locations.find(pit.location_id);
            if (loc != m_state.locations.end()) p.company_id = loc->second.company_id;
        }
        return p;
    }
    auto it = m_state.access_tokens.find(token);
    if (it == m_state.access_tokens.end()) return std::nullopt;
    AccessToken& at = it->second;
    ++at.presented;
    if (at.revoked || t >= at.expires_at) return std::nullopt;
    Principal p;
    p.kind = "oauth";
    p.company_level = at.grant.user_type == "Company";
    p.location_id = at.grant.location_id;
    p.company_id = at.grant.company_id;
    p.client_id = at.grant.client_id;
    p.user_id = at.grant.user_id;
    p.scopes = at.grant.scopes;
    return p;
}

Response Sandbox::lc_handle(const Request& req)
{
    const auto seg = split_path(req.path);
    const std::string& m = req.method;
    if (req.path == "/oauth/token" && m == "POST") return lc_oauth_token(req);

    enum class Route { none, location, contacts, company, location_token };
    Route route = Route::none;
    if (m == "GET" && seg.size() == 2 && seg[0] == "locations")
        route = Route::location;
    else if (m == "POST" && seg.size() == 1 && seg[0] == "contacts")
        route = Route::contacts;
    else if (m == "GET" && seg.size() == 2 && seg[0] == "companies")
        route = Route::company;
    else if (m == "POST" && req.path == "/oauth/locationToken")
        route = Route::location_token;
    if (route == Route::none) return lc_error(404, "Cannot " + m + " " + req.path);

    const std::string* version = req.header("version");
    if (version == nullptr || version->empty()) return lc_error(400, "version header was not found");
    if (*version != "2021-07-28" && *version != "2021-04-15") return lc_error(400, "version header is invalid");

    auto principal = lc_authenticate(req);
    if (!principal) return lc_error(401, k_invalid_token);
    switch (route) {
    case Route::location:
        return lc_get_location(*principal, seg[1]);
    case Route::contacts:
        return lc_create_contact(req, *principal);
    case Route::company:
        return lc_get_company(*principal, seg[1]);
    case Route::location_token:
        return lc_location_token(req, *principal);
    case Route::none:
        break;
    }
    return lc_error(404, "Cannot " + m + " " + req.path);
}

Response Sandbox::lc_get_location(const Principal& p, const std::string& id)
{
    if (!has_scope(p.scopes, "locations.readonly")) return lc_error(401, k_no_scope);
    if (!p.company_level && p.location_id != id) return lc_error(403, k_no_location);
    auto it = m_state.locations.find(id);
    if (it == m_state.locations.end()) return lc_error(404, "Location not found");
    const Location& l = it->second;
    if (p.company_level && l.company_id != p.company_id) return lc_error(403, k_no_location);
    return json_response(200, {{"location",
                                {{"id", l.id},
                                 {"companyId", l.company_id},
                                 {"name", l.name},
                                 {"timezone", l.timezone},
                                 {"email", l.email},
                                 {"country", "US"}}}});
}

Response Sandbox::lc_create_contact(const Request& req, const Principal& p)
{
    if (!has_scope(p.scopes, "contacts.write")) return lc_error(401, k_no_scope);
    json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) return lc_error(400, "Request body must be a JSON object");
    std::vector<std::string> problems;
    if (!body.contains("locationId") || !body["locationId"].is_string()) {
        problems.emplace_back("locationId must be a string");
        problems.emplace_back("locationId should not be empty");
    } else if (body["locationId"].get<std::string>().empty()) {
        problems.emplace_back("locationId should not be empty");
    }
    static const char* const k_fields[] = {"firstName", "lastName", "name", "email", "phone"};
    for (const char* f : k_fields)
        if (body.contains(f) && !body[f].is_string()) problems.push_back(std::string(f) + " must be a string");
    if (!problems.empty()) return lc_validation(problems);

    const std::string location_id = body["locationId"].get<std::string>();
    if (!p.company_level && p.location_id != location_id) return lc_error(403, k_no_location);
    auto it = m_state.locations.find(location_id);
    if (it == m_state.locations.end()) return lc_error(400, "Location not found");
    if (p.company_level && it->second.company_id != p.company_id) return lc_error(403, k_no_location);
    ++it->second.contacts;

    json contact = {{"id", random_base62(20)}, {"locationId", location_id}, {"dateAdded", iso8601(now())},
                    {"source", "public api"},  {"tags", json::array()},     {"customFields", json::array()}};
    for (const char* f : k_fields)
        if (body.contains(f)) contact[f] = body[f];
    return json_response(201, {{"contact", contact}});
}

Response Sandbox::lc_get_company(const Principal& p, const std::string& id)
{
    if (!has_scope(p.scopes, "companies.readonly")) return lc_error(401, k_no_scope);
    if (!p.company_level || p.company_id != id) return lc_error(403, k_no_company);
    auto it = m_state.companies.find(id);
    if (it == m_state.companies.end()) return lc_error(404, "Company not found");
    return json_response(
        200, {{"company", {{"id", it->second.id}, {"name", it->second.name}, {"email", it->second.email}}}});
}

json Sandbox::lc_issue(const Grant& g, bool with_refresh)
{
    const Millis t = now();
    const std::int64_t ttl = m_state.config.access_token_ttl_s;
    const bool location = g.user_type == "Location";
    const std::string auth_id = location ? g.location_id : g.company_id;
    const json header = {{"alg", "HS256"}, {"typ", "JWT"}};
    json payload = {{"authClass", g.user_type},
                    {"authClassId", auth_id},
                    {"source", "INTEGRATION"},
                    {"sourceId", g.client_id},
                    {"channel", "OAUTH"},
                    {"primaryAuthClassId", auth_id},
                    {"oauthMeta", {{"scopes", g.scopes}, {"client", g.client_id}}},
                    {"iat", t / 1000},
                    {"exp", t / 1000 + ttl},
                    {"jti", random_hex(24)}};
    AccessToken at;
    at.token = make_jwt(header.dump(), payload.dump());
    at.grant = g;
    at.issued_at = t;
    at.expires_at = t + ttl * 1000;

    json out = {{"access_token", at.token},     {"token_type", "Bearer"},     {"expires_in", ttl},
                {"scope", join(g.scopes, " ")}, {"userType", g.user_type},    {"companyId", g.company_id},
                {"userId", g.user_id},          {"isBulkInstallation", false}};
    if (location) out["locationId"] = g.location_id;
    m_state.access_tokens.emplace(at.token, std::move(at));

    if (with_refresh) {
        RefreshToken rt;
        rt.id = next_id("rt-");
        payload["jti"] = random_hex(24);
        payload["exp"] = t / 1000 + m_state.config.refresh_token_ttl_s;
        payload["refresh"] = true;
        rt.token = make_jwt(header.dump(), payload.dump());
        rt.grant = g;
        rt.issued_at = t;
        rt.expires_at = t + m_state.config.refresh_token_ttl_s * 1000;
        out["refresh_token"] = rt.token;
        out["refreshTokenId"] = rt.id;
        m_state.refresh_tokens.emplace(rt.token, std::move(rt));
    }
    return out;
}

Response Sandbox::lc_oauth_token(const Request& req)
{
    const std::string* ct = req.header("content-type");
    if (ct == nullptr || !starts_with(lower(*ct), "application/x-www-form-urlencoded"))
        return oauth_error(400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded");
    auto form = parse_form(req.body);
    auto field = [&](const char* k) {
        auto it = form.find(k);
        return it == form.end() ? std::string() : it->second;
    };
    const std::string client_id = field("client_id"), client_secret = field("client_secret"),
                      grant_type = field("grant_type"), user_type = field("user_type");
    std::vector<std::string> problems;
    for (const char* k : {"client_id", "client_secret", "grant_type"})
        if (field(k).empty()) problems.push_back(std::string(k) + " should not be empty");
    if (!grant_type.empty() && grant_type != "authorization_code" && grant_type != "refresh_token")
        problems.emplace_back("grant_type must be one of the following values: authorization_code, refresh_token");
    if (!user_type.empty() && user_type != "Location" && user_type != "Company")
        problems.emplace_back("user_type must be one of the following values: Company, Location");
    const bool by_code = grant_type == "authorization_code";
    const char* secret_field = by_code ? "code" : "refresh_token";
    if (problems.empty() && field(secret_field).empty())
        problems.push_back(std::string(secret_field) + " should not be empty");
    if (!problems.empty()) return lc_validation(problems);

    auto app = m_state.apps.find(client_id);
    if (app == m_state.apps.end() || app->second.client_secret != client_secret)
        return oauth_error(401, "invalid_client", "Invalid client credentials");

    auto location_inactive = [&](const Grant& g) {
        if (g.user_type != "Location") return false;
        auto it = m_state.locations.find(g.location_id);
        return it != m_state.locations.end() && !it->second.active;
    };
    const Millis t = now();

    if (by_code) {
        const char* invalid = "Invalid grant: authorization code is invalid";
        auto it = m_state.codes.find(field("code"));
        if (it == m_state.codes.end()) return oauth_error(400, "invalid_grant", invalid);
        AuthCode& c = it->second;
        ++c.presented;
        if (c.used || t >= c.expires_at || c.grant.client_id != client_id)
            return oauth_error(400, "invalid_grant", invalid);
        if (!user_type.empty() && user_type != c.grant.user_type)
            return oauth_error(400, "invalid_request", "user_type does not match the authorization code");
        if (!c.redirect_uri.empty() && field("redirect_uri") != c.redirect_uri)
            return oauth_error(400, "invalid_grant", "Invalid grant: redirect_uri does not match");
        if (location_inactive(c.grant)) return lc_error(400, k_inactive);
        c.used = true;
        return json_response(200, lc_issue(c.grant, true));
    }

    const char* invalid = "Invalid grant: refresh token is invalid";
    auto it = m_state.refresh_tokens.find(field("refresh_token"));
    if (it == m_state.refresh_tokens.end()) return oauth_error(400, "invalid_grant", invalid);
    RefreshToken& rt = it->second;
    ++rt.presented;
    if (rt.state != "active" || t >= rt.expires_at || rt.grant.client_id != client_id)
        return oauth_error(400, "invalid_grant", invalid);
    if (!user_type.empty() && user_type != rt.grant.user_type)
        return oauth_error(400, "invalid_request", "user_type does not match the refresh token");
    // Not consumed: the same refresh token works again once the location is reactivated.
    if (location_inactive(rt.grant)) return lc_error(400, k_inactive);
    rt.state = "used";
    const Grant grant = rt.grant; // lc_issue inserts into the map rt lives in
    return json_response(200, lc_issue(grant, true));
}

Response Sandbox::lc_location_token(const Request& req, const Principal& p)
{
    if (!p.company_level || !has_scope(p.scopes, "oauth.write")) return lc_error(401, k_no_scope);
    auto form = parse_form(req.body);
    std::vector<std::string> problems;
    for (const char* k : {"companyId", "locationId"})
        if (form[k].empty()) problems.push_back(std::string(k) + " should not be empty");
    if (!problems.empty()) return lc_validation(problems);
    if (form["companyId"] != p.company_id) return lc_error(403, k_no_company);
    auto it = m_state.locations.find(form["locationId"]);
    if (it == m_state.locations.end() || it->second.company_id != p.company_id) return lc_error(403, k_no_location);
    if (!it->second.active) return lc_error(400, k_inactive);
    Grant g;
    g.client_id = p.client_id;
    g.user_type = "Location";
    g.location_id = it->second.id;
    g.company_id = p.company_id;
    g.user_id = p.user_id;
    g.scopes = p.scopes;
    json out = lc_issue(g, false);
    out.erase("isBulkInstallation");
    return json_response(200, out);
}

} // namespace pitool::sandbox
