#pragma once
// The sandbox's world: what the providers' web UIs and token endpoints have
// created. Plain data; the rules live in Sandbox. Times are milliseconds since
// the Unix epoch on the sandbox clock; 0 means "never" / "not set".

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace pitool::sandbox {

using Millis = std::int64_t;

struct Company {
    std::string id, name, email;
};

struct Location {
    std::string id, company_id, name, timezone, email;
    bool active = true;
    std::int64_t contacts = 0;
};

struct PitToken {
    std::string token;     ///< secret
    Millis expires_at = 0; ///< 0: no expiry
};

/// A Private Integration. During a "rotate later" window `previous` holds the
/// old token (valid until previous.expires_at) and `current` the new one.
struct Pit {
    std::string id, level; ///< level: "location" | "agency"
    std::string location_id, company_id;
    std::string name, description;
    std::vector<std::string> scopes;
    Millis created_at = 0, rotated_at = 0;
    PitToken current, previous;
    std::int64_t presented = 0;
};

struct OAuthApp {
    std::string client_id, client_secret, name;
    std::vector<std::string> scopes;
};

/// Who an OAuth grant is for; shared by codes, access and refresh tokens.
struct Grant {
    std::string client_id, user_type; ///< user_type: "Location" | "Company"
    std::string location_id, company_id, user_id;
    std::vector<std::string> scopes;
};

struct AuthCode {
    std::string code; ///< secret
    Grant grant;
    std::string redirect_uri;
    Millis expires_at = 0;
    bool used = false;
    std::int64_t presented = 0;
};

struct AccessToken {
    std::string token; ///< secret
    Grant grant;
    Millis issued_at = 0, expires_at = 0;
    bool revoked = false;
    std::int64_t presented = 0;
};

struct RefreshToken {
    std::string id;    ///< non-secret handle, "rt-<n>"
    std::string token; ///< secret
    Grant grant;
    Millis issued_at = 0, expires_at = 0;
    std::string state = "active"; ///< "active" | "used" | "revoked"
    std::int64_t presented = 0;
};

struct HintPartner {
    std::string id, name, key; ///< key: secret partner API key
};

struct HintPractice {
    std::string id, name, email;
};

struct HintApiKey {
    std::string id, token, description; ///< token: secret practice API key
    bool active = true;
    Millis created_at = 0, last_used_at = 0, deactivated_at = 0;
};

struct HintIntegration {
    std::string id, partner_id, practice_id, status;
    std::vector<HintApiKey> api_keys;
};

struct HintCode {
    std::string code; ///< secret
    std::string partner_id, practice_id;
    Millis expires_at = 0;
    bool used = false;
    std::int64_t presented = 0;
};

struct Config {
    std::int64_t burst_max = 100;
    std::int64_t burst_interval_ms = 10'000;
    std::int64_t daily_max = 200'000;
    std::int64_t access_token_ttl_s = 86'399;
    std::int64_t refresh_token_ttl_s = 365 * 86'400;
    std::int64_t code_ttl_s = 600;
};

/// Everything persisted by --state-file. Maps are keyed by id, or by the
/// secret itself where the secret is the natural lookup key.
struct State {
    Millis clock_offset_ms = 0;
    Config config;
    std::int64_t next_serial = 1;
    std::map<std::string, Company> companies;
    std::map<std::string, Location> locations;
    std::map<std::string, Pit> pits;
    std::map<std::string, OAuthApp> apps;               ///< by client_id
    std::map<std::string, AuthCode> codes;              ///< by code
    std::map<std::string, AccessToken> access_tokens;   ///< by token
    std::map<std::string, RefreshToken> refresh_tokens; ///< by token
    std::map<std::string, HintPartner> partners;
    std::map<std::string, HintPractice> practices;
    std::map<std::string, HintIntegration> integrations;
    std::map<std::string, HintCode> hint_codes; ///< by code
};

void to_json(nlohmann::json& j, const State& s);
void from_json(const nlohmann::json& j, State& s);
void to_json(nlohmann::json& j, const Config& c);
void from_json(const nlohmann::json& j, Config& c);

} // namespace pitool::sandbox
