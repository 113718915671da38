#include "pitool/providers/hint.hpp"

#include "providers/detail.hpp"

#include "pitool/util/sanitize.hpp"

namespace pitool::providers::hint {

using namespace detail;

ApiError parse_error(long status, std::string_view body, std::initializer_list<std::string_view> secrets)
{
    ApiError e;
    e.status = status;
    SecureJson j = parse_text(body);
    std::string message = string_or_empty(j, "message");
    if (message.empty()) message = string_or_empty(j, "error");
    e.message = util::sanitize(message.empty() ? "HTTP " + std::to_string(status) : message, k_max_message, secrets);
    e.failure = classify_status(status);
    if (status == 422 || status == 400) {
        // A refused code comes back as a validation failure.
        if (contains_ci(message, "code") || contains_ci(message, "grant")) e.failure = Failure::invalid_grant;
    }
    if (e.failure == Failure::none) e.failure = Failure::malformed;
    return e;
}

Result<PracticeGrant> parse_practice_grant(std::string_view body)
{
    SecureJson j = parse_text(body);
    auto malformed = [] { return make_error(Errc::unavailable, "Hint sent a malformed token answer"); };
    if (!j.is_object()) return malformed();
    PracticeGrant g;
    g.api_key = secret_field(j, "access_token");
    if (g.api_key.empty()) return malformed();
    g.integration_id = string_or_empty(j, "id");
    g.status = string_or_empty(j, "status");
    auto p = j.find("practice");
    if (p == j.end() || !p->is_object()) return malformed();
    g.practice_id = string_or_empty(*p, "id");
    g.practice_name = string_or_empty(*p, "name");
    if (!string_or_absent(j, "id") || !string_or_absent(j, "status") || !string_or_absent(*p, "id") ||
        !string_or_absent(*p, "name"))
        return malformed();
    if (g.practice_id.empty() || !plausible_token(g.api_key) || !plausible_id(g.practice_id) ||
        !plausible_id(g.integration_id) || !plausible_text(g.status))
        return malformed();
    // A name is shown and stored, never used: escape what it should not hold.
    g.practice_name = util::sanitize(g.practice_name, 1024, {g.api_key.view()});
    return g;
}

Result<PracticeGrant> exchange_code(http::Client& client, const std::string& base_url, const Secret& partner_key,
                                    const Secret& code, bool activate)
{
    SecureJson body = SecureJson::object();
    body["grant_type"] = "authorization_code";
    body["code"] = SecureString(code.view().begin(), code.view().end());
    body["activate"] = activate;
    SecureString text = body.dump();

    http::Request req;
    req.method = http::Method::post;
    req.base_url = base_url;
    req.path = "/api/oauth/tokens";
    req.headers = {{"Accept", "application/json"}, {"Content-Type", "application/json"}};
    req.bearer = partner_key.clone();
    req.body = to_secret(text);
    req.idempotent = false;
    PITOOL_TRY_ASSIGN(const auto resp, client.send(req));
    if (resp.status >= 200 && resp.status < 300) return parse_practice_grant(resp.body.view());
    auto e = parse_error(resp.status, resp.body.view(), {code.view(), partner_key.view()});
    std::string what = e.failure == Failure::invalid_token ? "the partner key" : "the authorization code";
    return make_error(errc_for(e.failure),
                      "Hint refused " + what + ": " + e.message + " (HTTP " + std::to_string(e.status) + ")");
}

} // namespace pitool::providers::hint
