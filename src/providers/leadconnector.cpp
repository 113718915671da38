#include "pitool/providers/leadconnector.hpp"

#include "providers/detail.hpp"

#include "pitool/util/sanitize.hpp"

namespace pitool::providers::leadconnector {

using namespace detail;

std::string_view api_version_for(std::string_view path) noexcept
{
    auto starts = [&](std::string_view p) { return path.substr(0, p.size()) == p; };
    if (starts("/calendars") || starts("/conversations")) return "2021-04-15";
    return "2021-07-28";
}

ApiError parse_error(long status, std::string_view body, std::initializer_list<std::string_view> secrets)
{
    ApiError e;
    e.status = status;
    SecureJson j = parse_text(body);
    std::string message;
    if (j.is_object()) {
        auto it = j.find("message");
        if (it != j.end() && it->is_string()) {
            message = string_or_empty(j, "message");
        } else if (it != j.end() && it->is_array()) {
            for (const auto& m : *it) {
                if (!m.is_string()) continue;
                const auto& s = m.get_ref<const SecureString&>();
                message += (message.empty() ? "" : "; ") + std::string(s.begin(), s.end());
            }
        }
        if (message.empty()) message = string_or_empty(j, "error_description");
        if (message.empty()) message = string_or_empty(j, "error");
    }
    e.message = util::sanitize(message.empty() ? "HTTP " + std::to_string(status) : message, k_max_message, secrets);
    std::string error_code = string_or_empty(j, "error");

    // Read the message, not only the status: the API reports a missing scope
    // and a bad token with the same 401.
    if (contains_ci(message, "location is not active"))
        e.failure = Failure::inactive;
    else if (contains_ci(message, "invalid grant") || error_code == "invalid_grant")
        e.failure = Failure::invalid_grant;
    else if (contains_ci(message, "scope"))
        e.failure = Failure::missing_scope;
    else if (contains_ci(message, "access to this location") || contains_ci(message, "access to this company"))
        e.failure = Failure::wrong_account;
    else
        e.failure = classify_status(status);
    if (e.failure == Failure::none) e.failure = Failure::malformed; // an error answer with a 2xx/3xx status
    return e;
}

Result<TokenGrant> parse_token_grant(std::string_view body)
{
    SecureJson j = parse_text(body);
    auto malformed = [] { return make_error(Errc::unavailable, "LeadConnector sent a malformed token answer"); };
    if (!j.is_object()) return malformed();
    TokenGrant g;
    g.access_token = secret_field(j, "access_token");
    g.refresh_token = secret_field(j, "refresh_token");
    if (g.access_token.empty() || g.refresh_token.empty()) return malformed();
    auto exp = j.find("expires_in");
    if (exp == j.end() || !exp->is_number_integer()) return malformed();
    g.expires_in = exp->get<long>();
    if (g.expires_in <= 0 || g.expires_in > 10L * 365 * 86400) return malformed();
    for (const char* key : {"scope", "userType", "locationId", "companyId", "userId"})
        if (!string_or_absent(j, key)) return malformed();
    g.scope = string_or_empty(j, "scope");
    g.user_type = string_or_empty(j, "userType");
    g.location_id = string_or_empty(j, "locationId");
    g.company_id = string_or_empty(j, "companyId");
    g.user_id = string_or_empty(j, "userId");
    // What is stored, and later put in URL paths, must be well formed.
    if (!plausible_token(g.access_token) || !plausible_token(g.refresh_token) || !plausible_text(g.scope) ||
        !plausible_id(g.location_id) || !plausible_id(g.company_id) || !plausible_id(g.user_id) ||
        (!g.user_type.empty() && g.user_type != "Location" && g.user_type != "Company"))
        return malformed();
    return g;
}

namespace {

Result<TokenGrant> token_request(http::Client& client, const AppCredentials& app, SecureString& form, const char* doing,
                                 const Secret& spent)
{
    http::Request req;
    req.method = http::Method::post;
    req.base_url = app.base_url;
    req.path = "/oauth/token";
    req.headers = {{"Accept", "application/json"},
                   {"Content-Type", "application/x-www-form-urlencoded"},
                   {"Version", std::string(api_version_for(req.path))}};
    req.body = to_secret(form);
    req.idempotent = false; // codes and refresh tokens are single-use
    PITOOL_TRY_ASSIGN(const auto resp, client.send(req));
    if (resp.status >= 200 && resp.status < 300) return parse_token_grant(resp.body.view());
    auto e = parse_error(resp.status, resp.body.view(), {spent.view(), app.client_secret->view()});
    return make_error(errc_for(e.failure), std::string("LeadConnector refused ") + doing + ": " + e.message +
                                               " (HTTP " + std::to_string(e.status) + ", " +
                                               std::string(to_string(e.failure)) + ")");
}

} // namespace

Result<TokenGrant> exchange_code(http::Client& client, const AppCredentials& app, const Secret& code,
                                 std::string_view user_type, std::string_view redirect_uri)
{
    SecureString form;
    append_form(form, "client_id", app.client_id);
    append_form(form, "client_secret", app.client_secret->view());
    append_form(form, "grant_type", "authorization_code");
    append_form(form, "code", code.view());
    if (!user_type.empty()) append_form(form, "user_type", user_type);
    if (!redirect_uri.empty()) append_form(form, "redirect_uri", redirect_uri);
    return token_request(client, app, form, "the authorization code", code);
}

Result<TokenGrant> refresh(http::Client& client, const AppCredentials& app, const Secret& refresh_token,
                           std::string_view user_type)
{
    SecureString form;
    append_form(form, "client_id", app.client_id);
    append_form(form, "client_secret", app.client_secret->view());
    append_form(form, "grant_type", "refresh_token");
    append_form(form, "refresh_token", refresh_token.view());
    if (!user_type.empty()) append_form(form, "user_type", user_type);
    return token_request(client, app, form, "the refresh token", refresh_token);
}

} // namespace pitool::providers::leadconnector
