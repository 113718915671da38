// Fuzzes the record decoders: metadata (fresh and into a reused record),
// secrets and history records, the v2 index, and the v3 top index and index
// parts, on arbitrary bytes. The first byte picks the decoder. Whatever
// decodes must re-encode and decode to the same bytes.

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
    switch (data[0] % 6) {
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
        // Decoding into a record that held another (with every optional
        // part) gives the same record as decoding fresh.
        core::Integration reused;
        reused.rotation.emplace();
        reused.oauth.emplace();
        reused.last_check.emplace();
        reused.scopes = {"x", "y", "z"};
        reused.extra = {{"k", "v"}};
        require(static_cast<bool>(core::decode_meta_into(in, reused)), "decode_meta_into agrees with decode_meta");
        require(core::encode_meta(reused) == once, "a reused record decodes to the same bytes");
        return 0;
    }
    case 4: {
        auto top = vault::detail::decode_top(in);
        if (!top) return 0;
        auto once = vault::detail::encode_top(top.value());
        auto again = vault::detail::decode_top(once);
        require(static_cast<bool>(again), "an encoded top index decodes");
        require(vault::detail::encode_top(again.value()) == once, "the top index re-encodes identically");
        for (const auto& p : top->parts) (void)vault::detail::route(top->parts, p.first);
        return 0;
    }
    case 5: {
        auto part = vault::detail::decode_part(in, UINT64_MAX);
        if (!part) return 0;
        auto once = vault::detail::encode_part(part.value());
        auto again = vault::detail::decode_part(once, UINT64_MAX);
        require(static_cast<bool>(again), "an encoded part decodes");
        require(vault::detail::encode_part(again.value()) == once, "a part re-encodes identically");
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
