// The admin API under /_sandbox: what the providers' web UIs let a human do,
// plus the sandbox's own controls (clock, faults, request log). See
// docs/sandbox.md for the contract.

#include "sandbox/random.hpp"
#include "sandbox/sandbox.hpp"

#include <algorithm>
#include <cctype>

namespace pitool::sandbox {

using nlohmann::json;
using namespace detail;

namespace {

constexpr Millis k_rotation_window_ms = 7LL * 24 * 3600 * 1000;

std::string str(const json& b, const char* key, const std::string& def = {})
{
    if (!b.contains(key) || b[key].is_null()) return def;
    return b[key].get<std::string>();
}

std::int64_t num(const json& b, const char* key, std::int64_t def)
{
    if (!b.contains(key) || b[key].is_null()) return def;
    return b[key].get<std::int64_t>();
}

std::vector<std::string> strings(const json& b, const char* key, const std::vector<std::string>& def = {})
{
    if (!b.contains(key) || b[key].is_null()) return def;
    return b[key].get<std::vector<std::string>>();
}

std::string last4(const std::string& secret)
{
    return secret.size() >= 4 ? secret.substr(secret.size() - 4) : secret;
}

std::string lower(std::string s)
{
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

json company_view(const Company& c)
{
    return {{"id", c.id}, {"name", c.name}, {"email", c.email}};
}

json location_view(const Location& l)
{
    return {{"id", l.id},       {"company_id", l.company_id}, {"name", l.name},        {"timezone", l.timezone},
            {"email", l.email}, {"active", l.active},         {"contacts", l.contacts}};
}

json fault_view(const Fault& f)
{
    return {{"id", f.id},
            {"kind", f.kind},
            {"path_prefix", f.path_prefix},
            {"remaining", f.remaining},
            {"status", f.status},
            {"retry_after", f.retry_after_s},
            {"delay_ms", f.delay_ms},
            {"location", f.location},
            {"after_handling", f.after_handling}};
}

json opt(const std::optional<std::string>& v)
{
    return v ? json(*v) : json(nullptr);
}

} // namespace

json Sandbox::clock_view() const
{
    const Millis t = now();
    return {{"now", iso8601(t)}, {"epoch_ms", t}, {"offset_ms", m_state.clock_offset_ms}};
}

json Sandbox::pit_view(const Pit& pit) const
{
    const Millis t = now();
    const bool window = !pit.previous.token.empty() && t < pit.previous.expires_at;
    json rotation = nullptr;
    if (window)
        rotation = {{"old_token_last4", last4(pit.previous.token)},
                    {"old_token_expires_at", iso8601(pit.previous.expires_at)},
                    {"new_token_last4", last4(pit.current.token)}};
    std::string company_id = pit.company_id;
    if (pit.level == "location") {
        auto it = m_state.locations.find(pit.location_id);
        if (it != m_state.locations.end()) company_id = it->second.company_id;
    }
    json v = {{"id", pit.id},
              {"level", pit.level},
              {"company_id", company_id},
              {"location_id", pit.level == "location" ? json(pit.location_id) : json(nullptr)},
              {"name", pit.name},
              {"description", pit.description},
              {"scopes", pit.scopes},
              {"created_at", iso8601(pit.created_at)},
              {"rotated_at", time_or_null(pit.rotated_at)},
              {"token_last4", last4(pit.current.token)},
              {"rotation", rotation},
              {"presented", pit.presented}};
    return v;
}

Response Sandbox::admin_handle(const Request& req, bool& mutated)
{
    auto seg = split_path(req.path);
    seg.erase(seg.begin()); // "_sandbox"
    const std::string& m = req.method;
    json b = json::object();
    if (!req.body.empty()) {
        b = json::parse(req.body, nullptr, false);
        if (b.is_discarded() || !b.is_object()) return admin_error(400, "body must be a JSON object");
    }
    const std::string head = seg.empty() ? std::string() : seg[0];
    const std::size_t n = seg.size();

    if (head == "health" && n == 1 && m == "GET") return json_response(200, {{"ok", true}});

    if (head == "reset" && n == 1 && m == "POST") {
        const Config keep = m_state.config;
        m_state = State{};
        m_state.config = keep;
        m_faults.clear();
        m_log.clear();
        m_requests_by_path.clear();
        m_rate.clear();
        return json_response(200, {{"ok", true}});
    }

    if (head == "clock") {
        if (n == 1 && m == "GET") return json_response(200, clock_view());
        if (n == 2 && m == "POST" && seg[1] == "advance") {
            Millis delta = num(b, "ms", 0) + num(b, "seconds", 0) * 1000;
            m_state.clock_offset_ms += delta;
            return json_response(200, clock_view());
        }
        if (n == 2 && m == "POST" && seg[1] == "set") {
            Millis target = b.contains("epoch_ms") ? num(b, "epoch_ms", 0) : num(b, "epoch_seconds", 0) * 1000;
            m_state.clock_offset_ms = 0;
            m_state.clock_offset_ms = target - now();
            return json_response(200, clock_view());
        }
        if (n == 2 && m == "POST" && seg[1] == "reset") {
            m_state.clock_offset_ms = 0;
            return json_response(200, clock_view());
        }
    }

    if (head == "config" && n == 1) {
        if (m == "GET") return json_response(200, m_state.config);
        if (m == "POST" || m == "PATCH") {
            Config c = m_state.config;
            c.burst_max = num(b, "burst_max", c.burst_max);
            c.burst_interval_ms = num(b, "burst_interval_ms", c.burst_interval_ms);
            c.daily_max = num(b, "daily_max", c.daily_max);
            c.access_token_ttl_s = num(b, "access_token_ttl_s", c.access_token_ttl_s);
            c.refresh_token_ttl_s = num(b, "refresh_token_ttl_s", c.refresh_token_ttl_s);
            c.code_ttl_s = num(b, "code_ttl_s", c.code_ttl_s);
            if (c.burst_max < 1 || c.burst_interval_ms < 1 || c.daily_max < 1 || c.access_token_ttl_s < 1 ||
                c.refresh_token_ttl_s < 1 || c.code_ttl_s < 1)
                return admin_error(400, "config values must be positive");
            m_state.config = c;
            return json_response(200, m_state.config);
        }
    }

    if (head == "rate-limits" && n == 2 && seg[1] == "reset" && m == "POST") {
        m_rate.clear();
        return json_response(200, {{"ok", true}});
    }

    if (head == "companies") {
        if (n == 1 && m == "POST") {
            const std::string id = str(b, "id");
            if (!id.empty() && m_state.companies.count(id) != 0) return admin_error(409, "company exists");
            Company& c = ensure_company(id);
            c.name = str(b, "name", c.name);
            c.email = str(b, "email", c.email);
            return json_response(201, company_view(c));
        }
        if (n == 1 && m == "GET") {
            json list = json::array();
            for (const auto& [id, c] : m_state.companies) list.push_back(company_view(c));
            return json_response(200, {{"companies", list}});
        }
        if (n == 2 && m == "GET") {
            auto it = m_state.companies.find(seg[1]);
            if (it == m_state.companies.end()) return admin_error(404, "no such company");
            return json_response(200, company_view(it->second));
        }
    }

    if (head == "locations") {
        if (n == 1 && m == "POST") {
            const std::string id = str(b, "id");
            if (!id.empty() && m_state.locations.count(id) != 0) return admin_error(409, "location exists");
            Location& l = ensure_location(id, str(b, "company_id"));
            l.name = str(b, "name", l.name);
            l.timezone = str(b, "timezone", l.timezone);
            l.email = str(b, "email", l.email);
            if (b.contains("active")) l.active = b["active"].get<bool>();
            return json_response(201, location_view(l));
        }
        if (n == 1 && m == "GET") {
            json list = json::array();
            for (const auto& [id, l] : m_state.locations) list.push_back(location_view(l));
            return json_response(200, {{"locations", list}});
        }
        if (n >= 2) {
            auto it = m_state.locations.find(seg[1]);
            if (it == m_state.locations.end()) return admin_error(404, "no such location");
            if (n == 2 && m == "GET") return json_response(200, location_view(it->second));
            if (n == 3 && m == "POST" && (seg[2] == "activate" || seg[2] == "deactivate")) {
                it->second.active = seg[2] == "activate";
                return json_response(200, location_view(it->second));
            }
        }
    }

    if (head == "pits") return admin_pits(req, seg, mutated);
    if (head == "oauth") return admin_oauth(req, seg, mutated);
    if (head == "hint") return admin_hint(req, seg, mutated);
    if (head == "tokens") return admin_tokens(req, seg, mutated);

    if (head == "faults" && n == 1) {
        if (m == "GET") {
            json list = json::array();
            for (const auto& f : m_faults) list.push_back(fault_view(f));
            return json_response(200, {{"faults", list}});
        }
        if (m == "DELETE") {
            const auto cleared = m_faults.size();
            m_faults.clear();
            return json_response(200, {{"cleared", cleared}});
        }
        if (m == "POST") {
            Fault f;
            f.id = next_id("flt-");
            f.kind = str(b, "kind");
            f.path_prefix = str(b, "path_prefix");
            f.remaining = num(b, "count", 1);
            f.retry_after_s = num(b, "retry_after", f.kind == "status" ? 0 : 1);
            f.delay_ms = num(b, "delay_ms", 0);
            f.location = str(b, "location");
            f.body = str(b, "body");
            f.after_handling = b.value("after_handling", false);
            int def_status = 500;
            if (f.kind == "rate_limit")
                def_status = 429;
            else if (f.kind == "malformed")
                def_status = 200;
            else if (f.kind == "redirect")
                def_status = 302;
            f.status = static_cast<int>(num(b, "status", def_status));
            static const char* const k_kinds[] = {"rate_limit", "status", "delay", "malformed", "redirect", "close"};
            if (std::none_of(std::begin(k_kinds), std::end(k_kinds), [&](const char* k) { return f.kind == k; }))
                return admin_error(400, "kind must be one of rate_limit, status, delay, malformed, redirect, close");
            if (f.remaining < 1 && f.remaining != -1)
                return admin_error(400, "count must be at least 1, or -1 for every request");
            if (f.kind == "status" && (f.status < 400 || f.status > 599))
                return admin_error(400, "status must be 400..599");
            if (f.kind == "redirect" && (f.status < 300 || f.status > 399))
                return admin_error(400, "status must be 300..399");
            if (f.kind == "delay" && (f.delay_ms < 0 || f.delay_ms > 120'000))
                return admin_error(400, "delay_ms must be 0..120000");
            if (f.status < 100 || f.status > 599) return admin_error(400, "status must be 100..599");
            if (f.retry_after_s < 0) return admin_error(400, "retry_after must not be negative");
            m_faults.push_back(f);
            return json_response(201, fault_view(f));
        }
    }

    if (head == "requests" && n == 1) {
        if (m == "DELETE") {
            m_log.clear();
            m_requests_by_path.clear();
            return json_response(200, {{"ok", true}});
        }
        if (m == "GET") {
            const std::string prefix = req.query_value("path_prefix"), api = req.query_value("api");
            json list = json::array();
            for (const auto& e : m_log) {
                if (!starts_with(e.path, prefix) || (!api.empty() && api != e.api)) continue;
                list.push_back({{"seq", e.seq},
                                {"at", iso8601(e.at)},
                                {"api", e.api},
                                {"method", e.method},
                                {"path", e.path},
                                {"status", e.status},
                                {"authorization", e.authorization},
                                {"version", opt(e.version)},
                                {"grant_type", opt(e.grant_type)},
                                {"fault", opt(e.fault)}});
            }
            return json_response(200, {{"requests", list}});
        }
    }

    if (head == "counters" && n == 1 && m == "GET") {
        json rts = json::array(), codes = json::array(), hcodes = json::array(), pits = json::array();
        for (const auto& [token, rt] : m_state.refresh_tokens)
            rts.push_back({{"id", rt.id},
                           {"fingerprint", fingerprint(token)},
                           {"state", rt.state},
                           {"presented", rt.presented},
                           {"client_id", rt.grant.client_id},
                           {"user_type", rt.grant.user_type},
                           {"location_id", rt.grant.location_id},
                           {"company_id", rt.grant.company_id},
                           {"issued_at", iso8601(rt.issued_at)},
                           {"expires_at", iso8601(rt.expires_at)}});
        std::sort(rts.begin(), rts.end(), [](const json& a, const json& c) {
            return std::stoll(a["id"].get<std::string>().substr(3)) < std::stoll(c["id"].get<std::string>().substr(3));
        });
        for (const auto& [code, c] : m_state.codes)
            codes.push_back({{"fingerprint", fingerprint(code)},
                             {"presented", c.presented},
                             {"used", c.used},
                             {"client_id", c.grant.client_id}});
        for (const auto& [code, c] : m_state.hint_codes)
            hcodes.push_back({{"fingerprint", fingerprint(code)},
                              {"presented", c.presented},
                              {"used", c.used},
                              {"partner_id", c.partner_id},
                              {"practice_id", c.practice_id}});
        for (const auto& [id, p] : m_state.pits) pits.push_back({{"id", id}, {"presented", p.presented}});
        return json_response(200, {{"requests_by_path", m_requests_by_path},
                                   {"refresh_tokens", rts},
                                   {"oauth_codes", codes},
                                   {"hint_codes", hcodes},
                                   {"pits", pits}});
    }

    mutated = false;
    return admin_error(404, "no admin endpoint " + m + " " + req.path);
}

Response Sandbox::admin_pits(const Request& req, const std::vector<std::string>& seg, bool& mutated)
{
    json b = req.body.empty() ? json::object() : json::parse(req.body);
    const std::string& m = req.method;
    const std::size_t n = seg.size();
    const Millis t = now();

    if (n == 1 && m == "GET") {
        json list = json::array();
        for (const auto& [id, p] : m_state.pits) list.push_back(pit_view(p));
        return json_response(200, {{"pits", list}});
    }
    if (n == 1 && m == "POST") {
        Pit pit;
        pit.level = str(b, "level");
        if (pit.level != "location" && pit.level != "agency")
            return admin_error(400, "level must be \"location\" or \"agency\"");
        if (pit.level == "location") {
            const std::string company_id = str(b, "company_id");
            Location& l = ensure_location(str(b, "location_id"), company_id);
            if (!company_id.empty() && l.company_id != company_id)
                return admin_error(409, "location belongs to another company");
            pit.location_id = l.id;
        } else {
            pit.company_id = ensure_company(str(b, "company_id")).id;
        }
        pit.id = random_hex(24);
        pit.name = str(b, "name", "Sandbox integration");
        pit.description = str(b, "description");
        pit.scopes = strings(b, "scopes");
        pit.created_at = t;
        pit.current.token = "pit-" + random_uuid();
        json v = pit_view(pit);
        v["token"] = pit.current.token;
        m_state.pits.emplace(pit.id, std::move(pit));
        return json_response(201, v);
    }
    if (n < 2) {
        mutated = false;
        return admin_error(404, "no admin endpoint " + m + " " + req.path);
    }
    auto it = m_state.pits.find(seg[1]);
    if (it == m_state.pits.end()) return admin_error(404, "no such integration");
    Pit& pit = it->second;
    const bool window = !pit.previous.token.empty() && t < pit.previous.expires_at;
    if (!window && !pit.previous.token.empty()) pit.previous = {}; // the old token has expired

    if (n == 2 && m == "GET") return json_response(200, pit_view(pit));
    if (n == 2 && m == "PATCH") {
        pit.name = str(b, "name", pit.name);
        pit.description = str(b, "description", pit.description);
        pit.scopes = strings(b, "scopes", pit.scopes);
        return json_response(200, pit_view(pit));
    }
    if (n == 2 && m == "DELETE") {
        const std::string id = pit.id;
        m_state.pits.erase(it);
        return json_response(200, {{"deleted", id}});
    }
    if (n == 3 && m == "POST" && seg[2] == "rotate") {
        const std::string mode = str(b, "mode", "later");
        if (mode != "later" && mode != "now") return admin_error(400, "mode must be \"later\" or \"now\"");
        if (window) return admin_error(409, "a rotation is already in progress: cancel it or expire the old token now");
        const std::string old = pit.current.token;
        pit.current = {"pit-" + random_uuid(), 0};
        pit.previous = mode == "later" ? PitToken{old, t + k_rotation_window_ms} : PitToken{};
        pit.rotated_at = t;
        json v = pit_view(pit);
        v["token"] = pit.current.token;
        v["old_token_expires_at"] = iso8601(mode == "later" ? t + k_rotation_window_ms : t);
        return json_response(200, v);
    }
    if (n == 3 && m == "POST" && (seg[2] == "cancel-rotation" || seg[2] == "expire-now")) {
        if (!window) return admin_error(409, "no rotation in progress");
        if (seg[2] == "cancel-rotation") pit.current = {pit.previous.token, 0};
        pit.previous = {};
        return json_response(200, pit_view(pit));
    }
    mutated = false;
    return admin_error(404, "no admin endpoint " + m + " " + req.path);
}

Response Sandbox::admin_oauth(const Request& req, const std::vector<std::string>& seg, bool& mutated)
{
    json b = req.body.empty() ? json::object() : json::parse(req.body);
    const std::string& m = req.method;
    const std::size_t n = seg.size();
    auto app_view = [](const OAuthApp& a) {
        return json{
            {"client_id", a.client_id}, {"client_secret", a.client_secret}, {"name", a.name}, {"scopes", a.scopes}};
    };
    if (n == 2 && seg[1] == "apps" && m == "GET") {
        json list = json::array();
        for (const auto& [id, a] : m_state.apps) list.push_back(app_view(a));
        return json_response(200, {{"apps", list}});
    }
    if (n == 2 && seg[1] == "apps" && m == "POST") {
        OAuthApp app;
        app.client_id = str(b, "client_id", random_hex(24) + "-" + lower(random_base62(8)));
        app.client_secret = str(b, "client_secret", random_uuid());
        app.name = str(b, "name", "Sandbox app");
        app.scopes = strings(b, "scopes");
        if (app.client_id.empty() || app.client_secret.empty())
            return admin_error(400, "client_id and client_secret must not be empty");
        if (m_state.apps.count(app.client_id) != 0) return admin_error(409, "client_id exists");
        json v = app_view(app);
        m_state.apps.emplace(app.client_id, std::move(app));
        return json_response(201, v);
    }
    if (n == 2 && seg[1] == "codes" && m == "POST") {
        auto app = m_state.apps.find(str(b, "client_id"));
        if (app == m_state.apps.end()) return admin_error(404, "no such client_id");
        AuthCode c;
        const std::string location_id = str(b, "location_id"), company_id = str(b, "company_id");
        c.grant.client_id = app->first;
        c.grant.user_type = str(b, "user_type", location_id.empty() && !company_id.empty() ? "Company" : "Location");
        if (c.grant.user_type == "Location") {
            Location& l = ensure_location(location_id, company_id);
            if (!company_id.empty() && l.company_id != company_id)
                return admin_error(409, "location belongs to another company");
            c.grant.location_id = l.id;
            c.grant.company_id = l.company_id;
        } else if (c.grant.user_type == "Company") {
            c.grant.company_id = ensure_company(company_id).id;
        } else {
            return admin_error(400, "user_type must be \"Location\" or \"Company\"");
        }
        c.grant.user_id = str(b, "user_id", random_base62(20));
        c.grant.scopes = strings(b, "scopes", app->second.scopes);
        c.redirect_uri = str(b, "redirect_uri");
        c.code = random_hex(40);
        c.expires_at = now() + m_state.config.code_ttl_s * 1000;
        json v = {{"code", c.code},
                  {"client_id", c.grant.client_id},
                  {"user_type", c.grant.user_type},
                  {"location_id", c.grant.location_id.empty() ? json(nullptr) : json(c.grant.location_id)},
                  {"company_id", c.grant.company_id},
                  {"user_id", c.grant.user_id},
                  {"scopes", c.grant.scopes},
                  {"expires_at", iso8601(c.expires_at)}};
        m_state.codes.emplace(c.code, std::move(c));
        return json_response(201, v);
    }
    mutated = false;
    return admin_error(404, "no admin endpoint " + m + " " + req.path);
}

Response Sandbox::admin_hint(const Request& req, const std::vector<std::string>& seg, bool& mutated)
{
    json b = req.body.empty() ? json::object() : json::parse(req.body);
    const std::string& m = req.method;
    const std::size_t n = seg.size();
    const std::string what = n >= 2 ? seg[1] : std::string();

    if (what == "partners" && n == 2 && m == "POST") {
        HintPartner p;
        p.id = "ptn-" + random_base62(12);
        p.name = str(b, "name", "Sandbox Partner");
        p.key = str(b, "partner_key", random_base62(40));
        if (hint_partner_by_key(p.key) != nullptr) return admin_error(409, "partner_key exists");
        json v = {{"id", p.id}, {"name", p.name}, {"partner_key", p.key}};
        m_state.partners.emplace(p.id, std::move(p));
        return json_response(201, v);
    }
    if (what == "partners" && n == 2 && m == "GET") {
        json list = json::array();
        for (const auto& [id, p] : m_state.partners)
            list.push_back({{"id", p.id}, {"name", p.name}, {"partner_key_last4", last4(p.key)}});
        return json_response(200, {{"partners", list}});
    }
    if (what == "codes" && n == 2 && m == "POST") {
        HintPartner* partner = nullptr;
        if (auto it = m_state.partners.find(str(b, "partner_id")); it != m_state.partners.end()) partner = &it->second;
        if (partner == nullptr) partner = hint_partner_by_key(str(b, "partner_key"));
        if (partner == nullptr) return admin_error(404, "no such partner (give partner_id or partner_key)");
        std::string practice_id = str(b, "practice_id");
        auto pr = m_state.practices.find(practice_id);
        if (pr == m_state.practices.end()) {
            HintPractice p;
            p.id = practice_id.empty() ? "pra-" + random_base62(12) : practice_id;
            p.name = str(b, "practice_name", "Sandbox Practice " + p.id.substr(4, 4));
            p.email = str(b, "practice_email", "practice-" + lower(p.id.substr(4, 6)) + "@example.test");
            pr = m_state.practices.emplace(p.id, std::move(p)).first;
        }
        HintCode c;
        c.code = random_base62(19);
        c.partner_id = partner->id;
        c.practice_id = pr->first;
        c.expires_at = now() + m_state.config.code_ttl_s * 1000;
        json v = {{"code", c.code},
                  {"partner_id", c.partner_id},
                  {"expires_at", iso8601(c.expires_at)},
                  {"practice", {{"id", pr->second.id}, {"name", pr->second.name}, {"email", pr->second.email}}}};
        m_state.hint_codes.emplace(c.code, std::move(c));
        return json_response(201, v);
    }
    if (what == "practices" && n == 2 && m == "GET") {
        json list = json::array();
        for (const auto& [id, p] : m_state.practices)
            list.push_back({{"id", p.id}, {"name", p.name}, {"email", p.email}});
        return json_response(200, {{"practices", list}});
    }
    if (what == "integrations") {
        if (n == 2 && m == "GET") {
            json list = json::array();
            for (const auto& [id, in] : m_state.integrations) list.push_back(integration_view(in));
            return json_response(200, {{"integrations", list}});
        }
        if (n >= 3) {
            auto it = m_state.integrations.find(seg[2]);
            if (it == m_state.integrations.end()) return admin_error(404, "no such integration");
            HintIntegration& in = it->second;
            if (n == 3 && m == "GET") return json_response(200, integration_view(in));
            if (n == 4 && m == "POST" && seg[3] == "activate") {
                in.status = "connected";
                return json_response(200, integration_view(in));
            }
            if (n == 4 && m == "POST" && seg[3] == "api-keys") {
                in.api_keys.push_back(make_hint_key(str(b, "description", "Sandbox key")));
                const HintApiKey& k = in.api_keys.back();
                return json_response(201, {{"id", k.id}, {"token", k.token}, {"description", k.description}});
            }
            if (n == 5 && m == "DELETE" && seg[3] == "api-keys") {
                for (auto& k : in.api_keys)
                    if (k.id == seg[4]) {
                        k.active = false;
                        k.deactivated_at = now();
                        return json_response(200, integration_view(in));
                    }
                return admin_error(404, "no such api key");
            }
        }
    }
    mutated = false;
    return admin_error(404, "no admin endpoint " + m + " " + req.path);
}

Response Sandbox::admin_tokens(const Request& req, const std::vector<std::string>& seg, bool& mutated)
{
    json b = req.body.empty() ? json::object() : json::parse(req.body);
    const std::string& m = req.method;
    if (seg.size() != 2 || m != "POST" || (seg[1] != "inspect" && seg[1] != "revoke")) {
        mutated = false;
        return admin_error(404, "no admin endpoint " + m + " " + req.path);
    }
    const bool revoke = seg[1] == "revoke";
    const std::string token = str(b, "token");
    if (token.empty()) return admin_error(400, "token must not be empty");
    const Millis t = now();

    for (auto& [id, pit] : m_state.pits) {
        const bool is_current = pit.current.token == token, is_previous = pit.previous.token == token;
        if (!is_current && !is_previous) continue;
        if (revoke) return admin_error(400, "PIT tokens die by rotation, expire-now or DELETE /_sandbox/pits/{id}");
        const PitToken& pt = is_current ? pit.current : pit.previous;
        return json_response(200, {{"kind", "pit"},
                                   {"integration_id", id},
                                   {"role", is_current ? "current" : "previous"},
                                   {"valid", pt.expires_at == 0 || t < pt.expires_at},
                                   {"expires_at", time_or_null(pt.expires_at)},
                                   {"presented", pit.presented}});
    }
    if (auto it = m_state.access_tokens.find(token); it != m_state.access_tokens.end()) {
        AccessToken& at = it->second;
        if (revoke) at.revoked = true;
        return json_response(200, {{"kind", "access_token"},
                                   {"valid", !at.revoked && t < at.expires_at},
                                   {"revoked", at.revoked},
                                   {"user_type", at.grant.user_type},
                                   {"expires_at", iso8601(at.expires_at)},
                                   {"presented", at.presented}});
    }
    if (auto it = m_state.refresh_tokens.find(token); it != m_state.refresh_tokens.end()) {
        RefreshToken& rt = it->second;
        if (revoke) rt.state = "revoked";
        return json_response(200, {{"kind", "refresh_token"},
                                   {"id", rt.id},
                                   {"state", rt.state},
                                   {"valid", rt.state == "active" && t < rt.expires_at},
                                   {"expires_at", iso8601(rt.expires_at)},
                                   {"presented", rt.presented}});
    }
    if (auto it = m_state.codes.find(token); it != m_state.codes.end()) {
        AuthCode& c = it->second;
        if (revoke) c.used = true;
        return json_response(200, {{"kind", "oauth_code"},
                                   {"used", c.used},
                                   {"valid", !c.used && t < c.expires_at},
                                   {"presented", c.presented}});
    }
    if (auto it = m_state.hint_codes.find(token); it != m_state.hint_codes.end()) {
        HintCode& c = it->second;
        if (revoke) c.used = true;
        return json_response(200, {{"kind", "hint_code"},
                                   {"used", c.used},
                                   {"valid", !c.used && t < c.expires_at},
                                   {"presented", c.presented}});
    }
    for (auto& [id, in] : m_state.integrations)
        for (auto& k : in.api_keys) {
            if (k.token != token) continue;
            if (revoke && k.active) {
                k.active = false;
                k.deactivated_at = t;
            }
            return json_response(200, {{"kind", "hint_practice_key"},
                                       {"integration_id", id},
                                       {"key_id", k.id},
                                       {"valid", k.active},
                                       {"last_used_at", time_or_null(k.last_used_at)}});
        }
    if (HintPartner* p = hint_partner_by_key(token)) {
        if (revoke) return admin_error(400, "partner keys cannot be revoked");
        return json_response(200, {{"kind", "hint_partner_key"}, {"partner_id", p->id}, {"valid", true}});
    }
    mutated = false;
    if (revoke) return admin_error(404, "unknown token");
    return json_response(200, {{"kind", "unknown"}, {"valid", false}});
}

} // namespace pitool::sandbox
