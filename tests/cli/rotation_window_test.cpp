// The 7-day rotation window at its boundaries, through the real binary on a
// frozen fake clock (libfaketime with an absolute FAKETIME, which does not
// advance, so every command runs at exactly the second it names).
#include "cli/cli_fixture.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace pitool::test {
namespace {

using nlohmann::json;

constexpr const char* k_minus_1s = "2026-01-07 23:59:59";
constexpr const char* k_exactly = "2026-01-08 00:00:00";
constexpr const char* k_plus_1s = "2026-01-08 00:00:01";

class RotationWindow : public CliTest {
protected:
    void SetUp() override
    {
        init_vault("2025-12-01 00:00:00");
        create_pit("a", k_token, "2025-12-01 00:00:00");
        rotate("a", k_token2, k_t0);
    }
};

TEST_F(RotationWindow, FakeClockIsFrozenAndUsed)
{
    auto show = ok_json({"show", "a", "--json"}, {.at = k_minus_1s});
    EXPECT_EQ(show["created_at"], "2025-12-01T00:00:00Z");
    EXPECT_EQ(show["rotation"]["started_at"], k_t0_rfc);
    EXPECT_EQ(show["rotation"]["old_expires_at"], "2026-01-08T00:00:00Z");
    EXPECT_EQ(show["token"]["age_days"], 6);
}

TEST_F(RotationWindow, OldTokenRetrievableUntilOneSecondBeforeSevenDays)
{
    auto r = pitool({"get", "a", "--old"}, {.at = k_minus_1s});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(r.out, std::string(k_token) + "\n");
    EXPECT_EQ(ok({"get", "a"}, {.at = k_minus_1s}).out, std::string(k_token2) + "\n");
    EXPECT_TRUE(ok_json({"show", "a", "--json"}, {.at = k_minus_1s})["rotation"].is_object());
    auto audit = ok_json({"audit", "--json"}, {.at = k_minus_1s});
    EXPECT_EQ(audit["findings"][0]["verdict"], "rotating");
    // A mutating command at T+7d-1s keeps the window.
    ok({"create", "other", "--provider", "hint", "--token-stdin"},
       {.stdin_data = "hint_partner_key_1", .at = k_minus_1s});
    EXPECT_EQ(ok({"get", "a", "--old"}, {.at = k_minus_1s}).out, std::string(k_token) + "\n");
}

TEST_F(RotationWindow, OldTokenGoneAtExactlySevenDays)
{
    auto r = pitool({"get", "a", "--old"}, {.at = k_exactly});
    EXPECT_EQ(r.exit_code, 4) << describe(r);
    EXPECT_EQ(r.out, "");
    EXPECT_TRUE(ok_json({"show", "a", "--json"}, {.at = k_exactly})["rotation"].is_null());
    EXPECT_EQ(pitool({"expire-old", "a"}, {.at = k_exactly}).exit_code, 4);
    EXPECT_EQ(pitool({"cancel-rotation", "a"}, {.at = k_exactly}).exit_code, 4);
}

TEST_F(RotationWindow, OldTokenGoneOneSecondAfterSevenDays)
{
    auto r = pitool({"get", "a", "--old"}, {.at = k_plus_1s});
    EXPECT_EQ(r.exit_code, 4) << describe(r);
    EXPECT_EQ(r.out, "");
    auto audit = ok_json({"audit", "--json"}, {.at = k_plus_1s});
    EXPECT_EQ(audit["findings"][0]["verdict"], "ok");
}

TEST_F(RotationWindow, MutationAfterWindowPurgesOldToken)
{
    auto before = events({}, k_plus_1s);
    for (const auto& e : before) EXPECT_NE(e["action"], "old-token-expired") << "read-only commands do not purge";

    // Any mutating command purges expired windows.
    ok({"create", "other", "--provider", "hint", "--token-stdin"},
       {.stdin_data = "hint_partner_key_1", .at = k_plus_1s});
    auto ev = events("a", k_plus_1s);
    ASSERT_FALSE(ev.empty());
    const auto& last = ev.back();
    EXPECT_EQ(last["action"], "old-token-expired") << ev.dump(2);
    EXPECT_EQ(last["at"], "2026-01-08T00:00:00Z");
    auto old_fp = ok_json({"show", "a", "--json"}, {.at = k_t0})["rotation"];
    EXPECT_TRUE(old_fp.is_null()) << "purged: even at T the window is gone now";
    EXPECT_EQ(pitool({"get", "a", "--old"}, {.at = k_minus_1s}).exit_code, 4)
        << "the old token must be gone from the vault, not only hidden";
    // Exactly one purge event, however many mutations follow.
    ok({"delete", "other", "--yes"}, {.at = k_plus_1s});
    int purges = 0;
    for (const auto& e : events("a", k_plus_1s)) purges += e["action"] == "old-token-expired" ? 1 : 0;
    EXPECT_EQ(purges, 1);
    // A new rotation is allowed once the window has ended.
    ok({"rotate", "a", "--token-stdin"}, {.stdin_data = "pit-00000000-1111-2222-3333-444444444444", .at = k_plus_1s});
}

TEST_F(RotationWindow, PurgeEventCarriesOldFingerprint)
{
    auto old_fp = ok_json({"show", "a", "--json"}, {.at = k_t0})["rotation"]["old_fingerprint"];
    ok({"rotate", "a", "--token-stdin"}, {.stdin_data = "pit-00000000-1111-2222-3333-444444444444", .at = k_plus_1s});
    auto ev = events("a", k_plus_1s);
    ASSERT_GE(ev.size(), 2u);
    EXPECT_EQ(ev[ev.size() - 2]["action"], "old-token-expired") << ev.dump(2);
    EXPECT_EQ(ev[ev.size() - 2]["fingerprint"], old_fp);
    EXPECT_EQ(ev.back()["action"], "rotate");
}

TEST_F(RotationWindow, RotateNowAndCancelInsideWindow)
{
    auto cancel = pitool({"cancel-rotation", "a"}, {.at = k_minus_1s});
    EXPECT_EQ(cancel.exit_code, 0) << describe(cancel);
    EXPECT_EQ(ok({"get", "a"}, {.at = k_exactly}).out, std::string(k_token) + "\n");
    auto show = ok_json({"show", "a", "--json"}, {.at = "2026-06-01 00:00:00"});
    EXPECT_TRUE(show["rotation"].is_null());
    EXPECT_EQ(show["token"]["issued_at"], "2025-12-01T00:00:00Z") << "the old token is current again, unaged";
}

} // namespace
} // namespace pitool::test
