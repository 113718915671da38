// Fuzzes the version 2 record decoders: metadata, secrets and history
// records, and the vault index, on arbitrary bytes. The first byte picks the
// decoder. Whatever decodes must re-encode and decode to the same bytes.

#include "fuzz_util.hpp"

#include "pitool/core/record_codec.hpp"
#include "vault/index.hpp"

using namespace pitool;
using pitool::fuzz::require;

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    return fuzz::init_sodium();
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0) return 0;
    std::span<const std::uint8_t> in(data + 1, size - 1);
    switch (data[0] % 4) {
    case 0: {
        auto m = core::decode_meta(in);
        if (!m) {
            require(m.error().code == Errc::damaged, "metadata fails with Errc::damaged only");
            return 0;
        }
        auto once = core::encode_meta(m.value());
        auto again = core::decode_meta(once);
        require(static_cast<bool>(again), "encoded metadata decodes");
        require(core::encode_meta(again.value()) == once, "metadata re-encodes identically");
        return 0;
    }
    case 1: {
        // Secrets against a record whose metadata asks for every slot.
        core::Integration rec;
        rec.rotation.emplace();
        rec.oauth.emplace();
        rec.oauth->refresh_token.emplace();
        rec.sealed = true;
        auto st = core::decode_secrets(in, rec);
        require(st || st.error().code == Errc::damaged, "secrets fail with Errc::damaged only");
        if (st) require(!rec.sealed, "decoded secrets unseal the record");
        return 0;
    }
    case 2: {
        auto e = core::decode_events(in);
        if (e) require(core::decode_events(core::encode_events(e.value())).value().size() == e->size(), "events");
        return 0;
    }
    default: {
        auto ix = vault::detail::decode_index(in);
        if (!ix) return 0;
        auto once = vault::detail::encode_index(ix.value());
        auto again = vault::detail::decode_index(once);
        require(static_cast<bool>(again), "an encoded index decodes");
        require(vault::detail::encode_index(again.value()) == once, "the index re-encodes identically");
        return 0;
    }
    }
}
