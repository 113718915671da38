#include "cli/commands/commands.hpp"
#include "cli/common.hpp"
#include "cli/due.hpp"
#include "cli/network.hpp"
#include "cli/session.hpp"
#include "pitool/core/lifecycle.hpp"
#include "pitool/util/fs.hpp"

#include <CLI/CLI.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <ostream>
#include <string_view>

extern char** environ;

namespace pitool::cli::commands {
namespace {

struct ExecOptions {
    std::string name;
    std::vector<std::string> env;
    std::string env_file;
    bool old = false;
    bool fail_if_due = false;
    std::vector<std::string> command;
};

/// One variable the command gets, and the integration whose token it holds.
struct Binding {
    std::string var;
    std::string name;
};

/// Variables that hold or point at pitool's own secrets: never inherited.
constexpr const char* k_scrubbed[] = {"PITOOL_PASSPHRASE",          "PITOOL_PASSPHRASE_FILE", "PITOOL_NEW_PASSPHRASE",
                                      "PITOOL_NEW_PASSPHRASE_FILE", "PITOOL_AUTH_CODE",       "PITOOL_IDENTITY",
                                      "PITOOL_IDENTITY_FILE"};
/// Variables the dynamic loader or a shell reads at start-up (glibc's list
/// of those it drops for set-uid programs, plus BASH_ENV and ENV): a token in
/// one is read as a path or a command before the program runs. Every LD_*
/// name is refused too.
constexpr std::string_view k_startup_vars[] = {
    "GCONV_PATH", "GETCONF_DIR",      "HOSTALIASES", "LOCALDOMAIN", "LOCPATH", "MALLOC_TRACE", "NIS_PATH",
    "NLSPATH",    "RESOLV_HOST_CONF", "RES_OPTIONS", "TMPDIR",      "TZDIR",   "BASH_ENV",     "ENV"};

bool read_at_startup(std::string_view name)
{
    return name.substr(0, 3) == "LD_" ||
           std::find(std::begin(k_startup_vars), std::end(k_startup_vars), name) != std::end(k_startup_vars);
}

bool valid_env_name(const std::string& s)
{
    if (s.empty() || s.size() > 128 || (s[0] >= '0' && s[0] <= '9')) return false;
    for (char c : s)
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
    return true;
}

/// Whether the inherited `entry` ("NAME=value") must not reach the command:
/// one of pitool's secret variables, or one the command gets a token in.
bool scrubbed(const char* entry, const std::vector<Binding>& bindings)
{
    auto matches = [entry](std::string_view name) {
        return std::strncmp(entry, name.data(), name.size()) == 0 && entry[name.size()] == '=';
    };
    for (const char* name : k_scrubbed)
        if (matches(name)) return true;
    return std::any_of(bindings.begin(), bindings.end(), [&](const Binding& b) { return matches(b.var); });
}

Status check_var(const std::string& var)
{
    if (!valid_env_name(var)) return make_error(Errc::usage, "--env must be a variable name like PITOOL_TOKEN");
    if (read_at_startup(var))
        return make_error(
            Errc::usage, "--env " + var + " is read by the dynamic loader or a shell at start-up: choose another name");
    return {};
}

/// VAR=pitool://NAME lines of an --env file; blank lines and # comments are skipped.
Result<std::vector<Binding>> read_env_file(const std::string& path)
{
    std::ifstream f(path);
    if (!f) return make_error(Errc::usage, "cannot read --env-file " + path);
    std::vector<Binding> out;
    std::string line;
    int n = 0;
    constexpr std::string_view k_scheme = "pitool://";
    while (std::getline(f, line)) {
        ++n;
        if (n > 1000) return make_error(Errc::usage, path + ": more than 1000 lines");
        const auto first = line.find_first_not_of(" \t");
        if (first == std::string::npos || line[first] == '#') continue;
        const auto eq = line.find('=');
        const std::string where = path + " line " + std::to_string(n) + ": ";
        if (eq == std::string::npos || line.compare(eq + 1, k_scheme.size(), k_scheme) != 0)
            return make_error(Errc::usage, where + "expected VAR=pitool://NAME");
        Binding b{line.substr(first, eq - first), line.substr(eq + 1 + k_scheme.size())};
        if (!valid_env_name(b.var)) return make_error(Errc::usage, where + "not a variable name before '='");
        if (auto st = core::validate_name(b.name); !st) return make_error(Errc::usage, where + st.error().message);
        out.push_back(std::move(b));
    }
    return out;
}

/// The tokens `o` asks for: either one NAME (its variable from a plain
/// --env, default PITOOL_TOKEN) or the VAR=NAME pairs of --env and
/// --env-file. Mixing the two forms, a repeated VAR or a bad name is a usage
/// error; with pairs, the command must come after `--`.
Result<std::vector<Binding>> bindings_of(const Context& ctx, ExecOptions& o)
{
    std::vector<Binding> pairs;
    std::vector<std::string> plain;
    for (const auto& e : o.env) {
        if (const auto eq = e.find('='); eq != std::string::npos)
            pairs.push_back({e.substr(0, eq), e.substr(eq + 1)});
        else
            plain.push_back(e);
    }
    if (!o.env_file.empty()) {
        PITOOL_TRY_ASSIGN(auto from_file, read_env_file(o.env_file));
        pairs.insert(pairs.end(), from_file.begin(), from_file.end());
    }
    if (pairs.empty()) {
        // exec NAME [--env VAR] -- COMMAND
        if (plain.size() > 1)
            return make_error(Errc::usage, "give --env once with a NAME, or as VAR=NAME for each token");
        if (o.name.empty())
            return make_error(Errc::usage, "no integration given: pitool exec NAME -- COMMAND [ARGS...]");
        PITOOL_TRY(core::validate_name(o.name));
        Binding b{plain.empty() ? "PITOOL_TOKEN" : plain.front(), o.name};
        PITOOL_TRY(check_var(b.var));
        return std::vector<Binding>{std::move(b)};
    }
    // exec --env VAR=NAME... [--env-file FILE] -- COMMAND: every word is the command's.
    if (!plain.empty())
        return make_error(Errc::usage, "--env " + plain.front() + " without =NAME cannot be mixed with VAR=NAME pairs");
    if (o.old) return make_error(Errc::usage, "--old goes with a single NAME, not with VAR=NAME pairs");
    if (!ctx.after_separator && !o.name.empty())
        return make_error(Errc::usage, "put -- before the command: pitool exec --env VAR=NAME -- COMMAND [ARGS...]");
    if (!o.name.empty())
        return make_error(Errc::usage, "with --env VAR=NAME, give no NAME before --: each pair names its integration");
    for (std::size_t i = 0; i < pairs.size(); ++i) {
        PITOOL_TRY(check_var(pairs[i].var));
        PITOOL_TRY(core::validate_name(pairs[i].name));
        for (std::size_t j = 0; j < i; ++j)
            if (pairs[j].var == pairs[i].var)
                return make_error(Errc::usage, "--env " + pairs[i].var + " is given twice");
    }
    return pairs;
}

/// "VAR=token" in guarded memory, kept until exec replaces this process.
Secret entry_of(const std::string& var, const Secret& token)
{
    Secret entry(var.size() + 1 + token.size() + 1);
    std::memcpy(entry.data(), var.data(), var.size());
    entry.data()[var.size()] = '=';
    std::memcpy(entry.data() + var.size() + 1, token.data(), token.size());
    return entry;
}

Status run_exec(Context& ctx, ExecOptions o)
{
    if (ctx.after_separator)
        o.command.insert(o.command.end(), ctx.after_separator->begin(), ctx.after_separator->end());
    PITOOL_TRY_ASSIGN(const auto bindings, bindings_of(ctx, o));
    if (o.command.empty()) return make_error(Errc::usage, "no command given: pitool exec NAME -- COMMAND [ARGS...]");
    Session s(ctx);
    // Each token is copied out at once: a later auto-refresh replaces the
    // session's vault, and with it the records earlier choices point into.
    std::vector<Secret> entries;
    for (const auto& b : bindings) {
        PITOOL_TRY_ASSIGN(const TokenChoice chosen, choose_token(s, b.name, o.old, o.fail_if_due));
        entries.push_back(entry_of(b.var, chosen.token->value));
    }

    std::vector<char*> envp;
    for (char** e = environ; *e != nullptr; ++e)
        if (!scrubbed(*e, bindings)) envp.push_back(*e);
    for (auto& e : entries) envp.push_back(reinterpret_cast<char*>(e.data()));
    envp.push_back(nullptr);
    std::vector<std::string> args = o.command;
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    ctx.out.flush();
    ctx.err.flush();
    ::execvpe(argv[0], argv.data(), envp.data());
    int err = errno;
    return make_error(err == ENOENT ? Errc::not_found : Errc::io,
                      "cannot run " + o.command[0] + ": " + util::errno_text(err));
}

} // namespace

Handler setup_exec(CLI::App& sub)
{
    auto o = std::make_shared<ExecOptions>();
    sub.add_option("name", o->name, "Integration name (not with --env VAR=NAME)");
    sub.add_option("command", o->command, "-- COMMAND [ARGS...]");
    sub.add_option("--env", o->env,
                   "VAR: the variable that carries NAME's token (default PITOOL_TOKEN); or VAR=NAME, repeatable, "
                   "one variable per token (then no positional NAME)")
        ->allow_extra_args(false); // one value per --env: never the NAME or command after it
    sub.add_option("--env-file", o->env_file, "File of VAR=pitool://NAME lines, one variable per token");
    sub.add_flag("--old", o->old, "Pass the previous token, while its rotation window is open");
    add_fail_if_due_flag(sub, o->fail_if_due);
    return [o](Context& ctx) { return run_exec(ctx, *o); };
}

} // namespace pitool::cli::commands
