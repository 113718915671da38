// Times for people are local time with the zone's numeric offset (RFC 3339,
// "2026-07-06T14:30:00+02:00", TZ honoured); --json and CSV stay UTC ("Z").
// Expectations are written out by hand for instants whose stored UTC value
// each test first reads back from --json: libfaketime reads FAKETIME as local
// time under TZ, so the fake clock's string is not the instant.
#include "cli/cli_fixture.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace pitool::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

/// The local rendering of the two instants the vault holds, per zone.
struct ZoneTimes {
    const char* tz;
    const char* created; ///< 2026-01-01T00:00:00Z (winter)
    const char* expires; ///< 2026-07-06T12:30:00Z (summer: the old token's end)
};

constexpr ZoneTimes k_zones[] = {
    {"Europe/Berlin", "2026-01-01T01:00:00+01:00", "2026-07-06T14:30:00+02:00"},
    {"America/New_York", "2025-12-31T19:00:00-05:00", "2026-07-06T08:30:00-04:00"},
    {"UTC", "2026-01-01T00:00:00+00:00", "2026-07-06T12:30:00+00:00"},
    {"Asia/Kolkata", "2026-01-01T05:30:00+05:30", "2026-07-06T18:00:00+05:30"},
};

/// Inside the rotation window (local reading in any of the zones above).
constexpr const char* k_in_window = "2026-07-01 00:00:00";

/// A PIT created at 2026-01-01T00:00:00Z and rotated (later) at
/// 2026-06-29T12:30:00Z, so the old token expires 2026-07-06T12:30:00Z.
class LocalTime : public CliTest {
protected:
    void SetUp() override
    {
        init_vault(k_t0);
        create_pit("acme", k_token, k_t0); // the fixture's TZ=UTC
        rotate_output =
            ok({"rotate", "acme", "--token-stdin"},
               {.stdin_data = std::string(k_token2), .env = {{"TZ", "Europe/Berlin"}}, .at = "2026-06-29 14:30:00"})
                .out;
        const auto j = ok_json({"show", "acme", "--json"}, {.at = k_in_window});
        ASSERT_EQ(j["created_at"], "2026-01-01T00:00:00Z");
        ASSERT_EQ(j["rotation"]["old_expires_at"], "2026-07-06T12:30:00Z");
    }

    [[nodiscard]] std::string in_zone(const std::vector<std::string>& args, const char* tz) const
    {
        return ok(args, {.env = {{"TZ", tz}}, .at = k_in_window}).out;
    }

    std::string rotate_output;
};

TEST_F(LocalTime, RotateSaysWhenTheOldTokenEndsInLocalTime)
{
    EXPECT_THAT(rotate_output, HasSubstr(" stays valid until 2026-07-06T14:30:00+02:00\n"));
}

TEST_F(LocalTime, ShowListAuditAndHistoryUseTheLocalZoneAndItsOffset)
{
    for (const auto& z : k_zones) {
        SCOPED_TRACE(z.tz);
        const std::string show = in_zone({"show", "acme"}, z.tz);
        EXPECT_THAT(show, HasSubstr("\ncreated:   " + std::string(z.created) + "\n"));
        EXPECT_THAT(show, HasSubstr(" expires " + std::string(z.expires) + " (in "));
        EXPECT_THAT(show, Not(HasSubstr("Z\n")));
        EXPECT_THAT(in_zone({"list"}, z.tz), HasSubstr("old expires " + std::string(z.expires) + "\n"));
        EXPECT_THAT(in_zone({"audit"}, z.tz),
                    HasSubstr("rotation window open; old token expires " + std::string(z.expires) + "\n"));
        EXPECT_THAT(in_zone({"history", "acme"}, z.tz), HasSubstr("\n" + std::string(z.created) + "  create "));
    }
}

TEST_F(LocalTime, JsonAndCsvStayUtc)
{
    for (const auto& z : k_zones) {
        SCOPED_TRACE(z.tz);
        const auto show = nlohmann::json::parse(in_zone({"show", "acme", "--json"}, z.tz));
        EXPECT_EQ(show["created_at"], "2026-01-01T00:00:00Z");
        EXPECT_EQ(show["rotation"]["old_expires_at"], "2026-07-06T12:30:00Z");
        const auto audit = nlohmann::json::parse(in_zone({"audit", "--json"}, z.tz));
        EXPECT_EQ(audit["findings"][0]["reason"], "rotation window open; old token expires 2026-07-06T12:30:00Z");
        const auto history = nlohmann::json::parse(in_zone({"history", "--json"}, z.tz));
        EXPECT_EQ(history["events"][0]["at"], "2026-01-01T00:00:00Z");
        EXPECT_THAT(in_zone({"audit", "--format", "csv"}, z.tz),
                    HasSubstr(",2026-06-29T12:30:00Z,2026-09-27T12:30:00Z,"));
    }
}

} // namespace
} // namespace pitool::test
