// The libcurl implementation of pitool::http::Client.
//
// One Client owns one curl easy handle. curl_easy_reset() between transfers
// clears every option but keeps the connection cache, the DNS cache and the
// TLS session cache, so connections to a provider stay alive across calls
// while no option from a previous request can leak into the next one.
//
// The bearer token is handed to libcurl with CURLOPT_XOAUTH2_BEARER and
// CURLAUTH_BEARER rather than as an "Authorization:" line in the header list:
//  - the token never sits in a curl_slist (whose nodes we could not wipe);
//  - libcurl itself refuses to send it to any host but the one of the URL
//    (Curl_auth_allowed_to_host), a second line of defence behind our own
//    no-cross-origin-redirect rule;
//  - with a single auth method libcurl sends it pre-emptively, like a header.
// Limitation, documented rather than hidden: libcurl strdup()s the string and
// later free()s its copy (and the request buffer it built the header line in)
// without wiping. We shorten that window by clearing the option right after
// the transfer; our own NUL-terminated copy lives in guarded memory.
//
// `send` runs one request on the client's easy handle; `perform_all` runs a
// batch on a curl multi handle with one easy handle per request in flight.
// Both drive the same per-request state machine (`Flight` + `next_step`), so
// the retry, Retry-After and redirect rules are the same; in a batch a wait
// is a "not before" time in the multi loop, never a sleep.

#include "http/curl_internal.hpp"

namespace pitool::http {

std::unique_ptr<Client> make_curl_client(const ClientOptions& options)
{
    return detail::make_curl_client(options, {});
}

namespace detail {

std::unique_ptr<Client> make_curl_client(const ClientOptions& options, CurlClientHooks hooks)
{
    return std::make_unique<curl::CurlClient>(options, std::move(hooks));
}

} // namespace detail
} // namespace pitool::http
