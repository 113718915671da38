// `pitool completion bash|zsh|fish`: a completion script generated from the
// command tree (the same CLI11 tree that parses the command line), completing
// commands, flags, provider, kind and KDF values, files, and integration
// names. Names come from the hidden `pitool __complete names`, which asks the
// agent only: with the vault unlocked it prints one name a line, otherwise
// nothing (it never prompts, never reads a passphrase, always exits 0).

#include "cli/agent_link.hpp"
#include "cli/app.hpp"
#include "cli/commands/commands.hpp"
#include "cli/generations.hpp"
#include "cli/session.hpp"
#include "pitool/core/model.hpp"
#include "pitool/crypto/crypto.hpp"

#include <CLI/CLI.hpp>

#include <ostream>
#include <set>
#include <algorithm>
#include <utility>

namespace pitool::cli::commands {
namespace {

struct Flag {
    std::vector<std::string> spellings; ///< "--json", "-q", ...
    std::string help;
    bool takes_value = false;
};

struct Command {
    std::string name;
    std::string summary;
    std::vector<Flag> flags;
    bool takes_name = false;              ///< has the positional integration NAME
    std::vector<std::string> subcommands; ///< `identity new|show`: offered after the command
};

struct Tree {
    std::vector<Flag> globals;
    std::vector<Command> commands;
};

std::vector<Flag> flags_of(const CLI::App& app)
{
    std::vector<Flag> out;
    for (const CLI::Option* opt : app.get_options()) {
        if (opt->get_positional()) continue;
        Flag f;
        for (const auto& s : opt->get_snames()) f.spellings.push_back("-" + s);
        for (const auto& l : opt->get_lnames()) f.spellings.push_back("--" + l);
        if (f.spellings.empty()) continue;
        f.help = opt->get_description();
        f.takes_value = opt->get_items_expected_max() != 0; // flags expect no value
        out.push_back(std::move(f));
    }
    return out;
}

Tree command_tree(Context& ctx)
{
    CLI::App app;
    describe_commands(app, ctx);
    Tree t;
    t.globals = flags_of(std::as_const(app));
    const CLI::App& tree = app;
    for (const CLI::App* sub : tree.get_subcommands([](const CLI::App*) { return true; })) {
        if (sub->get_name().starts_with("__")) continue; // hidden
        Command c{sub->get_name(), sub->get_description(), flags_of(*sub), false, {}};
        for (const CLI::Option* opt : sub->get_options())
            // A stored integration's name (not create's new one).
            if (opt->get_positional() && opt->get_name() == "name" && c.name != "create") c.takes_name = true;
        // A command with commands of its own: their names, and their flags
        // offered with the command's.
        for (const CLI::App* nested : sub->get_subcommands([](const CLI::App*) { return true; })) {
            c.subcommands.push_back(nested->get_name());
            for (Flag& f : flags_of(*nested))
                if (std::none_of(c.flags.begin(), c.flags.end(),
                                 [&](const Flag& have) { return have.spellings == f.spellings; }))
                    c.flags.push_back(std::move(f));
        }
        t.commands.push_back(std::move(c));
    }
    return t;
}

/// Values a flag takes, from the domain's own enumerations.
std::vector<std::string> values_of(std::string_view flag)
{
    std::vector<std::string> out;
    if (flag == "--provider")
        for (auto p : {core::Provider::leadconnector, core::Provider::hint}) out.emplace_back(core::to_string(p));
    if (flag == "--kind")
        for (auto k : {core::Kind::pit, core::Kind::oauth_app, core::Kind::oauth, core::Kind::partner_key,
                       core::Kind::practice_key})
            out.emplace_back(core::to_string(k));
    if (flag == "--kdf")
        for (auto l : {crypto::KdfLevel::interactive, crypto::KdfLevel::moderate, crypto::KdfLevel::sensitive})
            out.emplace_back(crypto::to_string(l));
    return out;
}

/// Whether a flag's value is a path.
bool takes_file(std::string_view flag)
{
    return flag.ends_with("-file") || flag == "--vault" || flag == "--cacert" || flag == "--data" || flag == "--output";
}

/// `s` as one single-quoted shell word (bash, zsh and fish all read it so).
std::string shell_word(std::string_view s)
{
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

std::string joined(const std::vector<std::string>& words, std::string_view sep = " ")
{
    std::string out;
    for (const auto& w : words) out += (out.empty() ? "" : std::string(sep)) + w;
    return out;
}

/// Every spelling of every value-taking flag, split into file, enumerated and other ones.
struct ValueFlags {
    std::set<std::string> files, enumerated, other;
};

ValueFlags value_flags(const Tree& t)
{
    ValueFlags v;
    auto add = [&](const std::vector<Flag>& flags) {
        for (const auto& f : flags) {
            if (!f.takes_value) continue;
            for (const auto& s : f.spellings) {
                if (takes_file(s))
                    v.files.insert(s);
                else if (!values_of(s).empty())
                    v.enumerated.insert(s);
                else
                    v.other.insert(s);
            }
        }
    };
    add(t.globals);
    for (const auto& c : t.commands) add(c.flags);
    return v;
}

std::vector<std::string> spellings(const std::vector<Flag>& flags)
{
    std::vector<std::string> out;
    for (const auto& f : flags) out.insert(out.end(), f.spellings.begin(), f.spellings.end());
    return out;
}

std::vector<std::string> global_value_spellings(const Tree& t)
{
    std::vector<std::string> out;
    for (const auto& f : t.globals)
        if (f.takes_value) out.insert(out.end(), f.spellings.begin(), f.spellings.end());
    return out;
}

void print_bash(std::ostream& out, const Tree& t)
{
    const ValueFlags vf = value_flags(t);
    std::vector<std::string> names;
    for (const auto& c : t.commands) names.push_back(c.name);
    out << "# bash completion for pitool, generated by `pitool completion bash` from its command tree.\n"
           "# Integration names are completed only while the vault is unlocked (pitool unlock).\n"
           "_pitool()\n{\n"
           "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
           "    local cmd='' vault='' i w\n"
           "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
           "        w=${COMP_WORDS[i]}\n"
           "        case $w in\n"
           "            --vault) vault=${COMP_WORDS[i+1]}; ((i++)) ;;\n"
           "            "
        << joined(global_value_spellings(t), "|")
        << ") ((i++)) ;;\n"
           "            -*) ;;\n"
           "            *) cmd=$w; break ;;\n"
           "        esac\n"
           "    done\n"
           "    case $prev in\n";
    for (const auto& s : vf.enumerated)
        out << "        " << s << ") COMPREPLY=($(compgen -W " << shell_word(joined(values_of(s)))
            << " -- \"$cur\")); return ;;\n";
    if (!vf.files.empty())
        out << "        " << joined({vf.files.begin(), vf.files.end()}, "|")
            << ") COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n";
    if (!vf.other.empty())
        out << "        " << joined({vf.other.begin(), vf.other.end()}, "|") << ") COMPREPLY=(); return ;;\n";
    out << "    esac\n"
           "    local words='' names=0\n"
           "    case $cmd in\n"
           "        '') words="
        << shell_word(joined(names) + " " + joined(spellings(t.globals))) << " ;;\n";
    for (const auto& c : t.commands)
        out << "        " << c.name
            << ") words=" << shell_word(joined(c.subcommands) + " " + joined(spellings(c.flags)))
            << (c.takes_name ? "; names=1" : "") << " ;;\n";
    out << "    esac\n"
           "    if [[ $names == 1 && $cur != -* ]]; then\n"
           "        words=$(\"${COMP_WORDS[0]}\" ${vault:+--vault \"$vault\"} __complete names 2>/dev/null)\n"
           "    fi\n"
           "    COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
           "}\n"
           "complete -F _pitool pitool\n";
}

void print_zsh(std::ostream& out, const Tree& t)
{
    const ValueFlags vf = value_flags(t);
    out << "#compdef pitool\n"
           "# zsh completion for pitool, generated by `pitool completion zsh` from its command tree.\n"
           "# Integration names are completed only while the vault is unlocked (pitool unlock).\n"
           "_pitool() {\n"
           "    local -a commands\n"
           "    commands=(\n";
    for (const auto& c : t.commands) out << "        " << shell_word(c.name + ":" + c.summary) << "\n";
    out << "    )\n"
           "    local cmd='' vault='' i w\n"
           "    for ((i = 2; i < CURRENT; i++)); do\n"
           "        w=${words[i]}\n"
           "        case $w in\n"
           "            (--vault) vault=${words[i+1]}; ((i++)) ;;\n"
           "            ("
        << joined(global_value_spellings(t), "|")
        << ") ((i++)) ;;\n"
           "            (-*) ;;\n"
           "            (*) cmd=$w; break ;;\n"
           "        esac\n"
           "    done\n"
           "    case ${words[CURRENT-1]} in\n";
    for (const auto& s : vf.enumerated)
        out << "        (" << s << ") compadd -- " << joined(values_of(s)) << "; return ;;\n";
    if (!vf.files.empty())
        out << "        (" << joined({vf.files.begin(), vf.files.end()}, "|") << ") _files; return ;;\n";
    if (!vf.other.empty()) out << "        (" << joined({vf.other.begin(), vf.other.end()}, "|") << ") return ;;\n";
    out << "    esac\n"
           "    local flags='' subs='' names=0\n"
           "    case $cmd in\n"
           "        ('') flags="
        << shell_word(joined(spellings(t.globals))) << " ;;\n";
    for (const auto& c : t.commands)
        out << "        (" << c.name << ") flags=" << shell_word(joined(spellings(c.flags)))
            << (c.subcommands.empty() ? "" : "; subs=" + shell_word(joined(c.subcommands)))
            << (c.takes_name ? "; names=1" : "") << " ;;\n";
    out << "    esac\n"
           "    if [[ $PREFIX == -* ]]; then\n"
           "        compadd -- ${=flags}\n"
           "    elif [[ -z $cmd ]]; then\n"
           "        _describe command commands\n"
           "    elif [[ -n $subs ]]; then\n"
           "        compadd -- ${=subs}\n"
           "    elif [[ $names == 1 ]]; then\n"
           "        compadd -- ${(f)\"$(${words[1]} ${vault:+--vault \"$vault\"} __complete names 2>/dev/null)\"}\n"
           "    fi\n"
           "}\n"
           "if [[ $funcstack[1] == _pitool ]]; then _pitool \"$@\"; else compdef _pitool pitool; fi\n";
}

void print_fish_flags(std::ostream& out, const std::vector<Flag>& flags, const std::string& condition)
{
    for (const auto& f : flags) {
        out << "complete -c pitool";
        if (!condition.empty()) out << " -n " << shell_word(condition);
        for (const auto& s : f.spellings) out << (s.starts_with("--") ? " -l " + s.substr(2) : " -s " + s.substr(1));
        if (f.takes_value) {
            const std::string& any = f.spellings.back();
            if (takes_file(any))
                out << " -r -F";
            else if (auto v = values_of(any); !v.empty())
                out << " -x -a " << shell_word(joined(v));
            else
                out << " -x";
        }
        out << " -d " << shell_word(f.help) << "\n";
    }
}

void print_fish(std::ostream& out, const Tree& t)
{
    out << "# fish completion for pitool, generated by `pitool completion fish` from its command tree.\n"
           "# Integration names are completed only while the vault is unlocked (pitool unlock).\n"
           "complete -c pitool -f\n";
    print_fish_flags(out, t.globals, "");
    std::vector<std::string> with_names;
    for (const auto& c : t.commands) {
        out << "complete -c pitool -n __fish_use_subcommand -a " << c.name << " -d " << shell_word(c.summary) << "\n";
        print_fish_flags(out, c.flags, "__fish_seen_subcommand_from " + c.name);
        if (!c.subcommands.empty())
            out << "complete -c pitool -n "
                << shell_word("__fish_seen_subcommand_from " + c.name + "; and not __fish_seen_subcommand_from " +
                              joined(c.subcommands))
                << " -a " << shell_word(joined(c.subcommands)) << "\n";
        if (c.takes_name) with_names.push_back(c.name);
    }
    out << "complete -c pitool -n " << shell_word("__fish_seen_subcommand_from " + joined(with_names))
        << " -a '(pitool __complete names 2>/dev/null)'\n";
}

struct CompletionOptions {
    std::string shell;
};

Status run_completion(Context& ctx, const CompletionOptions& o)
{
    const Tree t = command_tree(ctx);
    if (o.shell == "bash")
        print_bash(ctx.out, t);
    else if (o.shell == "zsh")
        print_zsh(ctx.out, t);
    else if (o.shell == "fish")
        print_fish(ctx.out, t);
    else
        return make_error(Errc::usage, "completion: the shell must be bash, zsh or fish");
    return {};
}

struct CompleteOptions {
    std::string what;
};

/// Integration names from the agent only; nothing (and exit 0) otherwise.
Status run_complete(Context& ctx, const CompleteOptions& o)
{
    if (o.what != "names") return {};
    vault::FileStorage storage(resolve_vault_path(ctx));
    auto v = open_with_agent(ctx, storage);
    if (!v || !check_generation_unlocked(ctx, *v, storage, storage.path())) return {};
    auto names = v->names();
    if (!names) return {};
    for (const auto& n : names.value()) ctx.out << n << '\n';
    return {};
}

} // namespace

Handler setup_completion(CLI::App& sub)
{
    auto o = std::make_shared<CompletionOptions>();
    sub.add_option("shell", o->shell, "bash, zsh or fish")->required();
    sub.footer("Examples:\n  source <(pitool completion bash)\n  pitool completion fish > "
               "~/.config/fish/completions/pitool.fish");
    return [o](Context& ctx) { return run_completion(ctx, *o); };
}

Handler setup_complete(CLI::App& sub)
{
    sub.group(""); // hidden: for the completion scripts
    auto o = std::make_shared<CompleteOptions>();
    sub.add_option("what", o->what, "names")->required();
    return [o](Context& ctx) { return run_complete(ctx, *o); };
}

} // namespace pitool::cli::commands
