#include "cli/validate.hpp"

#include "pitool/core/scopes.hpp"
#include "pitool/http/client.hpp"

#include "cli/log.hpp"

#include <algorithm>

namespace pitool::cli {

Result<std::pair<core::Provider, core::Kind>> parse_provider_kind(std::string_view provider, std::string_view kind)
{
    PITOOL_TRY_ASSIGN(auto p, core::parse_provider(provider));
    core::Kind k = p == core::Provider::hint ? core::Kind::partner_key : core::Kind::pit;
    if (!kind.empty()) {
        PITOOL_TRY_ASSIGN(k, core::parse_kind(kind));
    }
    if (!core::kind_allowed(p, k))
        return make_error(Errc::usage, "kind " + std::string(core::to_string(k)) + " does not exist for " +
                                           std::string(core::to_string(p)));
    return std::pair{p, k};
}

Status validate_identifier(std::string_view what, std::string_view id)
{
    bool ok = !id.empty() && id.size() <= 128;
    for (char c : id)
        ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-');
    if (!ok) return make_error(Errc::usage, std::string(what) + " must be 1-128 of A-Z a-z 0-9 . _ -");
    return {};
}

Result<std::pair<core::Level, std::string>> resolve_account(core::Provider provider, core::Kind kind,
                                                            const std::string& location, const std::string& company,
                                                            const std::string& practice)
{
    if (!location.empty() && !company.empty()) return make_error(Errc::usage, "give --location or --company, not both");
    if (provider == core::Provider::hint) {
        if (!location.empty() || !company.empty())
            return make_error(Errc::usage, "--location and --company apply to leadconnector only");
        if (!practice.empty()) {
            if (kind != core::Kind::practice_key)
                return make_error(Errc::usage, "--practice applies to kind practice-key only");
            PITOOL_TRY(validate_identifier("practice id", practice));
        }
        return std::pair{core::Level::none, practice};
    }
    if (!practice.empty()) return make_error(Errc::usage, "--practice applies to hint only");
    if (!location.empty()) {
        PITOOL_TRY(validate_identifier("location id", location));
        return std::pair{core::Level::location, location};
    }
    if (!company.empty()) {
        PITOOL_TRY(validate_identifier("company id", company));
        return std::pair{core::Level::agency, company};
    }
    if (kind == core::Kind::pit)
        return make_error(Errc::usage,
                          "a PIT belongs to a sub-account or an agency: give --location ID or --company ID");
    return std::pair{core::Level::none, std::string()};
}

Result<std::vector<std::string>> normalize_scopes(const Context& ctx, core::Provider provider,
                                                  const std::vector<std::string>& raw, bool strict)
{
    std::vector<std::string> out;
    for (const auto& item : raw) {
        std::string cur;
        auto flush = [&]() -> Status {
            if (cur.empty()) return {};
            PITOOL_TRY(core::validate_text("scope", cur, 128));
            if (provider == core::Provider::leadconnector && !core::is_known_scope(cur)) {
                if (strict) return make_error(Errc::usage, "unknown LeadConnector scope '" + cur + "'");
                warn(ctx, "scope '" + cur + "' is not in pitool's LeadConnector catalogue");
            }
            if (std::find(out.begin(), out.end(), cur) == out.end()) out.push_back(cur);
            cur.clear();
            return {};
        };
        for (char c : item) {
            if (c == ' ' || c == ',' || c == '\t') {
                PITOOL_TRY(flush());
            } else {
                cur.push_back(c);
            }
        }
        PITOOL_TRY(flush());
    }
    return out;
}

Result<std::string> resolve_base_url(core::Provider provider, const std::string& given)
{
    if (given.empty()) return std::string(core::default_base_url(provider));
    PITOOL_TRY(core::validate_text("base URL", given, 512));
    return http::normalize_base_url(given);
}

void warn_token_shape(const Context& ctx, core::Kind kind, const Secret& token)
{
    auto v = token.view();
    bool jwt = v.substr(0, 3) == "eyJ" && std::count(v.begin(), v.end(), '.') == 2;
    if (kind == core::Kind::pit) {
        bool pit =
            v.size() == 40 && v.substr(0, 4) == "pit-" && v[12] == '-' && v[17] == '-' && v[22] == '-' && v[27] == '-';
        if (jwt)
            warn(ctx, "this token looks like an OAuth access token (a JWT), not a Private Integration Token");
        else if (!pit)
            warn(ctx, "this token does not look like a Private Integration Token (pit-<uuid>)");
    }
}

} // namespace pitool::cli
