// PIT rotation as the LeadConnector UI offers it (providers.md section 1),
// driven through the sandbox clock rather than real time.

#include "sandbox/sandbox_fixture.hpp"

namespace pitool::sandbox_test {
namespace {

constexpr long long k_week_s = 7 * k_day_s;

class PitRotation : public ::testing::Test {
protected:
    SandboxProcess sb;
    json pit = sb.make_pit("location", "LOC1", {"locations.readonly"});
    std::string id = pit["id"];
    std::string old_token = pit["token"];

    int status(const std::string& token) const { return get_location_status(sb, token, "LOC1"); }
    json rotate(const std::string& mode, int expect = 200) const
    {
        return sb.admin("POST", "/pits/" + id + "/rotate", {{"mode", mode}}, expect);
    }
};

TEST_F(PitRotation, RotateLaterKeepsBothTokensForExactlySevenDays)
{
    auto rotated = rotate("later");
    const std::string new_token = rotated["token"];
    EXPECT_NE(new_token, old_token);
    EXPECT_TRUE(rotated["rotation"].is_object());
    EXPECT_EQ(status(old_token), 200);
    EXPECT_EQ(status(new_token), 200);

    sb.advance(k_week_s - 1);
    EXPECT_EQ(status(old_token), 200) << "7 days minus 1 second: old token still valid";
    EXPECT_EQ(status(new_token), 200);

    sb.advance(1);
    EXPECT_EQ(status(old_token), 401) << "7 days old: old token expired";
    EXPECT_EQ(status(new_token), 200);
    EXPECT_TRUE(sb.admin("GET", "/pits/" + id)["rotation"].is_null());
}

TEST_F(PitRotation, RotatingWhileAWindowIsOpenIsAConflict)
{
    rotate("later");
    auto err = rotate("later", 409);
    EXPECT_TRUE(err["error"].is_string());
    rotate("now", 409);
    // Once the window has lapsed a new rotation is allowed.
    sb.advance(k_week_s);
    rotate("later");
}

TEST_F(PitRotation, CancelRotationKeepsTheOldTokenWithoutExpiry)
{
    const std::string new_token = rotate("later")["token"];
    auto cancelled = sb.admin("POST", "/pits/" + id + "/cancel-rotation");
    EXPECT_TRUE(cancelled["rotation"].is_null());
    EXPECT_EQ(status(new_token), 401);
    EXPECT_EQ(status(old_token), 200);
    sb.advance(30 * k_day_s);
    EXPECT_EQ(status(old_token), 200);
}

TEST_F(PitRotation, ExpireNowKillsTheOldTokenAtOnce)
{
    const std::string new_token = rotate("later")["token"];
    sb.advance(k_day_s);
    sb.admin("POST", "/pits/" + id + "/expire-now");
    EXPECT_EQ(status(old_token), 401);
    EXPECT_EQ(status(new_token), 200);
    sb.advance(30 * k_day_s);
    EXPECT_EQ(status(new_token), 200);
}

TEST_F(PitRotation, RotateNowKillsTheOldTokenAtOnce)
{
    const std::string new_token = rotate("now")["token"];
    EXPECT_EQ(status(old_token), 401);
    EXPECT_EQ(status(new_token), 200);
    // No window is open, so rotating again is fine.
    rotate("later");
}

TEST_F(PitRotation, CancelOrExpireWithoutAWindowIsAConflict)
{
    sb.admin("POST", "/pits/" + id + "/cancel-rotation", {}, 409);
    sb.admin("POST", "/pits/" + id + "/expire-now", {}, 409);
    rotate("later");
    sb.advance(k_week_s);
    sb.admin("POST", "/pits/" + id + "/cancel-rotation", {}, 409);
}

TEST_F(PitRotation, ClockCanBeReadAdvancedSetAndReset)
{
    auto before = sb.admin("GET", "/clock");
    EXPECT_EQ(before["offset_ms"], 0);
    auto after = sb.admin("POST", "/clock/advance", {{"seconds", 3600}});
    EXPECT_EQ(after["offset_ms"], 3'600'000);
    EXPECT_GE(after["epoch_ms"].get<long long>() - before["epoch_ms"].get<long long>(), 3'600'000);
    auto set = sb.admin("POST", "/clock/set", {{"epoch_seconds", 1'900'000'000}});
    EXPECT_NEAR(set["epoch_ms"].get<double>(), 1.9e12, 5000.0);
    EXPECT_EQ(set["now"].get<std::string>().substr(0, 10), "2030-03-17");
    auto reset = sb.admin("POST", "/clock/reset");
    EXPECT_EQ(reset["offset_ms"], 0);
}

} // namespace
} // namespace pitool::sandbox_test
