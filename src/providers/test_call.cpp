#include "pitool/providers/test_call.hpp"

#include "pitool/providers/hint.hpp"
#include "pitool/providers/leadconnector.hpp"
#include "providers/detail.hpp"

#include "pitool/util/sanitize.hpp"

namespace pitool::providers {

using namespace detail;

Result<CallSpec> default_call(const core::Integration& in)
{
    CallSpec spec;
    switch (in.kind) {
    case core::Kind::oauth_app:
        return make_error(Errc::usage, "'" + in.name +
                                           "' is an OAuth app: its client secret is not a bearer token "
                                           "(test the tokens made by exchange-code instead)");
    case core::Kind::practice_key:
        spec.path = "/api/provider/practice";
        return spec;
    case core::Kind::partner_key:
        spec.path = "/api/partner";
        return spec;
    case core::Kind::pit:
    case core::Kind::oauth:
        if (in.account_id.empty())
            return make_error(Errc::usage, "'" + in.name + "' has no location or company id: give --path");
        spec.path = (in.level == core::Level::agency ? "/companies/" : "/locations/") + in.account_id;
        return spec;
    }
    return make_error(Errc::internal, "unknown kind");
}

namespace {

/// Longest success summary kept: its fixed text plus a provider's name.
constexpr std::size_t k_max_summary = 300;

/// The summary of a 2xx answer, raw: judge_test_call sanitises it.
std::string proved(const core::Integration& in, const CallSpec& spec, const Secret& body)
{
    SecureJson j = parse_body(body);
    auto name_of = [&](const char* wrapper) {
        if (!j.is_object()) return std::string();
        if (wrapper == nullptr) return string_or_empty(j, "name");
        auto it = j.find(wrapper);
        return it != j.end() ? string_or_empty(*it, "name") : std::string();
    };
    auto with_name = [](std::string s, const std::string& name) { return name.empty() ? s : s + " (" + name + ")"; };
    if (spec.path == "/api/provider/practice")
        return with_name("practice key works for practice " + string_or_empty(j, "id"), name_of(nullptr));
    if (spec.path == "/api/partner") return with_name("partner key works", name_of(nullptr));
    if (spec.path.rfind("/locations/", 0) == 0 && spec.method == http::Method::get)
        return with_name("token can read location " + in.account_id, name_of("location"));
    if (spec.path.rfind("/companies/", 0) == 0 && spec.method == http::Method::get)
        return with_name("token can read company " + in.account_id, name_of("company"));
    return std::string("token accepted for ") + std::string(http::method_name(spec.method)) + " " + spec.path;
}

} // namespace

http::Request test_request(const core::Integration& in, const Secret& token, const CallSpec& spec)
{
    http::Request req;
    req.method = spec.method;
    req.base_url = in.base_url;
    req.path = spec.path;
    req.headers.push_back({"Accept", "application/json"});
    if (in.provider == core::Provider::leadconnector)
        req.headers.push_back({"Version", std::string(leadconnector::api_version_for(spec.path))});
    if (spec.json_body) {
        req.headers.push_back({"Content-Type", "application/json"});
        req.body = spec.json_body->clone();
    }
    req.bearer = token.clone();
    req.idempotent = spec.method == http::Method::get;
    return req;
}

CallOutcome judge_test_call(const core::Integration& in, const Secret& token, const CallSpec& spec,
                            const http::Response& resp)
{
    CallOutcome out;
    out.status = resp.status;
    out.latency = resp.elapsed;
    out.attempts = resp.attempts;
    out.rate_limit = rate_limit_of(resp);
    out.ok = resp.status >= 200 && resp.status < 300;
    if (out.ok) {
        // The summary quotes the provider: the token it was sent may be echoed.
        out.summary = util::sanitize(proved(in, spec, resp.body), k_max_summary, {token.view()});
        return out;
    }
    ApiError e = in.provider == core::Provider::hint
                     ? hint::parse_error(resp.status, resp.body.view(), {token.view()})
                     : leadconnector::parse_error(resp.status, resp.body.view(), {token.view()});
    out.failure = e.failure;
    out.summary = std::string(to_string(e.failure)) + ": " + e.message;
    return out;
}

Result<CallOutcome> test_call(http::Client& client, const core::Integration& in, const Secret& token,
                              const CallSpec& spec)
{
    PITOOL_TRY_ASSIGN(const auto resp, client.send(test_request(in, token, spec)));
    return judge_test_call(in, token, spec, resp);
}

} // namespace pitool::providers
