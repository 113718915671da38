#include "pitool/util/sanitize.hpp"

#include <gtest/gtest.h>

#include <string>

namespace pitool::util {
namespace {

bool valid_utf8(std::string_view s)
{
    for (std::size_t i = 0; i < s.size();) {
        char32_t cp = 0;
        const std::size_t len = utf8_sequence(s, i, cp);
        if (len == 0) return false;
        i += len;
    }
    return true;
}

TEST(Sanitize, CleanTextComesBackUnchanged)
{
    for (const char* s : {"", "plain", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91", "back\\slash [redacted]"})
        EXPECT_EQ(sanitize(s), s);
}

TEST(Sanitize, TerminalControlsBecomeVisibleEscapes)
{
    EXPECT_EQ(sanitize("a\x1b[2Jb"), "a\\x1B[2Jb");
    EXPECT_EQ(sanitize("bell\x07 del\x7f nl\n"), "bell\\x07 del\\x7F nl\\x0A");
    EXPECT_EQ(sanitize("csi\x9b"
                       "31m"),
              "csi\\x9B31m"); // the one-byte C1 CSI (not UTF-8)
    EXPECT_EQ(sanitize("csi\xc2\x9b"
                       "31m"),
              "csi\\u009B31m"); // U+009B
    EXPECT_EQ(sanitize("\xe2\x80\xae"
                       "evil"),
              "\\u202Eevil");                                            // RLO
    EXPECT_EQ(sanitize("\xe2\x81\xa6x\xe2\x81\xa9"), "\\u2066x\\u2069"); // isolates
    EXPECT_EQ(sanitize("bad \xff\xc3 end \xed\xa0\x80"), "bad \\xFF\\xC3 end \\xED\\xA0\\x80");
}

TEST(Sanitize, IsIdempotent)
{
    const std::string once = sanitize("x\x1b\xc2\x9b\xe2\x80\xae\xff", 12);
    EXPECT_EQ(sanitize(once), once);
}

TEST(Sanitize, RedactsBeforeItCuts)
{
    const std::string token = "pit-0123456789abcdef";
    const std::string raw = std::string(190, 'x') + token + " tail";
    const std::string out = sanitize(raw, 200, {token});
    EXPECT_EQ(out.find("pit-0123"), std::string::npos) << out;
    EXPECT_EQ(out, std::string(190, 'x') + "[redacted]...");
    EXPECT_EQ(sanitize("a abc b", k_unlimited, {"abc"}), "a abc b"); // shorter than 4: left alone
    EXPECT_EQ(sanitize("k1 s3cr3t k2 t0k3n!", k_unlimited, {"s3cr3t", "t0k3n!"}), "k1 [redacted] k2 [redacted]");
}

TEST(Sanitize, CutsOnCodePointAndEscapeBoundaries)
{
    const std::string raw = std::string(199, 'x') + "\xc3\xa9\xc3\xa9";
    const std::string out = sanitize(raw, 200);
    EXPECT_EQ(out, std::string(199, 'x') + "...");
    EXPECT_TRUE(valid_utf8(out));
    EXPECT_EQ(sanitize(std::string(198, 'x') + "\x1b" + "y", 200), std::string(198, 'x') + "...");
    EXPECT_EQ(sanitize("short", 200), "short");
    for (std::size_t max = 0; max < 24; ++max) {
        const std::string cut = sanitize("\xe2\x82\xac\x1b\xc2\x9b\xf0\x9f\x94\x91\xff abc", max);
        EXPECT_TRUE(valid_utf8(cut)) << max;
        EXPECT_LE(cut.size(), max + 3) << max;
    }
}

TEST(Sanitize, TerminalControlClassification)
{
    for (char32_t cp : {0x00u, 0x1Bu, 0x1Fu, 0x7Fu, 0x80u, 0x9Bu, 0x9Fu, 0x202Au, 0x202Eu, 0x2066u, 0x2069u})
        EXPECT_TRUE(is_terminal_control(cp)) << static_cast<unsigned>(cp);
    for (char32_t cp : {0x20u, 0x7Eu, 0xA0u, 0xE9u, 0x2029u, 0x202Fu, 0x2065u, 0x206Au, 0x1F511u})
        EXPECT_FALSE(is_terminal_control(cp)) << static_cast<unsigned>(cp);
}

} // namespace
} // namespace pitool::util
