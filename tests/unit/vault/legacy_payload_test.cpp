#include "pitool/vault/legacy_payload.hpp"

#include "pitool/core/lifecycle.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

namespace pitool::core {
namespace {

using vault::legacy::decode_payload;
using vault::legacy::encode_payload;
using vault::legacy::k_payload_schema;

using namespace std::chrono_literals;
using nlohmann::json;

const Timestamp k_legacy_t0 = Timestamp{Seconds{1'767'225'600}};
constexpr std::string_view k_planted = "PLANTED-SECRET-7f3a9c";

std::string text(const SecureString& s)
{
    return std::string(s.begin(), s.end());
}

Payload full_payload()
{
    Payload p;
    Integration a;
    a.name = "acme-prod";
    a.provider = Provider::leadconnector;
    a.kind = Kind::pit;
    a.description = "Acme production \xe2\x80\x94 caf\xc3\xa9";
    a.level = Level::location;
    a.account_id = "loc-123";
    a.scopes = {"contacts.readonly", "contacts.write"};
    a.base_url = "https://services.leadconnectorhq.com";
    a.created_at = k_legacy_t0 - Days{40};
    a.token = make_token(Secret::from("pit-new-aaaa-bbbb"), k_legacy_t0 - 2h);
    RotationWindow w;
    w.old = make_token(Secret::from("pit-old-cccc-dddd"), k_legacy_t0 - Days{40});
    w.started_at = k_legacy_t0 - 2h;
    w.old_expires_at = w.started_at + k_rotation_window;
    a.rotation = std::move(w);
    a.last_check = LastCheck{k_legacy_t0 - 1h, 200, true, "GET /locations/loc-123 200"};
    a.extra = {{"alpha", "1"}, {"beta", "two words"}};
    p.integrations.push_back(std::move(a));

    Integration o;
    o.name = "sess";
    o.provider = Provider::leadconnector;
    o.kind = Kind::oauth;
    o.level = Level::agency;
    o.base_url = "https://example.test";
    o.created_at = k_legacy_t0;
    o.token = make_token(Secret::from("access-token-xyz1"), k_legacy_t0);
    OAuthSession s;
    s.refresh_token = Secret::from("refresh-token-xyz2");
    s.access_expires_at = k_legacy_t0 + 86399s;
    s.user_type = "Company";
    s.user_id = "user-9";
    s.app = "my-app";
    o.oauth = std::move(s);
    o.last_check = LastCheck{k_legacy_t0, 0, false, "connection refused"};
    p.integrations.push_back(std::move(o));

    Integration app;
    app.name = "my-app";
    app.kind = Kind::oauth_app;
    app.client_id = "client-abc";
    app.base_url = "https://services.leadconnectorhq.com";
    app.created_at = k_legacy_t0;
    app.token = make_token(Secret::from("client-secret-123"), k_legacy_t0);
    p.integrations.push_back(std::move(app));

    Integration h;
    h.name = "hint-clinic";
    h.provider = Provider::hint;
    h.kind = Kind::practice_key;
    h.base_url = "https://api.hint.com";
    h.created_at = k_legacy_t0;
    h.token = make_token(Secret::from("hint-practice-key-1"), k_legacy_t0);
    p.integrations.push_back(std::move(h));

    Event e;
    e.at = k_legacy_t0 - Days{40};
    e.action = "create";
    e.name = "acme-prod";
    e.fingerprint = "dddd:01234567";
    e.actor = "alice@host";
    e.detail = "";
    p.record(e);
    e.at = k_legacy_t0 - 2h;
    e.action = "rotate";
    e.detail = "expire later";
    p.record(e);
    return p;
}

void expect_same_token(const Token& a, const Token& b)
{
    EXPECT_TRUE(a.value.equals(b.value));
    EXPECT_EQ(a.issued_at, b.issued_at);
    EXPECT_EQ(a.fingerprint, b.fingerprint);
}

void expect_same(const Integration& a, const Integration& b)
{
    SCOPED_TRACE(a.name);
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.provider, b.provider);
    EXPECT_EQ(a.kind, b.kind);
    EXPECT_EQ(a.description, b.description);
    EXPECT_EQ(a.level, b.level);
    EXPECT_EQ(a.account_id, b.account_id);
    EXPECT_EQ(a.scopes, b.scopes);
    EXPECT_EQ(a.base_url, b.base_url);
    EXPECT_EQ(a.client_id, b.client_id);
    EXPECT_EQ(a.created_at, b.created_at);
    expect_same_token(a.token, b.token);
    ASSERT_EQ(a.rotation.has_value(), b.rotation.has_value());
    if (a.rotation) {
        expect_same_token(a.rotation->old, b.rotation->old);
        EXPECT_EQ(a.rotation->started_at, b.rotation->started_at);
        EXPECT_EQ(a.rotation->old_expires_at, b.rotation->old_expires_at);
    }
    ASSERT_EQ(a.oauth.has_value(), b.oauth.has_value());
    if (a.oauth) {
        ASSERT_EQ(a.oauth->refresh_token.has_value(), b.oauth->refresh_token.has_value());
        if (a.oauth->refresh_token) {
            EXPECT_TRUE(a.oauth->refresh_token->equals(*b.oauth->refresh_token));
        }
        EXPECT_EQ(a.oauth->access_expires_at, b.oauth->access_expires_at);
        EXPECT_EQ(a.oauth->user_type, b.oauth->user_type);
        EXPECT_EQ(a.oauth->user_id, b.oauth->user_id);
        EXPECT_EQ(a.oauth->app, b.oauth->app);
    }
    ASSERT_EQ(a.last_check.has_value(), b.last_check.has_value());
    if (a.last_check) {
        EXPECT_EQ(a.last_check->at, b.last_check->at);
        EXPECT_EQ(a.last_check->status, b.last_check->status);
        EXPECT_EQ(a.last_check->ok, b.last_check->ok);
        EXPECT_EQ(a.last_check->summary, b.last_check->summary);
    }
    EXPECT_EQ(a.extra, b.extra);
}

void expect_same_event(const Event& a, const Event& b)
{
    EXPECT_EQ(a.at, b.at);
    EXPECT_EQ(a.action, b.action);
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.fingerprint, b.fingerprint);
    EXPECT_EQ(a.actor, b.actor);
    EXPECT_EQ(a.detail, b.detail);
    EXPECT_EQ(a.hash, b.hash);
}

TEST(Codec, RoundTripsEveryField)
{
    Payload p = full_payload();
    auto encoded = encode_payload(p);
    auto back = decode_payload(std::string_view(encoded.data(), encoded.size()));
    ASSERT_TRUE(back) << back.error().message;
    ASSERT_EQ(back->integrations.size(), p.integrations.size());
    for (std::size_t i = 0; i < p.integrations.size(); ++i) expect_same(p.integrations[i], back->integrations[i]);
    ASSERT_EQ(back->history.size(), p.history.size());
    for (std::size_t i = 0; i < p.history.size(); ++i) expect_same_event(p.history[i], back->history[i]);
    EXPECT_EQ(back->first_broken_event(), -1);
    // And the re-encoding is byte-identical (stable serialisation).
    EXPECT_EQ(text(encode_payload(back.value())), text(encoded));
}

TEST(Codec, EmptyPayloadRoundTrips)
{
    auto encoded = encode_payload(Payload{});
    auto j = json::parse(text(encoded));
    EXPECT_EQ(j.at("schema"), k_payload_schema);
    EXPECT_TRUE(j.at("integrations").empty());
    auto back = decode_payload(text(encoded));
    ASSERT_TRUE(back);
    EXPECT_TRUE(back->integrations.empty());
    EXPECT_TRUE(back->history.empty());
}

TEST(Codec, ExtrasComeBackInKeyOrder)
{
    // Documented behaviour: extras are a JSON object, so they come back sorted
    // by key and a repeated key keeps its last value.
    Payload p;
    Integration in;
    in.name = "x";
    in.base_url = "u";
    in.token = make_token(Secret::from("pit-12345678"), k_legacy_t0);
    in.extra = {{"zeta", "1"}, {"alpha", "2"}};
    p.integrations.push_back(std::move(in));
    auto back = decode_payload(text(encode_payload(p)));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->integrations[0].extra,
              (std::vector<std::pair<std::string, std::string>>{{"alpha", "2"}, {"zeta", "1"}}));
}

TEST(Codec, FingerprintIsRecomputedFromTheSecret)
{
    Payload p = full_payload();
    auto j = json::parse(text(encode_payload(p)));
    j["integrations"][0]["token"]["fingerprint"] = "fake:00000000"; // ignored field
    auto back = decode_payload(j.dump());
    ASSERT_TRUE(back);
    EXPECT_EQ(back->integrations[0].token.fingerprint, fingerprint(Secret::from("pit-new-aaaa-bbbb")));
}

TEST(Codec, OptionalFieldsMayBeAbsentOrNull)
{
    json j = {{"schema", 1},
              {"integrations", json::array({{{"name", "min"},
                                             {"provider", "hint"},
                                             {"kind", "partner-key"},
                                             {"base_url", "https://api.hint.com"},
                                             {"created_at", 5},
                                             {"token", {{"secret", "partner-key-123"}, {"issued_at", 6}}},
                                             {"description", nullptr},
                                             {"rotation", nullptr},
                                             {"oauth", nullptr},
                                             {"last_check", nullptr}}})},
              {"history", json::array({{{"at", 1}, {"action", "init"}, {"hash", "h"}}})}};
    auto r = decode_payload(j.dump());
    ASSERT_TRUE(r) << r.error().message;
    const auto& in = r->integrations.at(0);
    EXPECT_EQ(in.provider, Provider::hint);
    EXPECT_EQ(in.kind, Kind::partner_key);
    EXPECT_EQ(in.level, Level::none);
    EXPECT_TRUE(in.description.empty());
    EXPECT_TRUE(in.scopes.empty());
    EXPECT_FALSE(in.rotation || in.oauth || in.last_check);
    EXPECT_EQ(in.token.issued_at, Timestamp{Seconds{6}});
    EXPECT_EQ(r->history.at(0).action, "init");
    EXPECT_TRUE(r->history.at(0).name.empty());
}

// Every decode failure is Errc::damaged and never quotes the input.
void expect_legacy_damaged(std::string_view doc, const std::string& why)
{
    auto r = decode_payload(doc);
    ASSERT_FALSE(r) << why;
    EXPECT_EQ(r.error().code, Errc::damaged) << why;
    EXPECT_EQ(r.error().message.find(k_planted), std::string::npos) << why << ": " << r.error().message;
    EXPECT_EQ(r.error().message.find("PLANTED"), std::string::npos) << why << ": " << r.error().message;
    EXPECT_FALSE(r.error().message.empty());
}

json planted_doc()
{
    Payload p = full_payload();
    p.integrations[0].token = make_token(Secret::from(k_planted), k_legacy_t0);
    return json::parse(text(encode_payload(p)));
}

TEST(Codec, MalformedJsonAroundASecretIsDamagedWithoutQuoting)
{
    const std::string good = planted_doc().dump();
    auto pos = good.find(k_planted);
    ASSERT_NE(pos, std::string::npos);
    // Break the JSON in many places, including right next to the secret.
    for (std::size_t cut : {pos - 2, pos - 1, pos, pos + 5, pos + k_planted.size(), pos + k_planted.size() + 1,
                            good.size() - 1, good.size() / 2}) {
        expect_legacy_damaged(good.substr(0, cut), "truncated at " + std::to_string(cut));
        std::string broken = good;
        broken.insert(cut, "\x01");
        expect_legacy_damaged(broken, "control char at " + std::to_string(cut));
    }
    std::string unquoted = good;
    unquoted.erase(pos + k_planted.size(), 1); // drop the closing quote
    expect_legacy_damaged(unquoted, "unterminated string");
    std::string bad_escape = good;
    bad_escape.insert(pos + 3, "\\q");
    expect_legacy_damaged(bad_escape, "invalid escape inside the secret");
    std::string bad_utf8 = good;
    bad_utf8.insert(pos + 3, "\xc0\xaf");
    expect_legacy_damaged(bad_utf8, "invalid UTF-8 inside the secret");
    expect_legacy_damaged(std::string(k_planted), "bare secret");
    expect_legacy_damaged("\"" + std::string(k_planted) + "\"", "a JSON string");
    expect_legacy_damaged("[\"" + std::string(k_planted) + "\"]", "a JSON array");
    expect_legacy_damaged("", "empty");
    expect_legacy_damaged("{\"schema\":1,\"integrations\":[],\"history\":[]} trailing", "trailing garbage");
}

TEST(Codec, WrongTypesAndMissingFieldsAreDamaged)
{
    struct Case {
        const char* why;
        void (*mutate)(json&);
    };
    const Case cases[] = {
        {"schema missing", [](json& j) { j.erase("schema"); }},
        {"schema string", [](json& j) { j["schema"] = "1"; }},
        {"integrations missing", [](json& j) { j.erase("integrations"); }},
        {"history missing", [](json& j) { j.erase("history"); }},
        {"integrations object", [](json& j) { j["integrations"] = json::object(); }},
        {"history string", [](json& j) { j["history"] = std::string(k_planted); }},
        {"integration not object", [](json& j) { j["integrations"][0] = std::string(k_planted); }},
        {"name missing", [](json& j) { j["integrations"][0].erase("name"); }},
        {"name number", [](json& j) { j["integrations"][0]["name"] = 5; }},
        {"provider unknown", [](json& j) { j["integrations"][0]["provider"] = std::string(k_planted); }},
        {"kind unknown", [](json& j) { j["integrations"][0]["kind"] = "PIT"; }},
        {"level unknown", [](json& j) { j["integrations"][0]["level"] = "galaxy"; }},
        {"scopes not array", [](json& j) { j["integrations"][0]["scopes"] = "contacts.readonly"; }},
        {"scope not string", [](json& j) { j["integrations"][0]["scopes"][0] = 1; }},
        {"base_url missing", [](json& j) { j["integrations"][0].erase("base_url"); }},
        {"created_at string", [](json& j) { j["integrations"][0]["created_at"] = "2026-01-01T00:00:00Z"; }},
        {"created_at float", [](json& j) { j["integrations"][0]["created_at"] = 1.5; }},
        {"token missing", [](json& j) { j["integrations"][0].erase("token"); }},
        {"token string", [](json& j) { j["integrations"][0]["token"] = std::string(k_planted); }},
        {"token secret missing", [](json& j) { j["integrations"][0]["token"].erase("secret"); }},
        {"token secret number", [](json& j) { j["integrations"][0]["token"]["secret"] = 42; }},
        {"token issued_at missing", [](json& j) { j["integrations"][0]["token"].erase("issued_at"); }},
        {"rotation old missing", [](json& j) { j["integrations"][0]["rotation"].erase("old"); }},
        {"rotation not object", [](json& j) { j["integrations"][0]["rotation"] = std::string(k_planted); }},
        {"rotation expiry missing", [](json& j) { j["integrations"][0]["rotation"].erase("old_expires_at"); }},
        {"oauth refresh number", [](json& j) { j["integrations"][1]["oauth"]["refresh_token"] = 1; }},
        {"oauth expiry string", [](json& j) { j["integrations"][1]["oauth"]["access_expires_at"] = "x"; }},
        {"oauth user_id number", [](json& j) { j["integrations"][1]["oauth"]["user_id"] = 1; }},
        {"last_check ok string", [](json& j) { j["integrations"][0]["last_check"]["ok"] = "true"; }},
        {"last_check ok missing", [](json& j) { j["integrations"][0]["last_check"].erase("ok"); }},
        {"last_check status missing", [](json& j) { j["integrations"][0]["last_check"].erase("status"); }},
        {"extra array", [](json& j) { j["integrations"][0]["extra"] = json::array({std::string(k_planted)}); }},
        {"extra value number", [](json& j) { j["integrations"][0]["extra"]["alpha"] = 1; }},
        {"event not object", [](json& j) { j["history"][0] = 1; }},
        {"event hash missing", [](json& j) { j["history"][0].erase("hash"); }},
        {"event at string", [](json& j) { j["history"][0]["at"] = std::string(k_planted); }},
        {"event action missing", [](json& j) { j["history"][1].erase("action"); }},
        {"description number", [](json& j) { j["integrations"][0]["description"] = 7; }},
    };
    for (const auto& c : cases) {
        json j = planted_doc();
        c.mutate(j);
        expect_legacy_damaged(j.dump(), c.why);
    }
    // Sanity: the unmutated document decodes.
    EXPECT_TRUE(decode_payload(planted_doc().dump()));
}

TEST(Codec, WrongSchemaIsDamaged)
{
    for (int schema : {0, 2, -1, 999}) {
        json j = planted_doc();
        j["schema"] = schema;
        auto r = decode_payload(j.dump());
        ASSERT_FALSE(r) << schema;
        EXPECT_EQ(r.error().code, Errc::damaged);
        EXPECT_NE(r.error().message.find("schema " + std::to_string(schema)), std::string::npos) << r.error().message;
    }
}

TEST(Codec, NonObjectRootsAreDamaged)
{
    for (const char* doc : {"null", "1", "[]", "true", "\"x\""}) expect_legacy_damaged(doc, doc);
}

} // namespace
} // namespace pitool::core
