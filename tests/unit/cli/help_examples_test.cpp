// Every command's --help examples are parsed by the real parser without
// running anything (cli::parse_only), so an example cannot drift from the
// flags; and --help shows them with the global options.

#include "cli/app.hpp"
#include "cli/command.hpp"
#include "cli/prompt.hpp"
#include "pitool/core/clock.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace pitool::cli {
namespace {

/// The words of an example as a shell splits them ('…' and "…" quote, no
/// expansion), up to a redirection (`<`, `>`), which is the shell's.
std::vector<std::string> help_example_words(std::string_view line)
{
    std::vector<std::string> words;
    std::string word;
    bool in_word = false;
    char quote = 0;
    for (char c : line) {
        if (quote != 0) {
            if (c == quote)
                quote = 0;
            else
                word += c;
        } else if (c == '\'' || c == '"') {
            quote = c;
            in_word = true;
        } else if (c == ' ') {
            if (in_word) words.push_back(word);
            word.clear();
            in_word = false;
        } else {
            word += c;
            in_word = true;
        }
    }
    if (in_word) words.push_back(word);
    for (std::size_t i = 0; i < words.size(); ++i)
        if (words[i][0] == '<' || words[i][0] == '>') {
            words.resize(i);
            break;
        }
    return words;
}

struct HelpExampleWorld {
    std::ostringstream out;
    std::ostringstream err;
    std::istringstream in;
    core::SystemClock clock;
    TtyPrompt prompt;
    ProcessEnvironment env;
    Context ctx{out, err, in, clock, prompt, env, "tester@host", {}, false, {}, {}};
};

TEST(HelpExamples, EveryListedCommandHasTwoOrThreeExamples)
{
    for (const auto& spec : all_commands()) {
        if (spec.summary[0] == '\0') {
            EXPECT_TRUE(spec.examples.empty()) << spec.name << " is internal";
            continue;
        }
        EXPECT_GE(spec.examples.size(), 2u) << spec.name;
        EXPECT_LE(spec.examples.size(), 3u) << spec.name;
        for (const auto& e : spec.examples) EXPECT_NE(std::string(e.what), "") << e.line;
    }
}

TEST(HelpExamples, EveryExampleParsesAsItsOwnCommand)
{
    for (const auto& spec : all_commands())
        for (const auto& e : spec.examples) {
            auto words = help_example_words(e.line);
            ASSERT_GE(words.size(), 2u) << e.line;
            ASSERT_EQ(words[0], "pitool") << e.line;
            words.erase(words.begin());
            bool names_it = false;
            for (const auto& w : words) names_it = names_it || w == spec.name;
            EXPECT_TRUE(names_it) << e.line << " is an example of " << spec.name;
            HelpExampleWorld w;
            const auto st = parse_only(w.ctx, words);
            EXPECT_TRUE(st.ok()) << e.line << ": " << (st ? std::string() : st.error().message);
        }
}

TEST(HelpExamples, TheDryParseRefusesWhatTheParserRefuses)
{
    // So the test above can fail.
    HelpExampleWorld a;
    auto st = parse_only(a.ctx, {"rotate", "acme", "--token-fil", "new.txt"});
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, Errc::usage);
    EXPECT_NE(st.error().message.find("did you mean --token-file?"), std::string::npos) << st.error().message;
    HelpExampleWorld b;
    EXPECT_FALSE(parse_only(b.ctx, {"show"}).ok()) << "a missing NAME";
    HelpExampleWorld c;
    EXPECT_FALSE(parse_only(c.ctx, {"list", "--vault", ""}).ok()) << "an empty value";
    HelpExampleWorld d;
    EXPECT_TRUE(parse_only(d.ctx, {"exec", "--env", "A=x", "--", "./sync.sh", "--json"}).ok());
    ASSERT_TRUE(d.ctx.after_separator);
    EXPECT_EQ(*d.ctx.after_separator, (std::vector<std::string>{"./sync.sh", "--json"}));
    EXPECT_FALSE(d.ctx.opts.json) << "the command's --json is not pitool's";
}

TEST(HelpExamples, HelpShowsTheExamplesAndTheGlobalOptions)
{
    for (const auto& spec : all_commands()) {
        if (spec.examples.empty()) continue;
        HelpExampleWorld w;
        const char* argv[] = {"pitool", spec.name, "--help"};
        ASSERT_EQ(run_in(w.ctx, 3, argv), 0) << spec.name;
        const std::string help = w.out.str();
        EXPECT_NE(help.find("\nExamples:\n"), std::string::npos) << help;
        for (const auto& e : spec.examples)
            EXPECT_NE(help.find(std::string("  ") + e.line + "\n      " + e.what + "\n"), std::string::npos)
                << spec.name << ": " << e.line;
        EXPECT_NE(help.find("Global options (before or after the command): --vault TEXT, --passphrase-file TEXT, "
                            "--identity TEXT, --cacert TEXT, --config TEXT, --no-config, --json, -q,--quiet, "
                            "-v,--verbose (see pitool --help)"),
                  std::string::npos)
            << help;
    }
}

} // namespace
} // namespace pitool::cli
