// Fuzzes every LeadConnector response parser: parse_error (any status, any
// body), parse_token_grant, and the X-RateLimit-* header reader.
//
// Input: 2 bytes HTTP status (little-endian, taken modulo 1000), then
// optional header lines "Name: value\n" ended by an empty line ("\n\n"),
// then the body. Seeds without the status prefix still work: their first two
// bytes become the status.

#include "fuzz_util.hpp"

#include "pitool/providers/leadconnector.hpp"

using namespace pitool;
using pitool::fuzz::require;

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    return fuzz::init_sodium();
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::string_view in(reinterpret_cast<const char*>(data), size);
    const long status = static_cast<long>(fuzz::take_le<2>(in) % 1000);
    http::Response resp;
    resp.status = status;
    if (in.find("\n\n") != std::string_view::npos) {
        std::string_view head = fuzz::take_until(in, "\n\n");
        while (!head.empty()) {
            std::string_view line = fuzz::take_until(head, "\n");
            std::string_view name = fuzz::take_until(line, ":");
            resp.headers.push_back({std::string(name), std::string(line)});
        }
    }
    const std::string_view body = in;

    auto err = providers::leadconnector::parse_error(status, body);
    require(err.status == status, "parse_error keeps the status");
    fuzz::require_clean_message(err.message);
    (void)providers::errc_for(err.failure);
    (void)providers::to_string(err.failure);

    auto grant = providers::leadconnector::parse_token_grant(body);
    if (grant) {
        require(!grant->access_token.empty(), "a grant has an access token");
    } else {
        require(grant.error().code == Errc::unavailable, "a malformed grant is Errc::unavailable");
    }

    auto rl = providers::rate_limit_of(resp);
    (void)rl.describe();
    return 0;
}
