#include "pitool/vault/legacy_payload.hpp"

#include "pitool/core/lifecycle.hpp"

#include "pitool/core/secure_json.hpp"

namespace pitool::vault::legacy {

using namespace core;

namespace {

struct DecodeError {
    std::string what;
};

SecureString ss(std::string_view v)
{
    return SecureString(v.begin(), v.end());
}
std::string plain(const SecureString& s)
{
    return std::string(s.begin(), s.end());
}

std::int64_t epoch(Timestamp t)
{
    return t.time_since_epoch().count();
}
Timestamp from_epoch(std::int64_t v)
{
    return Timestamp{Seconds{v}};
}

SecureJson token_json(const Token& t)
{
    SecureJson j = SecureJson::object();
    j["secret"] = ss(t.value.view());
    j["issued_at"] = epoch(t.issued_at);
    return j;
}

// Field access that reports the missing/ill-typed field by name only.
const SecureJson& field(const SecureJson& j, const char* key)
{
    if (!j.is_object()) throw DecodeError{std::string("expected an object around '") + key + "'"};
    auto it = j.find(key);
    if (it == j.end()) throw DecodeError{std::string("missing field '") + key + "'"};
    return *it;
}

std::string get_str(const SecureJson& j, const char* key)
{
    const auto& v = field(j, key);
    if (!v.is_string()) throw DecodeError{std::string("field '") + key + "' is not a string"};
    return plain(v.get_ref<const SecureString&>());
}

std::string opt_str(const SecureJson& j, const char* key)
{
    if (!j.is_object() || !j.contains(key) || j.at(key).is_null()) return {};
    return get_str(j, key);
}

std::int64_t get_int(const SecureJson& j, const char* key)
{
    const auto& v = field(j, key);
    if (!v.is_number_integer()) throw DecodeError{std::string("field '") + key + "' is not an integer"};
    return v.get<std::int64_t>();
}

Secret get_secret(const SecureJson& j, const char* key)
{
    const auto& v = field(j, key);
    if (!v.is_string()) throw DecodeError{std::string("field '") + key + "' is not a string"};
    const auto& s = v.get_ref<const SecureString&>();
    return Secret::from(std::string_view(s.data(), s.size()));
}

Token token_from(const SecureJson& j)
{
    Token t;
    t.value = get_secret(j, "secret");
    t.issued_at = from_epoch(get_int(j, "issued_at"));
    t.fingerprint = fingerprint(t.value);
    return t;
}

template <typename E, typename Parse> E enum_from(const SecureJson& j, const char* key, Parse parse)
{
    auto r = parse(get_str(j, key));
    if (!r) throw DecodeError{std::string("field '") + key + "' has an unknown value"};
    return r.value();
}

SecureJson integration_json(const Integration& in)
{
    SecureJson j = SecureJson::object();
    j["name"] = ss(in.name);
    j["provider"] = ss(to_string(in.provider));
    j["kind"] = ss(to_string(in.kind));
    j["description"] = ss(in.description);
    j["level"] = ss(to_string(in.level));
    j["account_id"] = ss(in.account_id);
    SecureJson scopes = SecureJson::array();
    for (const auto& s : in.scopes) scopes.push_back(ss(s));
    j["scopes"] = std::move(scopes);
    j["base_url"] = ss(in.base_url);
    if (!in.client_id.empty()) j["client_id"] = ss(in.client_id);
    j["created_at"] = epoch(in.created_at);
    j["token"] = token_json(in.token);
    if (in.rotation) {
        SecureJson r = SecureJson::object();
        r["old"] = token_json(in.rotation->old);
        r["started_at"] = epoch(in.rotation->started_at);
        r["old_expires_at"] = epoch(in.rotation->old_expires_at);
        j["rotation"] = std::move(r);
    }
    if (in.oauth) {
        SecureJson o = SecureJson::object();
        if (in.oauth->refresh_token) o["refresh_token"] = ss(in.oauth->refresh_token->view());
        if (in.oauth->access_expires_at) o["access_expires_at"] = epoch(*in.oauth->access_expires_at);
        o["user_type"] = ss(in.oauth->user_type);
        o["user_id"] = ss(in.oauth->user_id);
        o["app"] = ss(in.oauth->app);
        j["oauth"] = std::move(o);
    }
    if (in.last_check) {
        SecureJson c = SecureJson::object();
        c["at"] = epoch(in.last_check->at);
        c["status"] = in.last_check->status;
        c["ok"] = in.last_check->ok;
        c["summary"] = ss(in.last_check->summary);
        j["last_check"] = std::move(c);
    }
    if (!in.extra.empty()) {
        SecureJson x = SecureJson::object();
        for (const auto& [k, v] : in.extra) x[ss(k)] = ss(v);
        j["extra"] = std::move(x);
    }
    return j;
}

Integration integration_from(const SecureJson& j)
{
    Integration in;
    in.name = get_str(j, "name");
    in.provider = enum_from<Provider>(j, "provider", parse_provider);
    in.kind = enum_from<Kind>(j, "kind", parse_kind);
    in.description = opt_str(j, "description");
    auto lvl = parse_level(opt_str(j, "level"));
    if (!lvl) throw DecodeError{"field 'level' has an unknown value"};
    in.level = lvl.value();
    in.account_id = opt_str(j, "account_id");
    if (j.contains("scopes")) {
        const auto& sc = field(j, "scopes");
        if (!sc.is_array()) throw DecodeError{"field 'scopes' is not an array"};
        for (const auto& s : sc) {
            if (!s.is_string()) throw DecodeError{"a scope is not a string"};
            in.scopes.push_back(plain(s.get_ref<const SecureString&>()));
        }
    }
    in.base_url = get_str(j, "base_url");
    in.client_id = opt_str(j, "client_id");
    in.created_at = from_epoch(get_int(j, "created_at"));
    in.token = token_from(field(j, "token"));
    if (j.contains("rotation") && !j.at("rotation").is_null()) {
        const auto& r = j.at("rotation");
        RotationWindow w;
        w.old = token_from(field(r, "old"));
        w.started_at = from_epoch(get_int(r, "started_at"));
        w.old_expires_at = from_epoch(get_int(r, "old_expires_at"));
        in.rotation = std::move(w);
    }
    if (j.contains("oauth") && !j.at("oauth").is_null()) {
        const auto& o = j.at("oauth");
        OAuthSession s;
        if (o.contains("refresh_token")) s.refresh_token = get_secret(o, "refresh_token");
        if (o.contains("access_expires_at")) s.access_expires_at = from_epoch(get_int(o, "access_expires_at"));
        s.user_type = opt_str(o, "user_type");
        s.user_id = opt_str(o, "user_id");
        s.app = opt_str(o, "app");
        in.oauth = std::move(s);
    }
    if (j.contains("last_check") && !j.at("last_check").is_null()) {
        const auto& c = j.at("last_check");
        LastCheck lc;
        lc.at = from_epoch(get_int(c, "at"));
        lc.status = static_cast<int>(get_int(c, "status"));
        const auto& okv = field(c, "ok");
        if (!okv.is_boolean()) throw DecodeError{"field 'ok' is not a boolean"};
        lc.ok = okv.get<bool>();
        lc.summary = opt_str(c, "summary");
        in.last_check = std::move(lc);
    }
    if (j.contains("extra")) {
        const auto& x = j.at("extra");
        if (!x.is_object()) throw DecodeError{"field 'extra' is not an object"};
        for (auto it = x.begin(); it != x.end(); ++it) {
            if (!it.value().is_string()) throw DecodeError{"an extra value is not a string"};
            in.extra.emplace_back(plain(it.key()), plain(it.value().get_ref<const SecureString&>()));
        }
    }
    return in;
}

SecureJson event_json(const Event& e)
{
    SecureJson j = SecureJson::object();
    j["at"] = epoch(e.at);
    j["action"] = ss(e.action);
    j["name"] = ss(e.name);
    j["fingerprint"] = ss(e.fingerprint);
    j["actor"] = ss(e.actor);
    j["detail"] = ss(e.detail);
    j["hash"] = ss(e.hash);
    return j;
}

Event event_from(const SecureJson& j)
{
    Event e;
    e.at = from_epoch(get_int(j, "at"));
    e.action = get_str(j, "action");
    e.name = opt_str(j, "name");
    e.fingerprint = opt_str(j, "fingerprint");
    e.actor = opt_str(j, "actor");
    e.detail = opt_str(j, "detail");
    e.hash = get_str(j, "hash");
    return e;
}

} // namespace

SecureString encode_payload(const Payload& payload)
{
    SecureJson root = SecureJson::object();
    root["schema"] = k_payload_schema;
    SecureJson ints = SecureJson::array();
    for (const auto& in : payload.integrations) ints.push_back(integration_json(in));
    root["integrations"] = std::move(ints);
    SecureJson hist = SecureJson::array();
    for (const auto& e : payload.history) hist.push_back(event_json(e));
    root["history"] = std::move(hist);
    return root.dump();
}

Result<Payload> decode_payload(std::string_view text)
{
    SecureJson root = SecureJson::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (root.is_discarded() || !root.is_object()) return make_error(Errc::damaged, "vault payload is not valid JSON");
    try {
        auto schema = get_int(root, "schema");
        if (schema != k_payload_schema)
            return make_error(Errc::damaged,
                              "vault payload schema " + std::to_string(schema) + " is not supported by this pitool");
        Payload p;
        const auto& ints = field(root, "integrations");
        const auto& hist = field(root, "history");
        if (!ints.is_array() || !hist.is_array())
            return make_error(Errc::damaged, "vault payload: integrations/history are not arrays");
        p.integrations.reserve(ints.size());
        for (const auto& j : ints) p.integrations.push_back(integration_from(j));
        p.history.reserve(hist.size());
        for (const auto& j : hist) p.history.push_back(event_from(j));
        return p;
    } catch (const DecodeError& e) {
        return make_error(Errc::damaged, "vault payload: " + e.what);
    } catch (const nlohmann::detail::exception&) {
        // nlohmann's messages may quote the input: never surface them.
        return make_error(Errc::damaged, "vault payload has an unexpected structure");
    }
}

} // namespace pitool::vault::legacy
