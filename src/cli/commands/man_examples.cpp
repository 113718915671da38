// `pitool __man-examples`: every command's --help examples (CommandSpec
// examples in registry.cpp, the one source) as help2man include text, an
// [EXAMPLES] section of roff. cmake/Docs.cmake runs it at build time and
// gives help2man its output, so `man pitool` shows the examples that
// CLI11's --help-all (which prints no subcommand footers) leaves out.

#include "cli/commands/commands.hpp"

#include <CLI/CLI.hpp>

#include <ostream>
#include <string>
#include <string_view>

namespace pitool::cli::commands {
namespace {

/// `text` as roff text: backslashes escaped; '-', '\'' and '`' as the ASCII
/// characters (\-, \(aq, \(ga: what pastes into a shell, not a hyphen or
/// curly quote); a leading '.' made literal.
std::string roff_text(std::string_view text)
{
    std::string out;
    if (!text.empty() && text.front() == '.') out += "\\&";
    for (char c : text) {
        if (c == '\\')
            out += "\\e";
        else if (c == '-')
            out += "\\-";
        else if (c == '\'')
            out += "\\(aq";
        else if (c == '`')
            out += "\\(ga";
        else
            out += c;
    }
    return out;
}

Status run_man_examples(Context& ctx)
{
    // Fill mode, left-aligned and unhyphenated: a long command line breaks
    // between words only, so each option stays whole and copyable.
    ctx.out << "[EXAMPLES]\n.PP\nEvery command's examples, as its \\fB\\-\\-help\\fR shows them:\n.nh\n.ad l\n";
    for (const auto& spec : all_commands()) {
        if (spec.examples.empty()) continue;
        ctx.out << ".SS " << roff_text(spec.name) << "\n";
        for (const auto& e : spec.examples)
            ctx.out << ".TP 4\n\\fB" << roff_text(e.line) << "\\fR\n" << roff_text(e.what) << "\n";
    }
    ctx.out << ".ad b\n.hy\n";
    return {};
}

} // namespace

Handler setup_man_examples(CLI::App& sub)
{
    sub.group(""); // hidden: for the build (cmake/Docs.cmake)
    return [](Context& ctx) { return run_man_examples(ctx); };
}

} // namespace pitool::cli::commands
