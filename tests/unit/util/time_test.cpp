#include "pitool/util/time.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>

namespace pitool {
namespace {

using namespace std::chrono_literals;

Timestamp at(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0)
{
    using namespace std::chrono;
    return Timestamp{sys_days{year{y} / month{mo} / day{d}}.time_since_epoch() + hours{h} + minutes{mi} + seconds{s}};
}

TEST(Rfc3339, FormatsUtcWithZ)
{
    EXPECT_EQ(format_rfc3339(at(2026, 11, 28, 5, 10, 42)), "2026-11-28T05:10:42Z");
    EXPECT_EQ(format_rfc3339(Timestamp{}), "1970-01-01T00:00:00Z");
    EXPECT_EQ(format_rfc3339(at(2024, 2, 29, 23, 59, 59)), "2024-02-29T23:59:59Z");
}

/// TZ set for one scope, restored (and re-read) after it.
class ScopedTimeZone {
public:
    explicit ScopedTimeZone(const char* tz)
    {
        if (const char* old = std::getenv("TZ"); old != nullptr) m_old = old;
        ::setenv("TZ", tz, 1);
        ::tzset();
    }
    ~ScopedTimeZone()
    {
        if (m_old)
            ::setenv("TZ", m_old->c_str(), 1);
        else
            ::unsetenv("TZ");
        ::tzset();
    }
    ScopedTimeZone(const ScopedTimeZone&) = delete;
    ScopedTimeZone& operator=(const ScopedTimeZone&) = delete;

private:
    std::optional<std::string> m_old;
};

TEST(Rfc3339Local, LocalTimeWithTheZonesOffsetThatParsesBackToTheInstant)
{
    const Timestamp winter = at(2026, 1, 1, 0, 0, 0);
    const Timestamp summer = at(2026, 7, 6, 12, 30, 0);
    const struct {
        const char* tz;
        const char* winter;
        const char* summer;
    } zones[] = {
        {"Europe/Berlin", "2026-01-01T01:00:00+01:00", "2026-07-06T14:30:00+02:00"},
        {"America/New_York", "2025-12-31T19:00:00-05:00", "2026-07-06T08:30:00-04:00"},
        {"UTC", "2026-01-01T00:00:00+00:00", "2026-07-06T12:30:00+00:00"},
        {"Asia/Kolkata", "2026-01-01T05:30:00+05:30", "2026-07-06T18:00:00+05:30"},
        {"America/St_Johns", "2025-12-31T20:30:00-03:30", "2026-07-06T10:00:00-02:30"},
    };
    for (const auto& z : zones) {
        ScopedTimeZone tz(z.tz);
        EXPECT_EQ(format_rfc3339_local(winter), z.winter) << z.tz;
        EXPECT_EQ(format_rfc3339_local(summer), z.summer) << z.tz;
        EXPECT_EQ(parse_rfc3339(format_rfc3339_local(summer)).value(), summer) << z.tz;
    }
}

TEST(Rfc3339Local, AnOffsetWithSecondsIsCutToWholeMinutesConsistently)
{
    // Amsterdam's summer time was +01:19:32 until 1937: the offset shown
    // has no seconds, and the clock shown with it still names the instant.
    ScopedTimeZone tz("Europe/Amsterdam");
    const Timestamp t = at(1930, 6, 1, 12, 0, 0);
    EXPECT_EQ(format_rfc3339_local(t), "1930-06-01T13:19:00+01:19");
    EXPECT_EQ(parse_rfc3339(format_rfc3339_local(t)).value(), t);
}

TEST(Rfc3339, RoundTripsManyInstants)
{
    // A spread of instants across decades, leap days and second boundaries.
    for (long long v = 0; v < 4'000'000'000LL; v += 86'399LL * 37 + 13) {
        Timestamp t{Seconds{v}};
        auto text = format_rfc3339(t);
        auto back = parse_rfc3339(text);
        ASSERT_TRUE(back) << text;
        ASSERT_EQ(back.value(), t) << text;
    }
}

TEST(Rfc3339, ParsesAcceptedVariants)
{
    auto want = at(2026, 1, 2, 3, 4, 5);
    EXPECT_EQ(parse_rfc3339("2026-01-02T03:04:05Z").value(), want);
    EXPECT_EQ(parse_rfc3339("2026-01-02T03:04:05z").value(), want);
    EXPECT_EQ(parse_rfc3339("2026-01-02t03:04:05Z").value(), want);
    EXPECT_EQ(parse_rfc3339("2026-01-02T03:04:05+00:00").value(), want);
    EXPECT_EQ(parse_rfc3339("2026-01-02T03:04:05.999Z").value(), want); // fraction dropped
    EXPECT_EQ(parse_rfc3339("2026-01-02T03:04:05.1+00:00").value(), want);
    EXPECT_EQ(parse_rfc3339("2024-02-29T00:00:00Z").value(), at(2024, 2, 29));
}

TEST(Rfc3339, RejectsInvalidDatesAndTimes)
{
    for (const char* s : {
             "2026-02-29T00:00:00Z", // not a leap year
             "2100-02-29T00:00:00Z", // century rule
             "2026-13-01T00:00:00Z",
             "2026-00-01T00:00:00Z",
             "2026-01-00T00:00:00Z",
             "2026-04-31T00:00:00Z",
             "2026-01-32T00:00:00Z",
             "2026-01-01T24:00:00Z",
             "2026-01-01T00:60:00Z",
             "2026-01-01T00:00:61Z",
         }) {
        auto r = parse_rfc3339(s);
        ASSERT_FALSE(r) << s;
        EXPECT_EQ(r.error().code, Errc::usage) << s;
    }
}

TEST(Rfc3339, ConvertsNumericOffsetsToUtc)
{
    // Local time = UTC + offset, so UTC = local - offset.
    EXPECT_EQ(parse_rfc3339("2026-01-01T02:00:00+02:00").value(), at(2026, 1, 1));
    EXPECT_EQ(parse_rfc3339("2025-12-31T19:00:00-05:00").value(), at(2026, 1, 1));
    EXPECT_EQ(parse_rfc3339("2026-01-01T05:30:00.5+05:30").value(), at(2026, 1, 1));
    EXPECT_EQ(parse_rfc3339("2026-01-01T00:00:00-00:00").value(), at(2026, 1, 1));
}

TEST(Rfc3339, RejectsMalformedOffsets)
{
    for (const char* s : {"2026-01-01T00:00:00+0000", "2026-01-01T00:00:00+00", "2026-01-01T00:00:00",
                          "2026-01-01T00:00:00+24:00", "2026-01-01T00:00:00+01:60", "2026-01-01T00:00:00+1:00",
                          "2026-01-01T00:00:00UTC", "2026-01-01T00:00:00ZZ", "2026-01-01T00:00:00Z "}) {
        auto r = parse_rfc3339(s);
        ASSERT_FALSE(r) << s;
        EXPECT_EQ(r.error().code, Errc::usage) << s;
    }
}

TEST(Rfc3339, RejectsGarbage)
{
    for (const char* s :
         {"", "Z", "now", "2026-01-01", "2026-01-01 00:00:00Z", "2026/01/01T00:00:00Z", "26-01-01T00:00:00Z",
          "2026-1-01T00:00:00Z", "2026-01-01T0:00:00Z", "2026-01-01T00:00:00.Z", "2026-01-01T00:00:00.abcZ",
          "+2026-01-01T00:00:00Z", "2026-01-01T00:00:0aZ", " 2026-01-01T00:00:00Z", "1767225600"}) {
        auto r = parse_rfc3339(s);
        ASSERT_FALSE(r) << '"' << s << '"';
        EXPECT_EQ(r.error().code, Errc::usage) << s;
    }
}

TEST(Duration, ParsesUnits)
{
    EXPECT_EQ(parse_duration("90s").value(), 90s);
    EXPECT_EQ(parse_duration("15m").value(), 15min);
    EXPECT_EQ(parse_duration("8h").value(), 8h);
    EXPECT_EQ(parse_duration("7d").value(), Seconds{7 * 86400});
    EXPECT_EQ(parse_duration("45").value(), 45s);
    EXPECT_EQ(parse_duration("0").value(), 0s);
    EXPECT_EQ(parse_duration("0d").value(), 0s);
}

TEST(Duration, CapsAtTenYears)
{
    constexpr long long ten_years = 10LL * 366 * 86400;
    EXPECT_EQ(parse_duration(std::to_string(ten_years)).value(), Seconds{ten_years});
    EXPECT_FALSE(parse_duration(std::to_string(ten_years + 1)));
    EXPECT_TRUE(parse_duration("3660d"));
    EXPECT_FALSE(parse_duration("3661d"));
    EXPECT_FALSE(parse_duration("99999999999999999999999d")); // overflows long long
    EXPECT_FALSE(parse_duration("9223372036854775807h"));
}

TEST(Duration, RejectsGarbage)
{
    for (const char* s :
         {"", "d", "-1", "-5m", "+5m", "1.5h", "5 s", " 5", "5w", "5ms", "5D", "5S", "h5", "5dd", "1e3"}) {
        auto r = parse_duration(s);
        ASSERT_FALSE(r) << '"' << s << '"';
        EXPECT_EQ(r.error().code, Errc::usage) << s;
    }
}

TEST(WholeDays, FloorsTowardsMinusInfinity)
{
    Timestamp t0 = at(2026, 3, 1);
    EXPECT_EQ(whole_days(t0, t0), 0);
    EXPECT_EQ(whole_days(t0, t0 + 86399s), 0);
    EXPECT_EQ(whole_days(t0, t0 + 86400s), 1);
    EXPECT_EQ(whole_days(t0, t0 + Days{90} - 1s), 89);
    EXPECT_EQ(whole_days(t0, t0 + Days{90}), 90);
    EXPECT_EQ(whole_days(t0, t0 - 1s), -1);
    EXPECT_EQ(whole_days(t0, t0 - 86400s), -1);
    EXPECT_EQ(whole_days(t0, t0 - 86401s), -2);
    EXPECT_EQ(whole_days(t0 + 1s, t0), -1);
}

} // namespace
} // namespace pitool
