#include "pitool/core/binding.hpp"

#include <gtest/gtest.h>

namespace pitool::core {
namespace {

Integration record(std::string name, Provider p, Kind k, std::string base)
{
    Integration in;
    in.name = std::move(name);
    in.provider = p;
    in.kind = k;
    in.base_url = std::move(base);
    return in;
}

const std::string k_base = "https://services.leadconnectorhq.com";

Integration oauth_of(const std::string& app, const std::string& base = k_base)
{
    Integration in = record("o", Provider::leadconnector, Kind::oauth, base);
    in.oauth.emplace().app = app;
    return in;
}

TEST(CredentialBinding, AnOAuthRecordNeedsItsAppAtItsOwnBaseUrl)
{
    const Integration app = record("app", Provider::leadconnector, Kind::oauth_app, k_base);
    EXPECT_EQ(credential_source(oauth_of("app")), "app");
    EXPECT_TRUE(check_credential_binding(oauth_of("app"), &app).ok());

    auto refused = [](const Integration& in, const Integration* source, const char* why) {
        auto st = check_credential_binding(in, source);
        ASSERT_FALSE(st.ok()) << why;
        EXPECT_EQ(st.error().code, Errc::usage) << why;
        EXPECT_NE(st.error().message.find("'o'"), std::string::npos) << st.error().message;
    };
    refused(oauth_of("app"), nullptr, "app missing");
    refused(oauth_of("app", "http://127.0.0.1:9"), &app, "another base URL");
    const Integration pit = record("app", Provider::leadconnector, Kind::pit, k_base);
    refused(oauth_of("app"), &pit, "not an oauth-app");
    const Integration partner = record("app", Provider::hint, Kind::partner_key, k_base);
    refused(oauth_of("app"), &partner, "another provider");
    Integration no_session = record("o", Provider::leadconnector, Kind::oauth, k_base);
    refused(no_session, &app, "no oauth session names no app");
}

TEST(CredentialBinding, APracticeKeyMayOutliveItsPartnerButNotMoveAway)
{
    Integration practice = record("pr", Provider::hint, Kind::practice_key, "https://api.hint.com");
    EXPECT_TRUE(check_credential_binding(practice, nullptr).ok()); // names no partner
    practice.extra = {{"partner", "ptn"}};
    EXPECT_EQ(credential_source(practice), "ptn");
    EXPECT_TRUE(check_credential_binding(practice, nullptr).ok()); // partner deleted since
    const Integration partner = record("ptn", Provider::hint, Kind::partner_key, "https://api.hint.com");
    EXPECT_TRUE(check_credential_binding(practice, &partner).ok());
    const Integration elsewhere = record("ptn", Provider::hint, Kind::partner_key, "https://evil.example");
    EXPECT_FALSE(check_credential_binding(practice, &elsewhere).ok());
    const Integration other_kind = record("ptn", Provider::hint, Kind::practice_key, "https://api.hint.com");
    EXPECT_FALSE(check_credential_binding(practice, &other_kind).ok());
    // Records that use only their own secret bind to nothing.
    EXPECT_TRUE(check_credential_binding(record("p", Provider::leadconnector, Kind::pit, k_base), nullptr).ok());
}

} // namespace
} // namespace pitool::core
