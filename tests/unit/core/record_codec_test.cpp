#include "pitool/core/record_codec.hpp"

#include "pitool/core/lifecycle.hpp"

#include <gtest/gtest.h>

namespace pitool::core {
namespace {

const Timestamp k_codec_t0 = Timestamp{Seconds{1'767'225'600}};

Integration full()
{
    Integration in;
    in.name = "crm-oauth";
    in.provider = Provider::leadconnector;
    in.kind = Kind::oauth;
    in.description = "Ünïcode description";
    in.level = Level::location;
    in.account_id = "loc-123";
    in.scopes = {"contacts.readonly", "contacts.write"};
    in.base_url = "https://services.leadconnectorhq.com";
    in.client_id = "";
    in.created_at = k_codec_t0;
    in.token = make_token(Secret::from("access-token-0001"), k_codec_t0 + Seconds{5});
    in.rotation = RotationWindow{make_token(Secret::from("access-token-old-0"), k_codec_t0), k_codec_t0 + Seconds{9},
                                 k_codec_t0 + Seconds{9} + k_rotation_window};
    OAuthSession s;
    s.refresh_token = Secret::from("refresh-token-0001");
    s.access_expires_at = k_codec_t0 + Seconds{86399};
    s.user_type = "Location";
    s.user_id = "user-1";
    s.app = "crm-app";
    in.oauth = std::move(s);
    in.last_check = LastCheck{k_codec_t0 + Seconds{60}, 200, true, "GET /locations/loc-123 200"};
    in.extra = {{"a", "1"}, {"b", "2"}};
    return in;
}

TEST(RecordCodec, MetadataAndSecretsRoundTripEveryField)
{
    const Integration in = full();
    auto meta = encode_meta(in);
    auto secrets = encode_secrets(in);
    // Metadata never carries a secret.
    std::string m(meta.begin(), meta.end());
    for (const char* s : {"access-token-0001", "access-token-old-0", "refresh-token-0001"})
        EXPECT_EQ(m.find(s), std::string::npos) << s;

    auto out = decode_meta(meta);
    ASSERT_TRUE(out) << out.error().message;
    Integration& o = out.value();
    EXPECT_TRUE(o.sealed);
    EXPECT_TRUE(o.token.value.empty());
    EXPECT_EQ(o.name, in.name);
    EXPECT_EQ(o.provider, in.provider);
    EXPECT_EQ(o.kind, in.kind);
    EXPECT_EQ(o.description, in.description);
    EXPECT_EQ(o.level, in.level);
    EXPECT_EQ(o.account_id, in.account_id);
    EXPECT_EQ(o.scopes, in.scopes);
    EXPECT_EQ(o.base_url, in.base_url);
    EXPECT_EQ(o.created_at, in.created_at);
    EXPECT_EQ(o.token.issued_at, in.token.issued_at);
    EXPECT_EQ(o.token.fingerprint, in.token.fingerprint);
    ASSERT_TRUE(o.rotation);
    EXPECT_EQ(o.rotation->started_at, in.rotation->started_at);
    EXPECT_EQ(o.rotation->old_expires_at, in.rotation->old_expires_at);
    EXPECT_EQ(o.rotation->old.fingerprint, in.rotation->old.fingerprint);
    ASSERT_TRUE(o.oauth);
    EXPECT_EQ(o.oauth->access_expires_at, in.oauth->access_expires_at);
    EXPECT_EQ(o.oauth->user_type, "Location");
    EXPECT_EQ(o.oauth->app, "crm-app");
    EXPECT_TRUE(o.oauth->refresh_token.has_value()) << "the flag survives before the secrets are read";
    ASSERT_TRUE(o.last_check);
    EXPECT_EQ(o.last_check->summary, in.last_check->summary);
    EXPECT_EQ(o.last_check->status, 200);
    EXPECT_EQ(o.extra, in.extra);

    ASSERT_TRUE(decode_secrets(std::span<const std::uint8_t>(secrets.data(), secrets.size()), o));
    EXPECT_FALSE(o.sealed);
    EXPECT_TRUE(o.token.value.equals(std::string_view("access-token-0001")));
    EXPECT_TRUE(o.rotation->old.value.equals(std::string_view("access-token-old-0")));
    EXPECT_TRUE(o.oauth->refresh_token->equals(std::string_view("refresh-token-0001")));
}

TEST(RecordCodec, DecodingIntoAReusedRecordLeavesNothingOfTheLastOne)
{
    // for_each_record decodes 100,000 records into one object: a plain PIT
    // after a full OAuth record must come out exactly as if decoded fresh,
    // and no secret of the earlier record may survive.
    Integration reused = full();
    ASSERT_TRUE(decode_secrets(encode_secrets(reused), reused)); // secrets present
    Integration pit;
    pit.name = "plain-pit";
    pit.base_url = "https://services.leadconnectorhq.com";
    pit.created_at = k_codec_t0;
    pit.token = make_token(Secret::from("pit-plain-token-01"), k_codec_t0);
    const auto bytes = encode_meta(pit);
    ASSERT_TRUE(decode_meta_into(bytes, reused));
    auto fresh = decode_meta(bytes);
    ASSERT_TRUE(fresh);
    EXPECT_EQ(encode_meta(reused), encode_meta(fresh.value()));
    EXPECT_TRUE(reused.token.value.empty());
    EXPECT_FALSE(reused.rotation.has_value());
    EXPECT_FALSE(reused.oauth.has_value());
    EXPECT_FALSE(reused.last_check.has_value());
    EXPECT_TRUE(reused.scopes.empty());
    EXPECT_TRUE(reused.extra.empty());
    EXPECT_TRUE(reused.sealed);
    // And the other way round: a full record over a plain one.
    const Integration rich = full();
    ASSERT_TRUE(decode_meta_into(encode_meta(rich), reused));
    EXPECT_EQ(encode_meta(reused), encode_meta(rich));
    EXPECT_TRUE(reused.rotation->old.value.empty());
    EXPECT_TRUE(reused.oauth->refresh_token.has_value() && reused.oauth->refresh_token->empty());
}

TEST(RecordCodec, EveryTruncationIsDamagedNeverACrash)
{
    const Integration in = full();
    auto meta = encode_meta(in);
    for (std::size_t n = 0; n < meta.size(); ++n) {
        auto r = decode_meta(std::span<const std::uint8_t>(meta).first(n));
        ASSERT_FALSE(r) << n;
        EXPECT_EQ(r.error().code, Errc::damaged);
    }
    auto secrets = encode_secrets(in);
    for (std::size_t n = 0; n < secrets.size(); ++n) {
        auto o = decode_meta(meta);
        ASSERT_TRUE(o);
        EXPECT_FALSE(decode_secrets(std::span<const std::uint8_t>(secrets.data(), n), o.value())) << n;
    }
}

TEST(RecordCodec, SecretsMustMatchTheMetadata)
{
    Integration in = full();
    auto secrets = encode_secrets(in); // with an old token and a refresh token
    Integration plain = full();
    plain.rotation.reset();
    auto meta = decode_meta(encode_meta(plain));
    ASSERT_TRUE(meta);
    auto st = decode_secrets(std::span<const std::uint8_t>(secrets.data(), secrets.size()), meta.value());
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, Errc::damaged);
    EXPECT_EQ(st.error().message.find("access-token"), std::string::npos) << "never quotes a secret";
}

TEST(RecordCodec, EventsRoundTrip)
{
    std::vector<Event> events(3);
    for (std::size_t i = 0; i < events.size(); ++i) {
        events[i].at = k_codec_t0 + Seconds{static_cast<long>(i)};
        events[i].action = "create";
        events[i].name = "n" + std::to_string(i);
        events[i].actor = "alice@host";
        events[i].hash = std::string(64, static_cast<char>('a' + i));
    }
    auto bytes = encode_events(events);
    auto back = decode_events(bytes);
    ASSERT_TRUE(back) << back.error().message;
    ASSERT_EQ(back->size(), 3u);
    EXPECT_EQ((*back)[2].name, "n2");
    EXPECT_EQ((*back)[1].hash, events[1].hash);
    bytes.push_back(0);
    EXPECT_FALSE(decode_events(bytes)) << "trailing bytes";
}

} // namespace
} // namespace pitool::core
