// Fuzzes every Hint response parser: parse_error (any status, any body) and
// parse_practice_grant. Input: 2 bytes HTTP status (little-endian, modulo
// 1000), then the body.

#include "fuzz_util.hpp"

#include "pitool/providers/hint.hpp"

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
    const std::string_view body = in;

    auto err = providers::hint::parse_error(status, body);
    require(err.status == status, "parse_error keeps the status");
    fuzz::require_clean_message(err.message);
    (void)providers::errc_for(err.failure);

    auto grant = providers::hint::parse_practice_grant(body);
    if (grant) {
        require(!grant->api_key.empty(), "a grant has an API key");
    } else {
        require(grant.error().code == Errc::unavailable, "a malformed grant is Errc::unavailable");
    }
    return 0;
}
