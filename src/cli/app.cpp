#include "cli/app.hpp"

#include "cli/command.hpp"
#include "cli/config.hpp"
#include "cli/output.hpp"
#include "cli/prompt.hpp"
#include "pitool/crypto/crypto.hpp"
#include "pitool/exit_codes.hpp"

#include <CLI/CLI.hpp>

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <csignal>
#include <iostream>
#include <map>
#include <string_view>
#include <vector>

namespace pitool::cli {
namespace {

/// Before anything reads a secret: no core dumps, no ptrace-style dumping,
/// private file modes, and a full disk reported as an error instead of SIGXFSZ.
void harden_process()
{
    rlimit none{0, 0};
    ::setrlimit(RLIMIT_CORE, &none);
    ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    ::umask(077);
    std::signal(SIGXFSZ, SIG_IGN);
    std::signal(SIGPIPE, SIG_IGN);
}

std::string one_line(std::string s)
{
    for (char& c : s)
        if (c == '\n' || c == '\r') c = ' ';
    return s;
}

/// An option given an empty value ("--vault ''", `history ""`) is a
/// mistake, never a request for the default. Only a description may be empty.
Status refuse_empty_values(const CLI::App& app)
{
    auto check = [](const CLI::App& a) -> Status {
        for (const CLI::Option* opt : a.get_options()) {
            if (opt->count() == 0 || opt->get_type_size() == 0 || opt->check_name("--description")) continue;
            for (const auto& v : opt->results())
                if (v.empty()) {
                    std::string name = opt->get_name();
                    return make_error(Errc::usage,
                                      (name.empty() ? std::string("an argument") : name) + " needs a non-empty value");
                }
        }
        return {};
    };
    PITOOL_TRY(check(app));
    // Two levels: commands, and the subcommands of a group (`identity new`).
    for (const CLI::App* sub : app.get_subcommands()) {
        PITOOL_TRY(check(*sub));
        for (const CLI::App* inner : sub->get_subcommands()) PITOOL_TRY(check(*inner));
    }
    return {};
}

int report(Context& ctx, const Error& e)
{
    auto code = exit_code_for(e.code);
    if (!e.message.empty()) ctx.err << "pitool: error: " << one_line(e.message) << '\n';
    if (ctx.opts.json && !ctx.json_written)
        print_json(
            ctx, {{"error",
                   {{"code", static_cast<int>(code)}, {"kind", errc_name(e.code)}, {"message", one_line(e.message)}}}});
    ctx.out.flush();
    return static_cast<int>(code);
}

using Handlers = std::map<const CLI::App*, Handler>;

/// "Examples:" and the spec's command lines, each with what it does.
std::string examples_text(const CommandSpec& spec)
{
    std::string text = "Examples:\n";
    for (const auto& e : spec.examples) text += std::string("  ") + e.line + "\n      " + e.what + "\n";
    return text;
}

/// The global options every command accepts, as the main parser declares
/// them (so the list cannot drift from the flags).
std::string global_options_text(const CLI::App& app)
{
    std::string names;
    for (const CLI::Option* opt : app.get_options()) {
        const std::string name = opt->get_name(false, true);
        if (name.empty() || opt->check_name("--help") || opt->check_name("--help-all") || opt->check_name("--version"))
            continue;
        names += (names.empty() ? "" : ", ") + name;
        if (const std::string type = opt->get_type_name(); !type.empty()) names += " " + type;
    }
    return "\nGlobal options (before or after the command): " + names + " (see pitool --help)\n";
}

/// The global options, and every subcommand or only `only`.
void build_parser(CLI::App& app, Context& ctx, Handlers& handlers, const CommandSpec* only)
{
    app.name("pitool");
    app.require_subcommand(1);
    app.set_version_flag("--version", "pitool " PITOOL_VERSION);
    app.set_help_all_flag("--help-all", "Print help for every command (the manual page's source)");
    app.add_option("--vault", ctx.opts.vault,
                   "Vault file (default: $PITOOL_VAULT or "
                   "$XDG_DATA_HOME/pitool/vault)");
    app.add_option("--passphrase-file", ctx.opts.passphrase_file,
                   "Read the vault passphrase from this file (or $PITOOL_PASSPHRASE_FILE)");
    app.add_option("--identity", ctx.opts.identity_file,
                   "Identity file (default: $PITOOL_IDENTITY_FILE, the key in $PITOOL_IDENTITY, or "
                   "$XDG_DATA_HOME/pitool/identity)");
    app.add_option("--cacert", ctx.opts.cacert, "Also trust the CA certificates in this PEM file");
    app.add_option("--config", ctx.opts.config,
                   "Config file (default: $PITOOL_CONFIG or $XDG_CONFIG_HOME/pitool/config.toml)");
    app.add_flag("--no-config", ctx.opts.no_config, "Read no config file");
    app.add_flag("--json", ctx.opts.json, "Print one JSON document on stdout");
    app.add_flag("-q,--quiet", ctx.opts.quiet, "Only print errors on stderr");
    app.add_flag("-v,--verbose", ctx.opts.verbose,
                 "Print diagnostics: -v what pitool does (vault, passphrase source, KDF, locks, agent, retries), "
                 "-vv also the HTTP trace (secrets are always redacted)");

    const std::string globals = global_options_text(app);
    for (const auto& spec : all_commands()) {
        if (only != nullptr && &spec != only) continue;
        CLI::App* sub = app.add_subcommand(spec.name, spec.summary);
        sub->fallthrough();
        handlers[sub] = spec.setup(*sub);
        if (!spec.examples.empty()) sub->footer(examples_text(spec) + globals);
    }
}

const CommandSpec* command_named(std::string_view a)
{
    for (const auto& spec : all_commands())
        if (a == spec.name) return &spec;
    return nullptr;
}

/// The index of argv's first word that is not a global option (or the value
/// of one), or argc if there is none. A word starting with '-' that is not a
/// global option also ends the search (CLI11 judges it).
int first_word(int argc, const char* const* argv)
{
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "--json" || a == "-q" || a == "--quiet" || a == "-v" || a == "-vv" || a == "-vvv" ||
            a == "--verbose" || a == "--no-config")
            continue;
        bool with_value = false;
        for (std::string_view opt : {"--vault", "--passphrase-file", "--identity", "--cacert", "--config"}) {
            if (a == opt) {
                with_value = true;
                ++i; // its value
            } else if (a.size() > opt.size() && a.starts_with(opt) && a[opt.size()] == '=') {
                with_value = true;
            }
        }
        if (!with_value) return i;
    }
    return argc;
}

/// The command argv names when that is plain without a parser: only the
/// global options above (with their values) before it, and no other argument
/// spelled like any command. Null for everything else (help, version,
/// mistakes, a command name as a value), which the whole tree parses.
const CommandSpec* plainly_named_command(int argc, const char* const* argv)
{
    const int at = first_word(argc, argv);
    if (at >= argc) return nullptr;
    const CommandSpec* found = command_named(argv[at]);
    for (int i = at + 1; found != nullptr && i < argc; ++i)
        if (command_named(argv[i]) != nullptr) return nullptr;
    return found;
}

/// Edit distance (insertions, deletions, substitutions) between two words.
std::size_t edit_distance(std::string_view a, std::string_view b)
{
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

/// "unknown command", with the nearest command when one is close (at most
/// two edits, and fewer than half the word). The word itself is not echoed:
/// it may be a pasted token.
Error unknown_command(std::string_view word)
{
    const CommandSpec* best = nullptr;
    std::size_t best_distance = 3;
    for (const auto& spec : all_commands()) {
        if (spec.summary[0] == '\0') continue; // internal (__agent, __complete)
        const std::size_t d = edit_distance(word, spec.name);
        if (d < best_distance && 2 * d < word.size()) {
            best = &spec;
            best_distance = d;
        }
    }
    if (best == nullptr) return make_error(Errc::usage, "unknown command (see pitool --help for the list)");
    return make_error(Errc::usage, std::string("unknown command; did you mean ") + best->name +
                                       "? (see pitool --help for the list)");
}

/// The long option of `app` nearest to `word` (at most two edits), or "".
std::string nearest_option(const CLI::App& app, std::string_view word)
{
    std::string best;
    std::size_t best_distance = 3;
    for (const CLI::Option* opt : app.get_options()) {
        for (const auto& name : opt->get_lnames()) {
            const std::string flag = "--" + name;
            if (const std::size_t d = edit_distance(word, flag); d < best_distance) {
                best = flag;
                best_distance = d;
            }
        }
    }
    return best;
}

/// A parse error as one line. Words CLI11 did not expect are named only
/// when they are options (`--provder: unknown option; did you mean
/// --provider?`): a stray positional may be a token pasted into argv.
Error parse_error_of(const CLI::App& app, const CLI::ParseError& e)
{
    if (dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr) {
        const CLI::App* where = &app;
        for (const CLI::App* sub : app.get_subcommands()) where = sub;
        const std::string help = where == &app ? "pitool --help" : "pitool " + where->get_name() + " --help";
        std::vector<std::string> extras = where->remaining();
        if (extras.empty()) extras = app.remaining();
        for (const auto& word : extras) {
            if (word.size() < 2 || word[0] != '-') continue;
            const std::string flag = word.substr(0, word.find('='));
            const std::string near = nearest_option(*where, flag);
            return make_error(Errc::usage, flag + ": unknown option" +
                                               (near.empty() ? "" : "; did you mean " + near + "?") + " (see " + help +
                                               ")");
        }
        return make_error(Errc::usage, "unexpected argument (not repeated here: it may be a secret; see " + help + ")");
    }
    return make_error(Errc::usage, std::string(e.what()) + " (see pitool --help)");
}

/// Runs the one subcommand the parser selected, inside the error boundary.
int dispatch(Context& ctx, const CLI::App& app, const Handlers& handlers)
{
    if (auto st = refuse_empty_values(app); !st) return report(ctx, st.error());

    try {
        for (const CLI::App* sub : app.get_subcommands()) {
            // The config file, before any handler reads a setting. The agent
            // (empty environment) goes without; completion must stay quiet,
            // so it goes without a config that does not load.
            if (sub->get_name() != "__agent") {
                auto config = load_config(ctx);
                if (config)
                    ctx.config = std::move(config).value();
                else if (sub->get_name() != "__complete")
                    return report(ctx, config.error());
            }
            auto st = handlers.at(sub)(ctx);
            ctx.out.flush();
            if (!st) return report(ctx, st.error());
            return 0;
        }
        return report(ctx, make_error(Errc::usage, "no command given (see pitool --help)"));
    } catch (const std::bad_alloc&) {
        return report(ctx, make_error(Errc::internal, "out of memory"));
    } catch (const std::exception& e) {
        return report(ctx, make_error(Errc::internal, std::string("internal error: ") + e.what()));
    }
}

/// `exec ... -- COMMAND`: the words after `--` are the command's, given to
/// exec as they are, in ctx.after_separator; CLI11 never sees them (it fills
/// positionals in order across `--`, and would take a command's first word
/// for exec's NAME). Returns the argc CLI11 gets.
int take_exec_command(Context& ctx, int argc, const char* const* argv)
{
    if (const int at = first_word(argc, argv);
        at < argc && std::string_view(argv[at]) == "exec" && !ctx.after_separator)
        for (int i = at + 1; i < argc; ++i)
            if (std::string_view(argv[i]) == "--") {
                ctx.after_separator.emplace(argv + i + 1, argv + argc);
                return i;
            }
    return argc;
}

constexpr const char* k_description = "pitool: keeps LeadConnector and Hint credentials in an encrypted vault "
                                      "and knows their life cycle.";

} // namespace

int run_in(Context& ctx, int argc, const char* const* argv)
{
    argc = take_exec_command(ctx, argc, argv);
    // Building CLI11's tree for all commands and their options costs more than
    // the rest of a `get`. When argv plainly names one command, build only that
    // one; anything the small parser does not accept (help, version, any
    // error) is parsed again by the whole tree, so messages stay the same.
    if (const CommandSpec* only = plainly_named_command(argc, argv)) {
        const GlobalOptions before = ctx.opts;
        CLI::App app{k_description};
        Handlers handlers;
        build_parser(app, ctx, handlers, only);
        bool parsed = false;
        try {
            app.parse(argc, argv);
            parsed = true;
        } catch (const CLI::Error&) {
        }
        if (parsed) return dispatch(ctx, app, handlers);
        ctx.opts = before;
    }

    const int at = first_word(argc, argv);
    if (at < argc && std::string_view(argv[at]) == "help") {
        // `pitool help [CMD]` is `pitool [CMD] --help`.
        if (at + 1 < argc && command_named(argv[at + 1]) == nullptr) return report(ctx, unknown_command(argv[at + 1]));
        std::vector<const char*> as_flag(argv, argv + at);
        if (at + 1 < argc) as_flag.push_back(argv[at + 1]);
        as_flag.push_back("--help");
        return run_in(ctx, static_cast<int>(as_flag.size()), as_flag.data());
    }
    // A first word that is neither an option nor a command: CLI11 would print
    // the main help for `pitool X --help` (exit 0) and only "a subcommand is
    // required" otherwise. The word is not echoed: it may be a pasted token.
    if (at < argc && argv[at][0] != '-' && command_named(argv[at]) == nullptr)
        return report(ctx, unknown_command(argv[at]));

    CLI::App app{k_description};
    Handlers handlers;
    build_parser(app, ctx, handlers, nullptr);
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
        ctx.out << app.help();
        return 0;
    } catch (const CLI::CallForAllHelp&) {
        ctx.out << app.help("", CLI::AppFormatMode::All);
        return 0;
    } catch (const CLI::CallForVersion&) {
        ctx.out << "pitool " PITOOL_VERSION "\n";
        return 0;
    } catch (const CLI::ParseError& e) {
        return report(ctx, parse_error_of(app, e));
    }
    return dispatch(ctx, app, handlers);
}

Status parse_only(Context& ctx, const std::vector<std::string>& args)
{
    std::vector<const char*> argv{"pitool"};
    for (const auto& a : args) argv.push_back(a.c_str());
    const int argc = take_exec_command(ctx, static_cast<int>(argv.size()), argv.data());
    CLI::App app{k_description};
    Handlers handlers;
    build_parser(app, ctx, handlers, nullptr);
    try {
        app.parse(argc, argv.data());
    } catch (const CLI::ParseError& e) {
        return parse_error_of(app, e);
    }
    return refuse_empty_values(app);
}

void describe_commands(CLI::App& app, Context& ctx)
{
    Handlers handlers;
    build_parser(app, ctx, handlers, nullptr);
}

int run(int argc, char** argv)
{
    harden_process();
    if (auto st = crypto::init(); !st) {
        std::cerr << "pitool: error: " << st.error().message << '\n';
        return static_cast<int>(ExitCode::internal);
    }
    core::SystemClock clock;
    TtyPrompt prompt;
    ProcessEnvironment env;
    // The actor (user@host) costs an NSS lookup. `get` writes only when it
    // refreshes an OAuth token and looks the actor up itself in that case.
    const CommandSpec* named = plainly_named_command(argc, argv);
    const bool get_resolves_actor = named != nullptr && std::string_view(named->name) == "get";
    Context ctx{
        std::cout, std::cerr, std::cin, clock, prompt, env, get_resolves_actor ? std::string() : current_actor(),
        {},        false,     {},       {},    {}};
    return run_in(ctx, argc, argv);
}

} // namespace pitool::cli
