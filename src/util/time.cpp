#include "pitool/util/time.hpp"

#include <charconv>
#include <cstdio>
#include <ctime>

namespace pitool {

std::string format_rfc3339(Timestamp t)
{
    std::time_t tt = static_cast<std::time_t>(t.time_since_epoch().count());
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return std::string(buf, n);
}

std::string format_rfc3339_local(Timestamp t)
{
    std::time_t tt = static_cast<std::time_t>(t.time_since_epoch().count());
    // localtime_r need not read TZ again (glibc reads it once); tzset does,
    // cheaply when it has not changed.
    tzset();
    std::tm tm{};
    if (localtime_r(&tt, &tm) == nullptr) return format_rfc3339(t);
    long offset = tm.tm_gmtoff;
    if (offset % 60 != 0) {
        // RFC 3339 offsets have no seconds: show the wall clock of the whole
        // minute offset so that time and offset still name the same instant.
        offset -= offset % 60;
        tt = static_cast<std::time_t>(t.time_since_epoch().count()) + offset;
        gmtime_r(&tt, &tm);
    }
    char buf[40];
    std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    const char sign = offset < 0 ? '-' : '+';
    const long mins = (offset < 0 ? -offset : offset) / 60;
    int k = std::snprintf(buf + n, sizeof buf - n, "%c%02ld:%02ld", sign, mins / 60, mins % 60);
    return std::string(buf, n + static_cast<std::size_t>(k > 0 ? k : 0));
}

namespace {

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out)
{
    if (pos + n > s.size()) return false;
    int v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (s[i] - '0');
    }
    out = v;
    return true;
}

} // namespace

Result<Timestamp> parse_rfc3339(std::string_view s)
{
    auto bad = [&] { return make_error(Errc::usage, "not an RFC 3339 timestamp"); };
    int y, mo, d, h, mi, se;
    if (s.size() < 20 || !digits(s, 0, 4, y) || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
        !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't') || !digits(s, 11, 2, h) || s[13] != ':' ||
        !digits(s, 14, 2, mi) || s[16] != ':' || !digits(s, 17, 2, se))
        return bad();
    std::size_t pos = 19;
    if (pos < s.size() && s[pos] == '.') {
        ++pos;
        std::size_t start = pos;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
        if (pos == start) return bad();
    }
    // "Z", or a numeric offset "+HH:MM" / "-HH:MM" (local time = UTC + offset).
    std::string_view zone = s.substr(pos);
    int offset_minutes = 0;
    if (zone != "Z" && zone != "z") {
        int oh = 0, om = 0;
        if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') || !digits(zone, 1, 2, oh) || zone[3] != ':' ||
            !digits(zone, 4, 2, om) || oh > 23 || om > 59)
            return bad();
        offset_minutes = (zone[0] == '-' ? -1 : 1) * (oh * 60 + om);
    }
    using namespace std::chrono;
    year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
    if (!ymd.ok() || h > 23 || mi > 59 || se > 60) return bad();
    return Timestamp{sys_days{ymd}.time_since_epoch() + hours{h} + minutes{mi} + seconds{se} - minutes{offset_minutes}};
}

Result<Seconds> parse_duration(std::string_view text)
{
    auto bad = [] { return make_error(Errc::usage, "invalid duration (use e.g. 90s, 15m, 8h, 7d)"); };
    if (text.empty()) return bad();
    long long n = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc{} || n < 0) return bad();
    std::string_view unit(p, static_cast<std::size_t>(text.data() + text.size() - p));
    long long mult = 0;
    if (unit.empty() || unit == "s")
        mult = 1;
    else if (unit == "m")
        mult = 60;
    else if (unit == "h")
        mult = 3600;
    else if (unit == "d")
        mult = 86400;
    else
        return bad();
    constexpr long long ten_years = 10LL * 366 * 86400;
    if (n > ten_years / mult) return bad();
    return Seconds{n * mult};
}

long long whole_days(Timestamp from, Timestamp to) noexcept
{
    auto secs = (to - from).count();
    long long days = secs / 86400;
    if (secs < 0 && secs % 86400 != 0) --days;
    return days;
}

} // namespace pitool
