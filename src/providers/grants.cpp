#include "pitool/providers/grants.hpp"

#include "pitool/core/lifecycle.hpp"

namespace pitool::providers {

core::Integration leadconnector_integration(const NewIntegration& n, const core::Integration& app,
                                            leadconnector::TokenGrant& g)
{
    const auto now = n.now;
    core::Integration in;
    in.name = n.name;
    in.provider = core::Provider::leadconnector;
    in.kind = core::Kind::oauth;
    in.description = n.description;
    bool company = g.user_type == "Company" || (g.location_id.empty() && !g.company_id.empty());
    in.level = company ? core::Level::agency : core::Level::location;
    in.account_id = company ? g.company_id : g.location_id;
    for (std::size_t pos = 0; pos < g.scope.size();) {
        auto end = g.scope.find(' ', pos);
        if (end == std::string::npos) end = g.scope.size();
        if (end > pos) in.scopes.push_back(g.scope.substr(pos, end - pos));
        pos = end + 1;
    }
    in.base_url = app.base_url;
    in.created_at = now;
    in.token = core::make_token(std::move(g.access_token), now);
    core::OAuthSession session;
    session.refresh_token = std::move(g.refresh_token);
    session.access_expires_at = now + Seconds{g.expires_in};
    session.user_type = g.user_type;
    session.user_id = g.user_id;
    session.app = app.name;
    in.oauth = std::move(session);
    if (!g.company_id.empty() && !company) in.extra.emplace_back("company_id", g.company_id);
    return in;
}

core::Integration hint_integration(const NewIntegration& n, const core::Integration& partner, hint::PracticeGrant& g)
{
    const auto now = n.now;
    core::Integration in;
    in.name = n.name;
    in.provider = core::Provider::hint;
    in.kind = core::Kind::practice_key;
    in.description = n.description.empty() ? g.practice_name : n.description;
    in.account_id = g.practice_id;
    in.base_url = partner.base_url;
    in.created_at = now;
    in.token = core::make_token(std::move(g.api_key), now);
    in.extra = {{"practice_name", g.practice_name},
                {"hint_integration_id", g.integration_id},
                {"hint_status", g.status},
                {"partner", partner.name}};
    return in;
}

void apply_refresh(core::Integration& in, leadconnector::TokenGrant&& g, Timestamp now)
{
    in.token = core::make_token(std::move(g.access_token), now);
    in.oauth->refresh_token = std::move(g.refresh_token);
    in.oauth->access_expires_at = now + Seconds{g.expires_in};
    in.last_check.reset();
}

} // namespace pitool::providers
