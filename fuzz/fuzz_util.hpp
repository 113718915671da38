#pragma once
// Helpers shared by the fuzz targets: invariant checks and input splitting.

#include "pitool/crypto/crypto.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace pitool::fuzz {

/// Aborts (a libFuzzer crash, with the input saved) when an invariant breaks.
inline void require(bool ok, const char* what)
{
    if (!ok) {
        std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
        std::abort();
    }
}

/// libsodium must be initialised before the first Secret is allocated, as
/// pitool's main does; targets call this from LLVMFuzzerInitialize.
inline int init_sodium()
{
    if (!crypto::init()) std::abort();
    return 0;
}

/// Reads a little-endian integer of N bytes from the front of `in` (zeros
/// past its end) and drops them.
template <int N> std::uint64_t take_le(std::string_view& in)
{
    std::uint64_t v = 0;
    for (int i = 0; i < N && !in.empty(); ++i) {
        v |= static_cast<std::uint64_t>(static_cast<unsigned char>(in.front())) << (8 * i);
        in.remove_prefix(1);
    }
    return v;
}

/// The text up to the first `sep` (dropped from `in` with the separator), or
/// all of `in` when there is none.
inline std::string_view take_until(std::string_view& in, std::string_view sep)
{
    auto pos = in.find(sep);
    std::string_view head = in.substr(0, pos);
    in = pos == std::string_view::npos ? std::string_view{} : in.substr(pos + sep.size());
    return head;
}

/// A provider error message is one line, without control characters, cut
/// near 200 characters.
inline void require_clean_message(std::string_view m)
{
    require(m.size() <= 203, "error message is at most ~200 characters");
    for (char c : m) {
        auto u = static_cast<unsigned char>(c);
        require(u >= 0x20 && u != 0x7F, "error message has no control characters");
    }
}

} // namespace pitool::fuzz
