// Pure helpers of the HTTP layer: names, URL and header validation, and the
// one-at-a-time default of Client::perform_all. Nothing here touches the
// network or links libcurl: this file is in every pitool binary, the libcurl
// client only in the network module (see module_entry.cpp).

#include "http/detail.hpp"
#include "pitool/http/client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace pitool::http {
namespace {

constexpr std::size_t k_max_url_length = 2048;

char lower(char c) noexcept
{
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept
{
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

std::string to_lower(std::string_view s)
{
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), lower);
    return out;
}

bool is_alnum(char c) noexcept
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool is_digit(char c) noexcept
{
    return c >= '0' && c <= '9';
}

bool is_hex(char c) noexcept
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/// Visible ASCII only: no space, control or non-ASCII byte.
bool is_visible_ascii(char c) noexcept
{
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f;
}

Error bad_base_url(std::string_view why)
{
    // The URL itself is left out: a mistyped one may carry user info.
    return make_error(Errc::usage, "invalid base URL (expected http(s)://host[:port]): " + std::string(why));
}

bool valid_reg_name(std::string_view host) noexcept
{
    if (host.empty() || host.size() > 253) return false;
    std::size_t label = 0;
    for (std::size_t i = 0; i <= host.size(); ++i) {
        if (i == host.size() || host[i] == '.') {
            if (label == 0 || label > 63) return false;
            label = 0;
            continue;
        }
        if (!is_alnum(host[i]) && host[i] != '-' && host[i] != '_') return false;
        ++label;
    }
    return true;
}

bool valid_ipv6_literal(std::string_view host) noexcept
{
    // "[...]" holding hex digits, ':' and (for an embedded IPv4) '.'.
    if (host.size() < 4 || host.front() != '[' || host.back() != ']') return false;
    const auto inner = host.substr(1, host.size() - 2);
    if (inner.find(':') == std::string_view::npos) return false;
    return std::all_of(inner.begin(), inner.end(), [](char c) { return is_hex(c) || c == ':' || c == '.'; });
}

} // namespace

std::string_view method_name(Method m) noexcept
{
    switch (m) {
    case Method::get:
        return "GET";
    case Method::post:
        return "POST";
    case Method::put:
        return "PUT";
    case Method::patch:
        return "PATCH";
    case Method::del:
        return "DELETE";
    }
    return "GET";
}

std::vector<Result<Response>> Client::perform_all(const std::vector<Request>& requests, const BatchOptions& options)
{
    std::vector<Result<Response>> out;
    out.reserve(requests.size());
    for (const auto& req : requests) {
        out.push_back(send(req));
        if (options.progress) options.progress(out.size(), requests.size());
    }
    return out;
}

std::optional<std::string> Response::header(std::string_view name) const
{
    for (const auto& h : headers) {
        if (iequals(h.name, name)) return h.value;
    }
    return std::nullopt;
}

Result<std::string> normalize_base_url(std::string_view url)
{
    if (url.empty()) return bad_base_url("empty");
    if (url.size() > k_max_url_length) return bad_base_url("too long");
    if (!std::all_of(url.begin(), url.end(), is_visible_ascii)) {
        return bad_base_url("contains spaces, control or non-ASCII characters");
    }
    const auto sep = url.find("://");
    if (sep == std::string_view::npos) return bad_base_url("missing scheme");
    const std::string scheme = to_lower(url.substr(0, sep));
    if (scheme != "http" && scheme != "https") return bad_base_url("scheme must be http or https");

    auto rest = url.substr(sep + 3);
    if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
    if (rest.find('@') != std::string_view::npos) return bad_base_url("must not contain user info");
    if (rest.find_first_of("/?#\\") != std::string_view::npos) {
        return bad_base_url("must not have a path, query or fragment");
    }
    if (rest.empty()) return bad_base_url("missing host");

    std::string_view host;
    std::string_view port_part;
    if (rest.front() == '[') {
        const auto close = rest.find(']');
        if (close == std::string_view::npos) return bad_base_url("unterminated IPv6 address");
        host = rest.substr(0, close + 1);
        port_part = rest.substr(close + 1);
        if (!valid_ipv6_literal(host)) return bad_base_url("invalid IPv6 address");
    } else {
        const auto colon = rest.find(':');
        host = rest.substr(0, colon);
        port_part = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon);
        if (!valid_reg_name(host)) return bad_base_url("invalid host name");
    }

    std::string out = scheme + "://" + to_lower(host);
    if (scheme == "http") PITOOL_TRY(check_plaintext_host(scheme, to_lower(host)));
    if (!port_part.empty()) {
        const auto digits = port_part.substr(1);
        if (port_part.front() != ':' || digits.empty() || digits.size() > 5 ||
            !std::all_of(digits.begin(), digits.end(), is_digit)) {
            return bad_base_url("invalid port");
        }
        unsigned port = 0;
        std::from_chars(digits.data(), digits.data() + digits.size(), port);
        if (port == 0 || port > 65535) return bad_base_url("port out of range");
        out += ':' + std::to_string(port);
    }
    return out;
}

bool is_loopback_host(std::string_view host) noexcept
{
    if (host == "localhost") return true;
    if (host.size() > INET6_ADDRSTRLEN + 2) return false;
    if (!host.empty() && host.front() == '[' && host.back() == ']') {
        const std::string inner(host.substr(1, host.size() - 2));
        in6_addr a6{};
        if (::inet_pton(AF_INET6, inner.c_str(), &a6) != 1) return false;
        return IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
    }
    const std::string text(host);
    in_addr a4{};
    if (::inet_pton(AF_INET, text.c_str(), &a4) != 1) return false;
    return (ntohl(a4.s_addr) >> 24) == 127;
}

Status check_plaintext_host(std::string_view scheme, std::string_view host)
{
    if (is_loopback_host(host)) return {};
    return make_error(Errc::usage, "plain " + std::string(scheme) + ":// is allowed only to a loopback host " +
                                       "(127.0.0.0/8, ::1, localhost), not " + std::string(host) +
                                       (scheme == "http" ? ": use https://" : ": use TLS"));
}

namespace detail {

Status validate_path(std::string_view path)
{
    if (path.empty() || path.front() != '/') {
        return make_error(Errc::usage, "request path must start with '/'");
    }
    if (path.size() > k_max_url_length) return make_error(Errc::usage, "request path too long");
    if (path.find("://") != std::string_view::npos) {
        return make_error(Errc::usage, "request path must not contain a URL");
    }
    if (!std::all_of(path.begin(), path.end(), is_visible_ascii)) {
        return make_error(Errc::usage, "request path contains spaces, control or non-ASCII characters");
    }
    if (path.find('#') != std::string_view::npos) {
        return make_error(Errc::usage, "request path must not contain a fragment");
    }
    return {};
}

Status validate_header(const Header& header)
{
    constexpr std::string_view k_token_punct = "!#$%&'*+-.^_`|~";
    const auto& name = header.name;
    if (name.empty() || !std::all_of(name.begin(), name.end(), [&](char c) {
            return is_alnum(c) || k_token_punct.find(c) != std::string_view::npos;
        })) {
        return make_error(Errc::usage, "invalid HTTP header name");
    }
    for (const char c : header.value) {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\t') || u == 0x7f) {
            return make_error(Errc::usage, "HTTP header " + name + " contains control characters");
        }
    }
    for (std::string_view owned :
         {"authorization", "proxy-authorization", "host", "content-length", "transfer-encoding"}) {
        if (iequals(name, owned)) {
            return make_error(Errc::usage,
                              "HTTP header " + name + " is set by the client (use Request::bearer for tokens)");
        }
    }
    return {};
}

} // namespace detail
} // namespace pitool::http
