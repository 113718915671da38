#include "cli/commands/commands.hpp"
#include "cli/common.hpp"
#include "cli/network.hpp"
#include "cli/session.hpp"
#include "pitool/core/lifecycle.hpp"
#include "pitool/util/fs.hpp"

#include <CLI/CLI.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <ostream>
#include <string_view>

extern char** environ;

namespace pitool::cli::commands {
namespace {

struct ExecOptions {
    std::string name;
    std::string env_var = "PITOOL_TOKEN";
    bool old = false;
    std::vector<std::string> command;
};

/// Variables that hold or point at pitool's own secrets: never inherited.
constexpr const char* k_scrubbed[] = {"PITOOL_PASSPHRASE", "PITOOL_PASSPHRASE_FILE", "PITOOL_NEW_PASSPHRASE",
                                      "PITOOL_NEW_PASSPHRASE_FILE", "PITOOL_AUTH_CODE"};

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

bool scrubbed(const char* entry, const std::string& var)
{
    auto matches = [entry](std::string_view name) {
        return std::strncmp(entry, name.data(), name.size()) == 0 && entry[name.size()] == '=';
    };
    for (const char* name : k_scrubbed)
        if (matches(name)) return true;
    return matches(var);
}

Status run_exec(Context& ctx, const ExecOptions& o)
{
    PITOOL_TRY(core::validate_name(o.name));
    if (!valid_env_name(o.env_var)) return make_error(Errc::usage, "--env must be a variable name like PITOOL_TOKEN");
    if (read_at_startup(o.env_var))
        return make_error(Errc::usage,
                          "--env " + o.env_var +
                              " is read by the dynamic loader or a shell at start-up: choose another name");
    if (o.command.empty()) return make_error(Errc::usage, "no command given: pitool exec NAME -- COMMAND [ARGS...]");
    Session s(ctx);
    auto chosen = choose_token(s, o.name, o.old);
    if (!chosen) return std::move(chosen).error();
    const core::Token* token = chosen->token;
    // VAR=token lives in guarded memory until exec replaces this process.
    Secret entry(o.env_var.size() + 1 + token->value.size() + 1);
    std::memcpy(entry.data(), o.env_var.data(), o.env_var.size());
    entry.data()[o.env_var.size()] = '=';
    std::memcpy(entry.data() + o.env_var.size() + 1, token->value.data(), token->value.size());

    std::vector<char*> envp;
    for (char** e = environ; *e != nullptr; ++e)
        if (!scrubbed(*e, o.env_var)) envp.push_back(*e);
    envp.push_back(reinterpret_cast<char*>(entry.data()));
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
    sub.add_option("name", o->name, "Integration name")->required();
    sub.add_option("--env", o->env_var, "Variable that carries the token (default PITOOL_TOKEN)");
    sub.add_flag("--old", o->old, "Pass the previous token, while its rotation window is open");
    sub.add_option("command", o->command, "-- COMMAND [ARGS...]")->required();
    return [o](Context& ctx) { return run_exec(ctx, *o); };
}

} // namespace pitool::cli::commands
