// Fuzzes the HTTP layer's input checks: normalize_base_url, validate_path,
// validate_header and parse_retry_after.
//
// Input: a selector byte then the text. 'u' base URL, 'p' path, 'h' header
// ("Name: value"), 'r' Retry-After value; any other byte feeds the text to
// all four.

#include "fuzz_util.hpp"

#include "http/detail.hpp"
#include "pitool/http/client.hpp"

#include <algorithm>
#include <chrono>

using namespace pitool;
using pitool::fuzz::require;

namespace {

bool has_ctl_or_space(std::string_view s)
{
    return std::any_of(s.begin(), s.end(), [](char c) {
        auto u = static_cast<unsigned char>(c);
        return u <= 0x20 || u >= 0x7F;
    });
}

void base_url(std::string_view text)
{
    auto r = http::normalize_base_url(text);
    if (!r) {
        require(r.error().code == Errc::usage, "a bad base URL is Errc::usage");
        return;
    }
    const std::string& url = r.value();
    require(url.starts_with("http://") || url.starts_with("https://"), "normalised URL is http(s)");
    require(!has_ctl_or_space(url), "normalised URL has no spaces or control characters");
    require(url.find_first_of("@?#/", url.find("://") + 3) == std::string::npos,
            "normalised URL has no user info, path, query or fragment");
    auto again = http::normalize_base_url(url);
    require(again && again.value() == url, "normalize_base_url is idempotent");
}

void path(std::string_view text)
{
    auto st = http::detail::validate_path(text);
    if (!st) {
        require(st.error().code == Errc::usage, "a bad path is Errc::usage");
        return;
    }
    require(text.starts_with("/"), "a valid path starts with '/'");
    require(!has_ctl_or_space(text), "a valid path has no spaces or control characters");
    require(text.find('#') == std::string_view::npos, "a valid path has no fragment");
}

void header(std::string_view text)
{
    auto colon = text.find(':');
    http::Header h{std::string(text.substr(0, colon)),
                   colon == std::string_view::npos ? std::string() : std::string(text.substr(colon + 1))};
    auto st = http::detail::validate_header(h);
    if (!st) {
        require(st.error().code == Errc::usage, "a bad header is Errc::usage");
        return;
    }
    require(h.value.find_first_of("\r\n") == std::string::npos, "a valid header value has no CR/LF");
    require(!h.name.empty() && h.name.find_first_of(" :\r\n") == std::string::npos, "a valid header name is a token");
}

void retry_after(std::string_view text)
{
    // A fixed "now" (2025-11-28) keeps runs reproducible.
    const auto now = std::chrono::system_clock::time_point{std::chrono::seconds{1764306000}};
    auto wait = http::detail::parse_retry_after(text, now);
    if (wait) require(wait->count() >= 0, "Retry-After never asks for a negative wait");
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    return fuzz::init_sodium();
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0) return 0;
    const char mode = static_cast<char>(data[0]);
    std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (mode) {
    case 'u':
        base_url(text);
        break;
    case 'p':
        path(text);
        break;
    case 'h':
        header(text);
        break;
    case 'r':
        retry_after(text);
        break;
    default:
        base_url(text);
        path(text);
        header(text);
        retry_after(text);
    }
    return 0;
}
