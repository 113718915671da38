// Fuzzes the vault decoder: vault::parse on arbitrary bytes, then, when the
// header parses and its key derivation is cheap, decrypt_image with the
// passphrase of the seed vault (fuzz/corpus/fuzz_vault_parse/min-kdf-v1.vault).
//
// The header checksum is an unkeyed BLAKE2b, so a mutated header almost never
// passes it. Each input is therefore parsed twice: as given, and with the
// checksum recomputed, which lets the fuzzer reach every check behind it.
//
// Invariants checked on every accepted file:
//  - KDF parameters lie within crypto::check_params (opslimit <= 16,
//    memlimit <= 1 GiB): a hostile header cannot buy an unbounded derivation;
//  - header and ciphertext views tile the input exactly, and the ciphertext
//    is payload_len bytes;
//  - encode_header() reproduces the header bytes (the encoding is canonical).
// decrypt_image runs only when every recipient costs at most k_fuzz_opslimit
// passes over k_fuzz_memlimit bytes, so one execution stays well under a
// millisecond of Argon2 per recipient whatever the header says.

#include "pitool/crypto/crypto.hpp"
#include "pitool/vault/format.hpp"
#include "pitool/vault/vault.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

using namespace pitool;

namespace {

constexpr std::uint64_t k_fuzz_opslimit = 2;
constexpr std::uint64_t k_fuzz_memlimit = 64 * 1024;

void require(bool ok, const char* what)
{
    if (!ok) {
        std::fprintf(stderr, "fuzz_vault_parse: invariant broken: %s\n", what);
        std::abort();
    }
}

const Secret& passphrase()
{
    static const Secret p = Secret::from("fuzz-passphrase");
    return p;
}

void check(std::span<const std::uint8_t> file)
{
    auto parsed = vault::parse(file);
    if (!parsed) {
        require(parsed.error().code == Errc::damaged, "parse fails with Errc::damaged only");
        return;
    }
    const auto& h = parsed->header;
    require(!h.recipients.empty() && h.recipients.size() <= vault::k_max_recipients, "recipient count in range");
    bool cheap = true;
    for (const auto& r : h.recipients) {
        require(static_cast<bool>(crypto::check_params(r.params)), "accepted KDF parameters are within the caps");
        cheap = cheap && r.params.opslimit <= k_fuzz_opslimit && r.params.memlimit <= k_fuzz_memlimit;
    }
    require(parsed->header_bytes.data() == file.data() &&
                parsed->header_bytes.size() == vault::header_size(h.recipients.size(), h.version),
            "header view is the file's header");
    require(parsed->ciphertext.data() == file.data() + parsed->header_bytes.size() &&
                parsed->header_bytes.size() + parsed->ciphertext.size() + parsed->data.size() == file.size(),
            "ciphertext and data views are the rest of the file");
    require(parsed->data.empty() || h.version == vault::k_format_v2, "only version 2 has boxes after the index");
    require(parsed->ciphertext.size() == h.payload_len, "ciphertext is payload_len bytes");
    auto encoded = vault::encode_header(h);
    require(std::equal(encoded.begin(), encoded.end(), parsed->header_bytes.begin(), parsed->header_bytes.end()),
            "encode_header(parse(file)) == header bytes");

    if (!cheap) return;
    auto payload = vault::decrypt_image(file, passphrase());
    if (!payload) {
        auto c = payload.error().code;
        require(c == Errc::damaged || c == Errc::wrong_passphrase, "decrypt_image fails with damaged/wrong_passphrase");
    }
}

/// A copy of `file` with the header checksum recomputed, or empty when the
/// prefix does not say how long the header is or the file is shorter.
std::vector<std::uint8_t> with_fixed_checksum(std::span<const std::uint8_t> file)
{
    if (file.size() < vault::k_prefix_bytes) return {};
    auto size = vault::header_size_of(file.first(vault::k_prefix_bytes)); // by version and count
    if (!size) return {};
    const std::size_t hsize = size.value();
    if (file.size() < hsize) return {};
    std::vector<std::uint8_t> copy(file.begin(), file.end());
    std::span<std::uint8_t> sum(copy.data() + hsize - vault::k_checksum_bytes, vault::k_checksum_bytes);
    crypto::hash(std::span<const std::uint8_t>(copy.data(), hsize - vault::k_checksum_bytes), sum);
    return copy;
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    if (!crypto::init()) std::abort();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::span<const std::uint8_t> file(data, size);
    check(file);
    auto fixed = with_fixed_checksum(file);
    if (!fixed.empty() && !std::equal(fixed.begin(), fixed.end(), file.begin(), file.end())) check(fixed);
    return 0;
}
