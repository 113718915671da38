#include "sandbox/state.hpp"

#include <nlohmann/json.hpp>

namespace pitool::sandbox {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Company, id, name, email)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Location, id, company_id, name, timezone, email, active, contacts)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(PitToken, token, expires_at)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Pit, id, level, location_id, company_id, name, description, scopes,
                                                created_at, rotated_at, current, previous, presented)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(OAuthApp, client_id, client_secret, name, scopes)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Grant, client_id, user_type, location_id, company_id, user_id, scopes)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(AuthCode, code, grant, redirect_uri, expires_at, used, presented)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(AccessToken, token, grant, issued_at, expires_at, revoked, presented)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RefreshToken, id, token, grant, issued_at, expires_at, state, presented)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(HintPartner, id, name, key)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(HintPractice, id, name, email)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(HintApiKey, id, token, description, active, created_at, last_used_at,
                                                deactivated_at)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(HintIntegration, id, partner_id, practice_id, status, api_keys)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(HintCode, code, partner_id, practice_id, expires_at, used, presented)

void to_json(nlohmann::json& j, const Config& c)
{
    j = {{"burst_max", c.burst_max},
         {"burst_interval_ms", c.burst_interval_ms},
         {"daily_max", c.daily_max},
         {"access_token_ttl_s", c.access_token_ttl_s},
         {"refresh_token_ttl_s", c.refresh_token_ttl_s},
         {"code_ttl_s", c.code_ttl_s}};
}

void from_json(const nlohmann::json& j, Config& c)
{
    const Config d;
    c.burst_max = j.value("burst_max", d.burst_max);
    c.burst_interval_ms = j.value("burst_interval_ms", d.burst_interval_ms);
    c.daily_max = j.value("daily_max", d.daily_max);
    c.access_token_ttl_s = j.value("access_token_ttl_s", d.access_token_ttl_s);
    c.refresh_token_ttl_s = j.value("refresh_token_ttl_s", d.refresh_token_ttl_s);
    c.code_ttl_s = j.value("code_ttl_s", d.code_ttl_s);
}

void to_json(nlohmann::json& j, const State& s)
{
    j = {{"format", "pitool-sandbox-state"},
         {"version", 1},
         {"clock_offset_ms", s.clock_offset_ms},
         {"config", s.config},
         {"next_serial", s.next_serial},
         {"companies", s.companies},
         {"locations", s.locations},
         {"pits", s.pits},
         {"apps", s.apps},
         {"codes", s.codes},
         {"access_tokens", s.access_tokens},
         {"refresh_tokens", s.refresh_tokens},
         {"partners", s.partners},
         {"practices", s.practices},
         {"integrations", s.integrations},
         {"hint_codes", s.hint_codes}};
}

void from_json(const nlohmann::json& j, State& s)
{
    if (j.value("format", "") != "pitool-sandbox-state" || j.value("version", 0) != 1)
        throw std::runtime_error("not a pitool-sandbox state file (version 1)");
    State d;
    s.clock_offset_ms = j.value("clock_offset_ms", d.clock_offset_ms);
    s.config = j.value("config", d.config);
    s.next_serial = j.value("next_serial", d.next_serial);
    s.companies = j.value("companies", d.companies);
    s.locations = j.value("locations", d.locations);
    s.pits = j.value("pits", d.pits);
    s.apps = j.value("apps", d.apps);
    s.codes = j.value("codes", d.codes);
    s.access_tokens = j.value("access_tokens", d.access_tokens);
    s.refresh_tokens = j.value("refresh_tokens", d.refresh_tokens);
    s.partners = j.value("partners", d.partners);
    s.practices = j.value("practices", d.practices);
    s.integrations = j.value("integrations", d.integrations);
    s.hint_codes = j.value("hint_codes", d.hint_codes);
}

} // namespace pitool::sandbox
