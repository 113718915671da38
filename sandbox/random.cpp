#include "sandbox/random.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <cstdio>
#include <cstdlib>

namespace pitool::sandbox {
namespace {

void fill(unsigned char* out, std::size_t n)
{
    if (RAND_bytes(out, static_cast<int>(n)) != 1) {
        std::fputs("pitool-sandbox: RAND_bytes failed\n", stderr);
        std::abort();
    }
}

constexpr std::string_view k_base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
constexpr std::string_view k_hex = "0123456789abcdef";

} // namespace

std::string random_base62(std::size_t n)
{
    std::string out;
    out.reserve(n);
    std::array<unsigned char, 64> buf{};
    while (out.size() < n) {
        fill(buf.data(), buf.size());
        for (unsigned char b : buf) {
            // 62 * 4 = 248: accept only bytes below it so every symbol is equally likely.
            if (b >= 248) continue;
            out.push_back(k_base62[b % 62]);
            if (out.size() == n) break;
        }
    }
    return out;
}

std::string random_hex(std::size_t n)
{
    std::string out;
    out.reserve(n);
    std::array<unsigned char, 32> buf{};
    while (out.size() < n) {
        fill(buf.data(), buf.size());
        for (unsigned char b : buf) {
            out.push_back(k_hex[b >> 4]);
            if (out.size() < n) out.push_back(k_hex[b & 0x0f]);
            if (out.size() == n) break;
        }
    }
    return out;
}

std::string random_uuid()
{
    std::array<unsigned char, 16> b{};
    fill(b.data(), b.size());
    b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
    b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
    std::string out;
    for (std::size_t i = 0; i < b.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
        out.push_back(k_hex[b[i] >> 4]);
        out.push_back(k_hex[b[i] & 0x0f]);
    }
    return out;
}

std::string base64url(std::string_view bytes)
{
    static constexpr std::string_view k_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    std::size_t i = 0;
    auto byte = [&](std::size_t k) { return static_cast<unsigned>(static_cast<unsigned char>(bytes[k])); };
    for (; i + 2 < bytes.size(); i += 3) {
        unsigned v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
        out.push_back(k_alphabet[(v >> 18) & 63]);
        out.push_back(k_alphabet[(v >> 12) & 63]);
        out.push_back(k_alphabet[(v >> 6) & 63]);
        out.push_back(k_alphabet[v & 63]);
    }
    if (bytes.size() - i == 1) {
        unsigned v = byte(i) << 16;
        out.push_back(k_alphabet[(v >> 18) & 63]);
        out.push_back(k_alphabet[(v >> 12) & 63]);
    } else if (bytes.size() - i == 2) {
        unsigned v = (byte(i) << 16) | (byte(i + 1) << 8);
        out.push_back(k_alphabet[(v >> 18) & 63]);
        out.push_back(k_alphabet[(v >> 12) & 63]);
        out.push_back(k_alphabet[(v >> 6) & 63]);
    }
    return out;
}

std::string make_jwt(std::string_view header_json, std::string_view payload_json)
{
    std::array<unsigned char, 32> sig{};
    fill(sig.data(), sig.size());
    std::string sig_bytes(sig.begin(), sig.end());
    return base64url(header_json) + "." + base64url(payload_json) + "." + base64url(sig_bytes);
}

std::string fingerprint(std::string_view text)
{
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int len = 0;
    if (EVP_Digest(text.data(), text.size(), md.data(), &len, EVP_sha256(), nullptr) != 1) std::abort();
    std::string out;
    for (unsigned i = 0; i < 6 && i < len; ++i) {
        out.push_back(k_hex[md[i] >> 4]);
        out.push_back(k_hex[md[i] & 0x0f]);
    }
    return out;
}

} // namespace pitool::sandbox
