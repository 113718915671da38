#include "pitool/core/lifecycle.hpp"

#include "pitool/core/clock.hpp"

#include <gtest/gtest.h>

#include <string>

namespace pitool::core {
namespace {

using namespace std::chrono_literals;

const Timestamp k_t0 = Timestamp{Seconds{1'767'225'600}}; // 2026-01-01T00:00:00Z

class Lifecycle : public testing::Test {
protected:
    Integration make(std::string name, std::string_view token, Timestamp issued)
    {
        Integration in;
        in.name = std::move(name);
        in.kind = Kind::pit;
        in.created_at = issued;
        in.token = make_token(Secret::from(token), issued);
        return in;
    }
    Token tok(std::string_view v) { return make_token(Secret::from(v), clock.now()); }

    ManualClock clock{k_t0};
};

TEST(Fingerprint, IsLastFourColonEightHex)
{
    const std::string token = "pit-0a1b2c3d-4e5f-6789-abcd-ef012345e9f0";
    auto fp = fingerprint(Secret::from(token));
    ASSERT_EQ(fp.size(), 13u);
    EXPECT_EQ(fp.substr(0, 5), "e9f0:");
    EXPECT_EQ(fp.substr(5).find_first_not_of("0123456789abcdef"), std::string::npos) << fp;
    EXPECT_EQ(fp.find(token), std::string::npos);
    EXPECT_EQ(fp.find(token.substr(0, 8)), std::string::npos);
    EXPECT_EQ(fp, fingerprint(Secret::from(token))); // deterministic
}

TEST(Fingerprint, DiffersForTokensSharingLastFour)
{
    auto a = fingerprint(Secret::from("pit-aaaa-1234"));
    auto b = fingerprint(Secret::from("pit-bbbb-1234"));
    EXPECT_EQ(a.substr(0, 5), "1234:");
    EXPECT_EQ(b.substr(0, 5), "1234:");
    EXPECT_NE(a, b);
}

TEST(Fingerprint, NeverContainsAShortTokenWhole)
{
    // Even for the shortest valid token (8 characters) only 4 are shown.
    auto fp = fingerprint(Secret::from("abcdWXYZ"));
    EXPECT_EQ(fp.substr(0, 5), "WXYZ:");
    EXPECT_EQ(fp.find("abcdWXYZ"), std::string::npos);
    EXPECT_EQ(fp.find("abcd"), std::string::npos);
}

TEST(MakeToken, SetsFingerprintAndTime)
{
    auto t = make_token(Secret::from("pit-1234-5678"), k_t0);
    EXPECT_TRUE(t.value.equals(std::string_view("pit-1234-5678")));
    EXPECT_EQ(t.issued_at, k_t0);
    EXPECT_EQ(t.fingerprint, fingerprint(Secret::from("pit-1234-5678")));
}

TEST_F(Lifecycle, RotateLaterOpensWindowOfExactlySevenDays)
{
    auto in = make("acme", "pit-old-00000001", k_t0 - Days{30});
    in.last_check = LastCheck{k_t0, 200, true, "ok"};
    clock.advance(5h);
    auto st = rotate_later(in, tok("pit-new-00000002"), clock.now());
    ASSERT_TRUE(st) << st.error().message;
    EXPECT_TRUE(in.token.value.equals(std::string_view("pit-new-00000002")));
    EXPECT_EQ(in.token.issued_at, clock.now());
    ASSERT_TRUE(in.rotation.has_value());
    EXPECT_TRUE(in.rotation->old.value.equals(std::string_view("pit-old-00000001")));
    EXPECT_EQ(in.rotation->old.issued_at, k_t0 - Days{30});
    EXPECT_EQ(in.rotation->started_at, clock.now());
    EXPECT_EQ(in.rotation->old_expires_at, clock.now() + Seconds{7 * 24 * 3600});
    EXPECT_EQ(k_rotation_window, Seconds{604800});
    EXPECT_FALSE(in.last_check.has_value()) << "a check of the old token says nothing of the new one";
}

TEST_F(Lifecycle, WindowBoundaries)
{
    auto in = make("acme", "pit-old-00000001", k_t0);
    ASSERT_TRUE(rotate_later(in, tok("pit-new-00000002"), clock.now()));
    const Timestamp start = clock.now();

    EXPECT_TRUE(window_open(in, start));
    EXPECT_TRUE(window_open(in, start + Days{7} - 1s));
    EXPECT_FALSE(window_open(in, start + Days{7}));
    EXPECT_FALSE(window_open(in, start + Days{7} + 1s));

    // 7d-1s: open, the old token is still there and nothing is purged.
    Payload p;
    p.integrations.push_back(std::move(in));
    clock.set(start + Days{7} - 1s);
    EXPECT_TRUE(purge_expired(p, clock.now(), "alice@host").empty());
    ASSERT_TRUE(p.integrations[0].rotation.has_value());
    EXPECT_TRUE(p.integrations[0].rotation->old.value.equals(std::string_view("pit-old-00000001")));
    EXPECT_TRUE(p.history.empty());
    EXPECT_EQ(assess(p.integrations[0], clock.now(), Policy{}).verdict, Verdict::rotating);
}

TEST_F(Lifecycle, WindowClosedAtExactlySevenDays)
{
    auto in = make("acme", "pit-old-00000001", k_t0);
    ASSERT_TRUE(rotate_later(in, tok("pit-new-00000002"), clock.now()));
    clock.advance(Days{7});
    EXPECT_FALSE(window_open(in, clock.now()));
    // Closed: it no longer blocks a new rotation, cancel and expire-old refuse.
    auto cancel = cancel_rotation(in, clock.now());
    ASSERT_FALSE(cancel);
    EXPECT_EQ(cancel.error().code, Errc::conflict);
    auto expire = expire_old(in, clock.now());
    ASSERT_FALSE(expire);
    EXPECT_EQ(expire.error().code, Errc::conflict);
    EXPECT_NE(assess(in, clock.now(), Policy{}).verdict, Verdict::rotating);
    EXPECT_TRUE(rotate_later(in, tok("pit-new-00000003"), clock.now()));
    EXPECT_TRUE(in.rotation->old.value.equals(std::string_view("pit-new-00000002")));
}

TEST_F(Lifecycle, PurgeExpiredOnlyPurgesEndedWindows)
{
    Payload p;
    p.integrations.push_back(make("a-ended", "pit-a-old-0001", k_t0));
    p.integrations.push_back(make("b-open", "pit-b-old-0001", k_t0));
    p.integrations.push_back(make("c-plain", "pit-c-0000001", k_t0));
    p.integrations.push_back(make("d-exact", "pit-d-old-0001", k_t0));
    ASSERT_TRUE(rotate_later(p.integrations[0], tok("pit-a-new-0002"), k_t0));
    ASSERT_TRUE(rotate_later(p.integrations[1], tok("pit-b-new-0002"), k_t0 + 1h));
    ASSERT_TRUE(rotate_later(p.integrations[3], tok("pit-d-new-0002"), k_t0 + 30min));
    const std::string old_fp_a = p.integrations[0].rotation->old.fingerprint;

    clock.set(k_t0 + Days{7} + 30min); // a ended 30 min ago, d exactly now, b ends in 30 min
    auto purged = purge_expired(p, clock.now(), "alice@host");
    EXPECT_EQ(purged, (std::vector<std::string>{"a-ended", "d-exact"}));
    EXPECT_FALSE(p.integrations[0].rotation.has_value());
    EXPECT_TRUE(p.integrations[1].rotation.has_value());
    EXPECT_FALSE(p.integrations[2].rotation.has_value());
    EXPECT_FALSE(p.integrations[3].rotation.has_value());
    EXPECT_TRUE(p.integrations[0].token.value.equals(std::string_view("pit-a-new-0002")));

    ASSERT_EQ(p.history.size(), 2u);
    const Event& e = p.history[0];
    EXPECT_EQ(e.action, "old-token-expired");
    EXPECT_EQ(e.name, "a-ended");
    EXPECT_EQ(e.fingerprint, old_fp_a);
    EXPECT_EQ(e.actor, "alice@host");
    EXPECT_EQ(e.at, k_t0 + Days{7}) << "recorded at the moment the window ended";
    EXPECT_EQ(p.history[1].name, "d-exact");
    EXPECT_EQ(p.first_broken_event(), -1);

    // Idempotent: nothing more to purge.
    EXPECT_TRUE(purge_expired(p, clock.now(), "alice@host").empty());
    EXPECT_EQ(p.history.size(), 2u);
}

TEST_F(Lifecycle, RotateWhileOpenIsConflict)
{
    auto in = make("acme", "pit-old-00000001", k_t0);
    ASSERT_TRUE(rotate_later(in, tok("pit-new-00000002"), clock.now()));
    clock.advance(Days{7} - 1s);
    for (int now : {0, 1}) {
        auto st = now ? rotate_now(in, tok("pit-new-00000003"), clock.now())
                      : rotate_later(in, tok("pit-new-00000003"), clock.now());
        ASSERT_FALSE(st);
        EXPECT_EQ(st.error().code, Errc::conflict);
        EXPECT_NE(st.error().message.find("acme"), std::string::npos);
    }
    // Nothing changed.
    EXPECT_TRUE(in.token.value.equals(std::string_view("pit-new-00000002")));
    EXPECT_TRUE(in.rotation->old.value.equals(std::string_view("pit-old-00000001")));
    EXPECT_EQ(in.rotation->old_expires_at, k_t0 + Days{7});
}

TEST_F(Lifecycle, RotateToSameTokenIsConflict)
{
    auto in = make("acme", "pit-same-0000001", k_t0);
    for (int now : {0, 1}) {
        auto st = now ? rotate_now(in, tok("pit-same-0000001"), clock.now())
                      : rotate_later(in, tok("pit-same-0000001"), clock.now());
        ASSERT_FALSE(st);
        EXPECT_EQ(st.error().code, Errc::conflict);
        EXPECT_EQ(st.error().message.find("pit-same"), std::string::npos) << "message quotes the token";
    }
    EXPECT_FALSE(in.rotation.has_value());
    EXPECT_EQ(in.token.issued_at, k_t0);
}

TEST_F(Lifecycle, RotateNowDropsOldToken)
{
    auto in = make("acme", "pit-old-00000001", k_t0);
    in.last_check = LastCheck{k_t0, 401, false, "invalid token"};
    clock.advance(Days{1});
    ASSERT_TRUE(rotate_now(in, tok("pit-new-00000002"), clock.now()));
    EXPECT_TRUE(in.token.value.equals(std::string_view("pit-new-00000002")));
    EXPECT_EQ(in.token.issued_at, clock.now());
    EXPECT_FALSE(in.rotation.has_value());
    EXPECT_FALSE(in.last_check.has_value());
}

TEST_F(Lifecycle, RotateNowAlsoDropsAnEndedUnpurgedWindow)
{
    auto in = make("acme", "pit-old-00000001", k_t0);
    ASSERT_TRUE(rotate_later(in, tok("pit-new-00000002"), clock.now()));
    clock.advance(Days{8});
    ASSERT_TRUE(rotate_now(in, tok("pit-new-00000003"), clock.now()));
    EXPECT_FALSE(in.rotation.has_value());
}

TEST_F(Lifecycle, CancelRotationRestoresOldToken)
{
    auto in = make("acme", "pit-old-00000001", k_t0 - Days{10});
    const std::string old_fp = in.token.fingerprint;
    ASSERT_TRUE(rotate_later(in, tok("pit-new-00000002"), clock.now()));
    clock.advance(Days{3});
    ASSERT_TRUE(cancel_rotation(in, clock.now()));
    EXPECT_TRUE(in.token.value.equals(std::string_view("pit-old-00000001")));
    EXPECT_EQ(in.token.fingerprint, old_fp);
    EXPECT_EQ(in.token.issued_at, k_t0 - Days{10}) << "the old token keeps its age";
    EXPECT_FALSE(in.rotation.has_value()) << "no expiry for the restored token";
    // Second cancel: no window any more.
    auto again = cancel_rotation(in, clock.now());
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, Errc::conflict);
}

TEST_F(Lifecycle, CancelWithoutWindowIsConflict)
{
    auto in = make("acme", "pit-old-00000001", k_t0);
    auto st = cancel_rotation(in, clock.now());
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, Errc::conflict);
    EXPECT_TRUE(in.token.value.equals(std::string_view("pit-old-00000001")));
}

TEST_F(Lifecycle, ExpireOldDropsOldKeepsNew)
{
    auto in = make("acme", "pit-old-00000001", k_t0);
    auto none = expire_old(in, clock.now());
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().code, Errc::conflict);

    ASSERT_TRUE(rotate_later(in, tok("pit-new-00000002"), clock.now()));
    clock.advance(1h);
    ASSERT_TRUE(expire_old(in, clock.now()));
    EXPECT_FALSE(in.rotation.has_value());
    EXPECT_TRUE(in.token.value.equals(std::string_view("pit-new-00000002")));
    // Now a new rotation is allowed at once.
    EXPECT_TRUE(rotate_later(in, tok("pit-new-00000003"), clock.now()));
}

TEST(Verdicts, Names)
{
    EXPECT_EQ(to_string(Verdict::ok), "ok");
    EXPECT_EQ(to_string(Verdict::warn), "warn");
    EXPECT_EQ(to_string(Verdict::due), "due");
    EXPECT_EQ(to_string(Verdict::rotating), "rotating");
    EXPECT_EQ(to_string(Verdict::expired), "expired");
}

class Assess : public Lifecycle {
protected:
    Verdict at_age(Seconds age, const Policy& pol = {})
    {
        auto in = make("acme", "pit-0000000001", k_t0);
        auto f = assess(in, k_t0 + age, pol);
        EXPECT_EQ(f.name, "acme");
        return f.verdict;
    }
};

TEST_F(Assess, DefaultPolicyBoundaries)
{
    EXPECT_EQ(at_age(0s), Verdict::ok);
    EXPECT_EQ(at_age(Days{75}), Verdict::ok);
    EXPECT_EQ(at_age(Days{76} - 1s), Verdict::ok);
    EXPECT_EQ(at_age(Days{76}), Verdict::warn); // 90 - 14
    EXPECT_EQ(at_age(Days{89}), Verdict::warn);
    EXPECT_EQ(at_age(Days{90} - 1s), Verdict::warn);
    EXPECT_EQ(at_age(Days{90}), Verdict::due);
    EXPECT_EQ(at_age(Days{400}), Verdict::due);
}

TEST_F(Assess, ReportsAgeAndReason)
{
    auto in = make("acme", "pit-0000000001", k_t0);
    auto f = assess(in, k_t0 + Days{89} + 5h, Policy{});
    EXPECT_EQ(f.age_days, 89);
    EXPECT_EQ(f.verdict, Verdict::warn);
    EXPECT_NE(f.reason.find("89 days"), std::string::npos) << f.reason;
    EXPECT_NE(f.reason.find("due in 1 day"), std::string::npos) << f.reason;
    auto due = assess(in, k_t0 + Days{90}, Policy{});
    EXPECT_NE(due.reason.find("rotate every 90 days"), std::string::npos) << due.reason;
}

TEST_F(Assess, CustomPolicy)
{
    Policy p{30, 5};
    EXPECT_EQ(at_age(Days{24}, p), Verdict::ok);
    EXPECT_EQ(at_age(Days{25}, p), Verdict::warn);
    EXPECT_EQ(at_age(Days{29}, p), Verdict::warn);
    EXPECT_EQ(at_age(Days{30}, p), Verdict::due);
    Policy nowarn{10, 0};
    EXPECT_EQ(at_age(Days{9}, nowarn), Verdict::ok);
    EXPECT_EQ(at_age(Days{10}, nowarn), Verdict::due);
    Policy allwarn{10, 10};
    EXPECT_EQ(at_age(0s, allwarn), Verdict::warn);
}

TEST_F(Assess, FailedLastCheckIsMentioned)
{
    auto in = make("acme", "pit-0000000001", k_t0);
    in.last_check = LastCheck{k_t0, 401, false, "HTTP 401 invalid token"};
    auto f = assess(in, k_t0 + Days{1}, Policy{});
    EXPECT_EQ(f.verdict, Verdict::ok);
    EXPECT_NE(f.reason.find("HTTP 401 invalid token"), std::string::npos) << f.reason;
}

TEST_F(Assess, OpenWindowIsRotatingWhateverTheAge)
{
    auto in = make("acme", "pit-0000000001", k_t0 - Days{200});
    ASSERT_TRUE(rotate_later(in, tok("pit-0000000002"), k_t0));
    in.token.issued_at = k_t0 - Days{100}; // even an old current token
    auto f = assess(in, k_t0 + Days{7} - 1s, Policy{});
    EXPECT_EQ(f.verdict, Verdict::rotating);
    EXPECT_NE(f.reason.find("2026-01-08T00:00:00Z"), std::string::npos) << f.reason;
    EXPECT_EQ(assess(in, k_t0 + Days{7}, Policy{}).verdict, Verdict::due);
}

class AssessOAuth : public Lifecycle {
protected:
    Integration oauth(bool refresh, std::optional<Timestamp> access_expires)
    {
        auto in = make("sess", "access-token-0001", k_t0);
        in.kind = Kind::oauth;
        OAuthSession s;
        if (refresh) s.refresh_token = Secret::from("refresh-token-0001");
        s.access_expires_at = access_expires;
        in.oauth = std::move(s);
        return in;
    }
};

TEST_F(AssessOAuth, RefreshTokenLifetime)
{
    auto in = oauth(true, k_t0 + Days{1});
    EXPECT_EQ(assess(in, k_t0, Policy{}).verdict, Verdict::ok);
    EXPECT_EQ(assess(in, k_t0 + Days{350}, Policy{}).verdict, Verdict::ok);
    EXPECT_EQ(assess(in, k_t0 + Days{351}, Policy{}).verdict, Verdict::warn); // 365 - 14
    EXPECT_EQ(assess(in, k_t0 + Days{364}, Policy{}).verdict, Verdict::warn);
    auto f = assess(in, k_t0 + Days{365}, Policy{});
    EXPECT_EQ(f.verdict, Verdict::expired);
    EXPECT_EQ(f.age_days, 365);
    // The 90-day PIT rule does not apply to OAuth sessions.
    EXPECT_EQ(assess(in, k_t0 + Days{120}, Policy{}).verdict, Verdict::ok);
}

TEST_F(AssessOAuth, AccessExpiryWithAndWithoutRefresh)
{
    auto with = oauth(true, k_t0 + Days{1});
    auto f = assess(with, k_t0 + Days{2}, Policy{});
    EXPECT_EQ(f.verdict, Verdict::ok);
    EXPECT_NE(f.reason.find("next use refreshes"), std::string::npos) << f.reason;

    auto without = oauth(false, k_t0 + Days{1});
    EXPECT_EQ(assess(without, k_t0 + Days{1} - 1s, Policy{}).verdict, Verdict::ok);
    EXPECT_EQ(assess(without, k_t0 + Days{1}, Policy{}).verdict, Verdict::expired);

    auto unknown = oauth(false, std::nullopt);
    EXPECT_EQ(assess(unknown, k_t0 + Days{30}, Policy{}).verdict, Verdict::ok);
}

TEST(ValidatePolicy, Ranges)
{
    EXPECT_TRUE(validate_policy(Policy{}));
    EXPECT_TRUE(validate_policy(Policy{1, 0}));
    EXPECT_TRUE(validate_policy(Policy{1, 1}));
    EXPECT_TRUE(validate_policy(Policy{3650, 3650}));
    for (Policy p : {Policy{0, 0}, Policy{-1, 0}, Policy{3651, 14}, Policy{90, -1}, Policy{90, 91}}) {
        auto st = validate_policy(p);
        ASSERT_FALSE(st) << p.max_age_days << "/" << p.warn_days;
        EXPECT_EQ(st.error().code, Errc::usage);
    }
}

TEST(ManualClockTest, MovesOnlyWhenTold)
{
    ManualClock c(k_t0);
    EXPECT_EQ(c.now(), k_t0);
    EXPECT_EQ(c.now(), k_t0);
    c.advance(90s);
    EXPECT_EQ(c.now(), k_t0 + 90s);
    c.set(k_t0 - Days{1});
    EXPECT_EQ(c.now(), k_t0 - Days{1});
    SystemClock sys;
    auto n = sys.now();
    EXPECT_GT(n, k_t0 - Days{365 * 10});
    EXPECT_EQ(n, std::chrono::floor<Seconds>(n));
}

} // namespace
} // namespace pitool::core
