// Retry-After parsing (HTTP-dates through libcurl's curl_getdate), part of
// the libcurl client and therefore of the network module only.

#include "http/detail.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <charconv>
#include <ctime>
#include <string>

namespace pitool::http::detail {
namespace {

bool is_digit(char c) noexcept
{
    return c >= '0' && c <= '9';
}

} // namespace

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now)
{
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    if (value.empty() || value.size() > 64) return std::nullopt;

    if (std::all_of(value.begin(), value.end(), is_digit)) {
        // Anything beyond a day is "much longer than we will ever wait".
        constexpr long long k_day = 86'400;
        long long seconds = k_day;
        if (value.size() <= 6) {
            std::from_chars(value.data(), value.data() + value.size(), seconds);
        }
        return std::chrono::seconds(std::min(seconds, k_day));
    }

    const std::string date(value); // curl_getdate needs a NUL-terminated string
    const std::time_t when = curl_getdate(date.c_str(), nullptr);
    if (when == -1) return std::nullopt;
    // Compare in seconds first: from_time_t() of a far date (year 9999, or
    // before 1678) overflows the clock's nanosecond count.
    constexpr std::time_t k_day_s = 86'400;
    const std::time_t now_s = std::chrono::system_clock::to_time_t(now);
    if (when < now_s) return std::chrono::milliseconds(0);
    if (when - now_s > k_day_s) return std::chrono::seconds(k_day_s);
    const auto delta = std::chrono::system_clock::from_time_t(when) - now;
    if (delta <= std::chrono::system_clock::duration::zero()) return std::chrono::milliseconds(0);
    return std::chrono::ceil<std::chrono::milliseconds>(delta);
}

} // namespace pitool::http::detail
