#include "cli/commands/commands.hpp"
#include "cli/common.hpp"
#include "cli/due.hpp"
#include "cli/log.hpp"
#include "cli/network.hpp"
#include "cli/session.hpp"
#include "pitool/util/fs.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstring>
#include <istream>
#include <ostream>
#include <span>

namespace pitool::cli::commands {
namespace {

struct InjectOptions {
    std::string output;
    bool fail_if_due = false;
};

/// A template holds names, not secrets, but is kept within reason.
constexpr std::size_t k_max_template = 1024 * 1024;

/// A template cut at its references: literal text, then a name, in turn.
struct Piece {
    std::string_view text; ///< literal text before the reference
    std::string name;      ///< the referenced integration ("" after the last reference)
};

/// Splits `tpl` at each `{{ pitool://NAME }}` (blanks inside the braces
/// optional). Other `{{ ... }}` text is literal. Errc::usage for a reference
/// that is not closed or names nothing valid, with its line number.
Result<std::vector<Piece>> parse_template(std::string_view tpl)
{
    constexpr std::string_view k_scheme = "pitool://";
    std::vector<Piece> pieces;
    std::size_t literal_from = 0;
    std::size_t at = 0;
    while ((at = tpl.find("{{", at)) != std::string_view::npos) {
        std::size_t p = tpl.find_first_not_of(" \t", at + 2);
        if (p == std::string_view::npos || tpl.compare(p, k_scheme.size(), k_scheme) != 0) {
            at += 2;
            continue;
        }
        const auto line =
            std::to_string(1 + std::count(tpl.begin(), tpl.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
        p += k_scheme.size();
        const std::size_t name_end = tpl.find_first_of(" \t}\n", p);
        const std::size_t close =
            name_end == std::string_view::npos ? name_end : tpl.find_first_not_of(" \t", name_end);
        if (close == std::string_view::npos || tpl.compare(close, 2, "}}") != 0)
            return make_error(Errc::usage, "template line " + line + ": a {{ pitool://NAME }} reference is not closed");
        std::string name(tpl.substr(p, name_end - p));
        if (auto st = core::validate_name(name); !st)
            return make_error(Errc::usage, "template line " + line + ": " + st.error().message);
        pieces.push_back({tpl.substr(literal_from, at - literal_from), std::move(name)});
        at = literal_from = close + 2;
    }
    pieces.push_back({tpl.substr(literal_from), {}});
    return pieces;
}

Status run_inject(Context& ctx, const InjectOptions& o)
{
    std::string tpl;
    tpl.resize(k_max_template + 1);
    ctx.in.read(tpl.data(), static_cast<std::streamsize>(tpl.size()));
    tpl.resize(static_cast<std::size_t>(ctx.in.gcount()));
    if (tpl.size() > k_max_template)
        return make_error(Errc::usage, "the template on standard input is larger than 1 MiB");
    PITOOL_TRY_ASSIGN(const auto pieces, parse_template(tpl));

    // Every token first (a missing one means nothing is written), each
    // copied out at once: an auto-refresh replaces the session's records.
    Session s(ctx);
    std::vector<Secret> tokens;
    std::size_t total = 0;
    for (const auto& piece : pieces) {
        total += piece.text.size();
        if (piece.name.empty()) continue;
        PITOOL_TRY_ASSIGN(const TokenChoice chosen, choose_token(s, piece.name, false, o.fail_if_due));
        tokens.push_back(chosen.token->value.clone());
        total += tokens.back().size();
    }
    Secret out(total);
    std::size_t used = 0;
    auto append = [&](const void* data, std::size_t n) {
        if (n != 0) std::memcpy(out.data() + used, data, n);
        used += n;
    };
    std::size_t next = 0;
    for (const auto& piece : pieces) {
        append(piece.text.data(), piece.text.size());
        if (!piece.name.empty()) {
            append(tokens[next].data(), tokens[next].size());
            ++next;
        }
    }

    if (o.output.empty()) {
        ctx.out.write(reinterpret_cast<const char*>(out.data()), static_cast<std::streamsize>(out.size()));
        ctx.out.flush();
        return {};
    }
    std::string warning;
    PITOOL_TRY(
        util::atomic_replace(o.output, std::span<const std::uint8_t>(out.data(), out.size()), nullptr, &warning));
    if (!warning.empty()) warn(ctx, warning);
    return {};
}

} // namespace

Handler setup_inject(CLI::App& sub)
{
    auto o = std::make_shared<InjectOptions>();
    sub.add_option("-o,--output", o->output, "Write to this file (mode 0600, replaced atomically) instead of stdout");
    add_fail_if_due_flag(sub, o->fail_if_due);
    return [o](Context& ctx) { return run_inject(ctx, *o); };
}

} // namespace pitool::cli::commands
