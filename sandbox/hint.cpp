// Hint's InstantOn token exchange and the two read-only calls pitool uses,
// as described in providers.md section 4.

#include "sandbox/random.hpp"
#include "sandbox/sandbox.hpp"

namespace pitool::sandbox {

using nlohmann::json;
using namespace detail;

namespace {
constexpr const char* k_unauthorized = "Unauthorized: invalid API key";
} // namespace

HintPartner* Sandbox::hint_partner_by_key(const std::string& key)
{
    if (key.empty()) return nullptr;
    for (auto& [id, partner] : m_state.partners)
        if (partner.key == key) return &partner;
    return nullptr;
}

HintApiKey* Sandbox::hint_practice_key(const std::string& token, HintIntegration** owner)
{
    if (token.empty()) return nullptr;
    for (auto& [id, in] : m_state.integrations)
        for (auto& k : in.api_keys)
            if (k.active && k.token == token) {
                if (owner != nullptr) *owner = &in;
                return &k;
            }
    return nullptr;
}

HintApiKey Sandbox::make_hint_key(const std::string& description)
{
    HintApiKey k;
    k.id = "key-" + random_base62(12);
    k.token = random_base62(40);
    k.description = description;
    k.created_at = now();
    return k;
}

json Sandbox::integration_view(const HintIntegration& in) const
{
    json keys = json::array();
    for (const auto& k : in.api_keys)
        keys.push_back({{"id", k.id},
                        {"description", k.description},
                        {"last4", k.token.size() >= 4 ? k.token.substr(k.token.size() - 4) : k.token},
                        {"active", k.active},
                        {"created_at", time_or_null(k.created_at)},
                        {"last_used_at", time_or_null(k.last_used_at)},
                        {"deactivated_at", time_or_null(k.deactivated_at)}});
    return {{"id", in.id},
            {"partner_id", in.partner_id},
            {"practice_id", in.practice_id},
            {"status", in.status},
            {"api_keys", keys}};
}

Response Sandbox::hint_handle(const Request& req)
{
    const std::string token = bearer_token(req);
    const std::string& m = req.method;

    if (m == "POST" && req.path == "/api/oauth/tokens") {
        HintPartner* partner = hint_partner_by_key(token);
        if (partner == nullptr) return hint_error(401, k_unauthorized);
        json body = json::parse(req.body, nullptr, false);
        if (body.is_discarded() || !body.is_object()) return hint_error(400, "Bad request: body must be a JSON object");
        if (!body.contains("grant_type") || body["grant_type"] != "authorization_code")
            return hint_error(422, "Validation failed: grant_type must be authorization_code");
        if (!body.contains("code") || !body["code"].is_string() || body["code"].get<std::string>().empty())
            return hint_error(422, "Validation failed: code can't be blank");
        bool activate = true;
        if (body.contains("activate")) {
            if (!body["activate"].is_boolean())
                return hint_error(422, "Validation failed: activate must be true or false");
            activate = body["activate"].get<bool>();
        }
        auto it = m_state.hint_codes.find(body["code"].get<std::string>());
        if (it == m_state.hint_codes.end())
            return hint_error(422, "Validation failed: code is invalid or has already been used");
        HintCode& code = it->second;
        ++code.presented;
        if (code.used || now() >= code.expires_at || code.partner_id != partner->id)
            return hint_error(422, "Validation failed: code is invalid or has already been used");
        code.used = true;

        const HintPractice& practice = m_state.practices.at(code.practice_id);
        HintIntegration in;
        in.id = "int-" + random_base62(12);
        in.partner_id = partner->id;
        in.practice_id = practice.id;
        in.status = activate ? "connected" : "pending";
        in.api_keys.push_back(make_hint_key(partner->name + " integration"));
        const HintApiKey& key = in.api_keys.front();
        json out = {{"id", in.id},
                    {"status", in.status},
                    {"token_type", "bearer"},
                    {"access_token", key.token},
                    {"refresh_token", nullptr},
                    {"expires_in", nullptr},
                    {"practice", {{"id", practice.id}, {"name", practice.name}}},
                    {"api_keys", json::array({{{"token", key.token},
                                               {"description", key.description},
                                               {"last_used_at", nullptr},
                                               {"deactivated_at", nullptr}}})}};
        m_state.integrations.emplace(in.id, std::move(in));
        return json_response(200, out);
    }

    if (m == "GET" && req.path == "/api/provider/practice") {
        // Partner keys are refused here on purpose: /api/provider/* is for practice keys only.
        HintIntegration* in = nullptr;
        HintApiKey* key = hint_practice_key(token, &in);
        if (key == nullptr) return hint_error(401, k_unauthorized);
        key->last_used_at = now();
        const HintPractice& p = m_state.practices.at(in->practice_id);
        return json_response(200, {{"id", p.id}, {"name", p.name}, {"email", p.email}});
    }

    if (m == "GET" && req.path == "/api/partner") {
        // Hint's "Show Partner": the cheapest read-only proof of a partner key.
        HintPartner* partner = hint_partner_by_key(token);
        if (partner == nullptr) return hint_error(401, k_unauthorized);
        return json_response(200, {{"id", partner->id}, {"name", partner->name}});
    }

    if (m == "GET" && req.path == "/api/partner/practices") {
        HintPartner* partner = hint_partner_by_key(token);
        if (partner == nullptr) return hint_error(401, k_unauthorized);
        json list = json::array();
        for (const auto& [id, in] : m_state.integrations) {
            if (in.partner_id != partner->id) continue;
            const HintPractice& p = m_state.practices.at(in.practice_id);
            list.push_back({{"id", p.id},
                            {"name", p.name},
                            {"email", p.email},
                            {"integration", {{"id", in.id}, {"status", in.status}}}});
        }
        return json_response(200, list);
    }

    return hint_error(404, "Not found");
}

} // namespace pitool::sandbox
