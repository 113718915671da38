#include "pitool/core/model.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <string>

namespace pitool::core {
namespace {

using namespace std::chrono_literals;

bool name_ok(std::string_view n)
{
    return validate_name(n).ok();
}

TEST(ValidateName, AcceptsTheGrammar)
{
    for (const char* n : {"a", "0", "prod", "acme-prod", "acme_prod.v2", "9lives", "a-", "a.", "a_", "x--y"})
        EXPECT_TRUE(name_ok(n)) << n;
}

TEST(ValidateName, LengthLimitIs64)
{
    EXPECT_TRUE(name_ok(std::string(64, 'a')));
    EXPECT_TRUE(name_ok("a" + std::string(63, '-')));
    auto r = validate_name(std::string(65, 'a'));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::usage);
}

TEST(ValidateName, RejectsOutsideTheGrammar)
{
    for (const char* n : {"", "-a", ".a", "_a", "Acme", "acmE", "a b", "a/b", "a\\b", "a:b", "a\n", "a\t",
                          "caf\xc3\xa9", "\xc3\xa9t\xc3\xa9", "a+b", "a@b", "../x"}) {
        auto r = validate_name(n);
        EXPECT_FALSE(r) << n;
        if (!r) {
            EXPECT_EQ(r.error().code, Errc::usage);
        }
    }
    EXPECT_FALSE(name_ok(std::string_view("a\0b", 3))); // embedded NUL
}

TEST(ValidateName, AgreesWithTheDocumentedRegexOnEveryShortString)
{
    // Exhaustive over a small alphabet that covers each character class.
    const std::regex re("[a-z0-9][a-z0-9._-]{0,63}");
    const std::string alphabet = "aZ0.-_/ \xc3";
    std::vector<std::string> all{""};
    for (int len = 1; len <= 3; ++len) {
        std::vector<std::string> next;
        for (const auto& s : all)
            if (s.size() == static_cast<std::size_t>(len - 1))
                for (char c : alphabet) next.push_back(s + c);
        all.insert(all.end(), next.begin(), next.end());
    }
    for (const auto& s : all) ASSERT_EQ(name_ok(s), std::regex_match(s, re)) << '"' << s << '"';
}

TEST(ValidateText, AcceptsUtf8Text)
{
    EXPECT_TRUE(validate_text("description", "", 10));
    EXPECT_TRUE(validate_text("description", "Acme prod, used by billing", 100));
    EXPECT_TRUE(validate_text("description", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91", 100)); // é € 🔑
    EXPECT_TRUE(validate_text("description", "\xef\xbf\xbf\xf4\x8f\xbf\xbf", 100));              // U+FFFF, U+10FFFF
}

TEST(ValidateText, MaxLengthIsInBytesAndInclusive)
{
    EXPECT_TRUE(validate_text("d", std::string(200, 'x'), 200));
    auto r = validate_text("description", std::string(201, 'x'), 200);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::usage);
    EXPECT_NE(r.error().message.find("description"), std::string::npos);
    EXPECT_NE(r.error().message.find("200"), std::string::npos);
    EXPECT_FALSE(validate_text("d", "\xc3\xa9\xc3\xa9", 3)); // 2 characters but 4 bytes
}

TEST(ValidateText, RejectsControlCharacters)
{
    for (std::string s : {std::string("a\nb"), std::string("a\rb"), std::string("tab\there"), std::string("\x1b[31m"),
                          std::string("del\x7f"), std::string("nul\0x", 5), std::string("\x01"),
                          std::string("c1 \xc2\x9b"
                                      "31m"), // U+009B CSI, a terminal escape
                          std::string("\xc2\x85"), std::string("\xc2\x80")}) {
        auto r = validate_text("description", s, 100);
        ASSERT_FALSE(r) << s;
        EXPECT_EQ(r.error().code, Errc::usage);
        EXPECT_NE(r.error().message.find("description"), std::string::npos);
    }
    EXPECT_TRUE(validate_text("d", "\xc2\xa0", 10)); // U+00A0 is not a control character
}

TEST(ValidateText, RejectsInvalidUtf8)
{
    for (const char* s : {
             "\x80",             // lone continuation byte
             "\xc3",             // truncated 2-byte sequence
             "\xe2\x82",         // truncated 3-byte sequence
             "\xf0\x9f\x94",     // truncated 4-byte sequence
             "\xc3(",            // bad continuation
             "\xc0\xaf",         // overlong '/'
             "\xc1\x81",         // overlong 'A'
             "\xe0\x80\xaf",     // overlong 3-byte
             "\xf0\x80\x80\xaf", // overlong 4-byte
             "\xed\xa0\x80",     // UTF-16 surrogate U+D800
             "\xed\xbf\xbf",     // surrogate U+DFFF
             "\xf4\x90\x80\x80", // U+110000
             "\xf5\x80\x80\x80",
             "\xf8\x88\x80\x80\x80",
             "\xfe",
             "\xff",
         }) {
        auto r = validate_text("description", s, 100);
        ASSERT_FALSE(r) << testing::PrintToString(std::string(s));
        EXPECT_EQ(r.error().code, Errc::usage);
        EXPECT_NE(r.error().message.find("UTF-8"), std::string::npos) << r.error().message;
    }
}

TEST(ValidateToken, AcceptsPrintableAscii)
{
    EXPECT_TRUE(validate_token(Secret::from("pit-1234")));
    EXPECT_TRUE(validate_token(Secret::from("pit-0a1b2c3d-4e5f-6789-abcd-ef0123456789")));
    EXPECT_TRUE(validate_token(Secret::from("!~#$%^&*()[]{}<>?/|")));
    EXPECT_TRUE(validate_token(Secret::from(std::string(16384, 'k'))));
}

TEST(ValidateToken, RejectsBadTokens)
{
    for (std::string s : {std::string("short12"), std::string(""), std::string(16385, 'k'),
                          std::string("pit 1234 5678"), std::string("pit-1234\n"), std::string("pit-\t1234"),
                          std::string("pit-1234\x7f"), std::string("pit-1234\0", 9),
                          std::string("pit-\xc3\xa9"
                                      "1234")}) {
        auto r = validate_token(Secret::from(s));
        ASSERT_FALSE(r) << s.size();
        EXPECT_EQ(r.error().code, Errc::usage);
        EXPECT_EQ(r.error().message.find("pit-"), std::string::npos) << "message quotes the token";
    }
}

TEST(Enums, RoundTripThroughText)
{
    for (auto p : {Provider::leadconnector, Provider::hint}) EXPECT_EQ(parse_provider(to_string(p)).value(), p);
    for (auto k : {Kind::pit, Kind::oauth_app, Kind::oauth, Kind::partner_key, Kind::practice_key})
        EXPECT_EQ(parse_kind(to_string(k)).value(), k);
    for (auto l : {Level::none, Level::agency, Level::location}) EXPECT_EQ(parse_level(to_string(l)).value(), l);
    EXPECT_EQ(to_string(Kind::oauth_app), "oauth-app");
    EXPECT_EQ(to_string(Kind::partner_key), "partner-key");
    EXPECT_EQ(to_string(Level::none), "");
}

TEST(Enums, RejectUnknownText)
{
    for (const char* s : {"", "LeadConnector", "hint ", "ghl"}) {
        auto r = parse_provider(s);
        ASSERT_FALSE(r) << s;
        EXPECT_EQ(r.error().code, Errc::usage);
    }
    for (const char* s : {"", "PIT", "oauth_app", "partner", "key"}) {
        auto r = parse_kind(s);
        ASSERT_FALSE(r) << s;
        EXPECT_EQ(r.error().code, Errc::usage);
    }
    for (const char* s : {"Agency", "company", "none", " "}) {
        auto r = parse_level(s);
        ASSERT_FALSE(r) << s;
        EXPECT_EQ(r.error().code, Errc::usage);
    }
}

TEST(KindAllowed, MatchesProviders)
{
    for (auto k : {Kind::pit, Kind::oauth_app, Kind::oauth}) {
        EXPECT_TRUE(kind_allowed(Provider::leadconnector, k)) << to_string(k);
        EXPECT_FALSE(kind_allowed(Provider::hint, k)) << to_string(k);
    }
    for (auto k : {Kind::partner_key, Kind::practice_key}) {
        EXPECT_TRUE(kind_allowed(Provider::hint, k)) << to_string(k);
        EXPECT_FALSE(kind_allowed(Provider::leadconnector, k)) << to_string(k);
    }
}

TEST(DefaultBaseUrl, PerProvider)
{
    EXPECT_EQ(default_base_url(Provider::leadconnector), "https://services.leadconnectorhq.com");
    EXPECT_EQ(default_base_url(Provider::hint), "https://api.hint.com");
}

TEST(PayloadFind, FindsByExactName)
{
    Payload p;
    p.integrations.resize(2);
    p.integrations[0].name = "alpha";
    p.integrations[1].name = "beta";
    ASSERT_NE(p.find("beta"), nullptr);
    EXPECT_EQ(p.find("beta"), &p.integrations[1]);
    EXPECT_EQ(p.find("bet"), nullptr);
    EXPECT_EQ(p.find("Beta"), nullptr);
    const Payload& cp = p;
    EXPECT_EQ(cp.find("alpha"), &p.integrations[0]);
}

Event ev(long long t, std::string action, std::string name, std::string detail = "")
{
    Event e;
    e.at = Timestamp{Seconds{t}};
    e.action = std::move(action);
    e.name = std::move(name);
    e.fingerprint = "abcd:01234567";
    e.actor = "alice@host";
    e.detail = std::move(detail);
    return e;
}

Payload history_of(int n)
{
    Payload p;
    for (int i = 0; i < n; ++i) p.record(ev(1000 + i, i == 0 ? "init" : "rotate", "acme-" + std::to_string(i)));
    return p;
}

TEST(History, RecordChainsHashes)
{
    Payload p = history_of(4);
    ASSERT_EQ(p.history.size(), 4u);
    EXPECT_EQ(p.first_broken_event(), -1);
    EXPECT_EQ(p.history[0].hash, event_chain_hash("", p.history[0]));
    for (std::size_t i = 1; i < p.history.size(); ++i) {
        EXPECT_EQ(p.history[i].hash, event_chain_hash(p.history[i - 1].hash, p.history[i]));
        EXPECT_EQ(p.history[i].hash.size(), 64u);
        EXPECT_EQ(p.history[i].hash.find_first_not_of("0123456789abcdef"), std::string::npos);
    }
    EXPECT_EQ(Payload{}.first_broken_event(), -1);
}

TEST(History, HashIsDeterministicAndCoversEveryField)
{
    Event e = ev(5, "rotate", "acme", "d");
    std::string h = event_chain_hash("prev", e);
    EXPECT_EQ(h, event_chain_hash("prev", e));
    EXPECT_NE(h, event_chain_hash("prev2", e));
    auto differs = [&](auto mutate) {
        Event c = e;
        mutate(c);
        return event_chain_hash("prev", c) != h;
    };
    EXPECT_TRUE(differs([](Event& c) { c.at += 1s; }));
    EXPECT_TRUE(differs([](Event& c) { c.action = "rotate-now"; }));
    EXPECT_TRUE(differs([](Event& c) { c.name = "acme2"; }));
    EXPECT_TRUE(differs([](Event& c) { c.fingerprint = "abcd:01234568"; }));
    EXPECT_TRUE(differs([](Event& c) { c.actor = "mallory@host"; }));
    EXPECT_TRUE(differs([](Event& c) { c.detail = "e"; }));
    EXPECT_FALSE(differs([](Event& c) { c.hash = "ignored"; }));
    // Length prefixes: moving a character across a field boundary changes the hash.
    EXPECT_TRUE(differs([](Event& c) {
        c.action = "rotat";
        c.name = "eacme";
    }));
}

TEST(History, DetectsAnEditedEvent)
{
    for (std::size_t i = 0; i < 4; ++i) {
        Payload p = history_of(4);
        p.history[i].detail = "tampered";
        EXPECT_EQ(p.first_broken_event(), static_cast<long>(i));
    }
    Payload p = history_of(4);
    p.history[2].hash[0] = p.history[2].hash[0] == '0' ? '1' : '0';
    EXPECT_EQ(p.first_broken_event(), 2);
}

TEST(History, DetectsARemovedEvent)
{
    for (std::size_t i = 0; i < 3; ++i) { // removing the last one is undetectable without an anchor
        Payload p = history_of(4);
        p.history.erase(p.history.begin() + static_cast<std::ptrdiff_t>(i));
        EXPECT_EQ(p.first_broken_event(), static_cast<long>(i)) << "removed " << i;
    }
}

TEST(History, DetectsReorderedEvents)
{
    Payload p = history_of(4);
    std::swap(p.history[1], p.history[2]);
    EXPECT_EQ(p.first_broken_event(), 1);
    Payload q = history_of(4);
    std::swap(q.history[0], q.history[3]);
    EXPECT_EQ(q.first_broken_event(), 0);
}

TEST(History, RecordOverwritesAnyGivenHash)
{
    Payload p;
    Event e = ev(1, "init", "");
    e.hash = "forged";
    p.record(e);
    EXPECT_NE(p.history[0].hash, "forged");
    EXPECT_EQ(p.first_broken_event(), -1);
}

} // namespace
} // namespace pitool::core
