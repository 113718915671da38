#include "pitool/util/sanitize.hpp"

#include "pitool/util/secret.hpp"

namespace pitool::util {

std::size_t utf8_sequence(std::string_view s, std::size_t i, char32_t& cp) noexcept
{
    auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
    unsigned char c = byte(0);
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF; // allowed range of the second byte
    if (c < 0x80) {
        cp = c;
        return 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        cp = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        cp = c & 0x0Fu;
        if (c == 0xE0) lo = 0xA0; // overlong
        if (c == 0xED) hi = 0x9F; // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        cp = c & 0x07u;
        if (c == 0xF0) lo = 0x90; // overlong
        if (c == 0xF4) hi = 0x8F; // above U+10FFFF
    } else {
        return 0;
    }
    if (i + len > s.size()) return 0;
    for (std::size_t k = 1; k < len; ++k) {
        unsigned char b = byte(k);
        if (k == 1 ? (b < lo || b > hi) : (b & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (b & 0x3Fu);
    }
    return len;
}

bool is_terminal_control(char32_t cp) noexcept
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

void redact(std::string& text, std::string_view secret)
{
    if (secret.size() < 4) return;
    for (auto pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos))
        text.replace(pos, secret.size(), "[redacted]");
}

std::string sanitize(std::string_view raw, std::size_t max, std::initializer_list<std::string_view> secrets)
{
    std::string text(raw);
    for (auto secret : secrets) redact(text, secret);

    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    std::string unit; // one code point, or its escape
    for (std::size_t i = 0; i < text.size();) {
        char32_t cp = 0;
        std::size_t len = utf8_sequence(text, i, cp);
        unit.clear();
        if (len == 0 || (len == 1 && is_terminal_control(cp))) {
            auto b = static_cast<unsigned char>(text[i]);
            unit = {'\\', 'x', hex[b >> 4], hex[b & 0xF]};
            len = 1;
        } else if (is_terminal_control(cp)) {
            unit = "\\u";
            for (int shift = 12; shift >= 0; shift -= 4) unit.push_back(hex[(cp >> shift) & 0xF]);
        } else {
            unit.assign(text, i, len);
        }
        if (max != k_unlimited && out.size() + unit.size() > max) {
            out += "...";
            break;
        }
        out += unit;
        i += len;
    }
    secure_wipe(text); // the raw copy may hold a secret
    return out;
}

} // namespace pitool::util
