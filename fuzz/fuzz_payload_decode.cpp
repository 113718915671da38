// Fuzzes the payload loader: vault::legacy::decode_payload on arbitrary text. When it
// decodes, the payload must survive encode -> decode -> encode unchanged.

#include "fuzz_util.hpp"

#include "pitool/vault/legacy_payload.hpp"

using namespace pitool;
using pitool::fuzz::require;

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    return fuzz::init_sodium();
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto p = vault::legacy::decode_payload(text);
    if (!p) {
        require(p.error().code == Errc::damaged, "decode fails with Errc::damaged only");
        return 0;
    }
    SecureString once = vault::legacy::encode_payload(p.value());
    auto again = vault::legacy::decode_payload(std::string_view(once.data(), once.size()));
    require(static_cast<bool>(again), "an encoded payload decodes");
    SecureString twice = vault::legacy::encode_payload(again.value());
    require(once == twice, "encode(decode(encode(p))) == encode(p)");
    return 0;
}
