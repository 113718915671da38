#include "cli/commands/commands.hpp"
#include "cli/common.hpp"
#include "cli/input.hpp"
#include "cli/network.hpp"
#include "cli/output.hpp"
#include "cli/validate.hpp"
#include "pitool/core/binding.hpp"
#include "pitool/core/lifecycle.hpp"
#include "pitool/providers/grants.hpp"

#include <CLI/CLI.hpp>

#include <ostream>

namespace pitool::cli::commands {
namespace {

struct ExchangeOptions {
    std::string provider;
    std::string app;
    std::string partner;
    std::string name;
    std::string code_in_argv;
    bool code_stdin = false;
    std::string code_file;
    std::string user_type;
    std::string redirect_uri;
    std::string description;
    bool no_activate = false;
};

/// The authorization code: --code-stdin, --code-file, or PITOOL_AUTH_CODE.
Result<Secret> read_code(Context& ctx, const ExchangeOptions& o)
{
    if (!o.code_in_argv.empty())
        return make_error(Errc::usage, "an authorization code is a secret and must not be passed in argv: use "
                                       "--code-stdin, --code-file PATH or PITOOL_AUTH_CODE");
    if (o.code_stdin && !o.code_file.empty())
        return make_error(Errc::usage, "give the code with --code-stdin or --code-file, not both");
    Result<Secret> code = make_error(Errc::usage, "no authorization code: use --code-stdin, --code-file PATH or "
                                                  "set PITOOL_AUTH_CODE");
    if (o.code_stdin)
        code = read_secret_stream(ctx.in, "authorization code");
    else if (!o.code_file.empty())
        code = read_secret_file(o.code_file, "authorization code");
    else if (const char* c = ctx.env.get("PITOOL_AUTH_CODE"); c != nullptr && *c != '\0')
        code = Secret::from(std::string_view(c));
    if (!code) return code;
    if (code->size() > 4096) return make_error(Errc::usage, "authorization code is too long");
    for (char c : code->view())
        if (c <= 0x20 || c >= 0x7F)
            return make_error(Errc::usage, "authorization code contains whitespace or control characters");
    return code;
}

Status run_exchange(Context& ctx, const ExchangeOptions& o)
{
    PITOOL_TRY_ASSIGN(const core::Provider provider, core::parse_provider(o.provider));
    const bool lc = provider == core::Provider::leadconnector;
    const std::string& source = lc ? o.app : o.partner;
    if (lc && (!o.partner.empty() || o.no_activate))
        return make_error(Errc::usage, "--partner and --no-activate apply to --provider hint");
    if (!lc && (!o.app.empty() || !o.user_type.empty() || !o.redirect_uri.empty()))
        return make_error(Errc::usage, "--app, --user-type and --redirect-uri apply to --provider leadconnector");
    if (source.empty())
        return make_error(Errc::usage, lc ? "give --app: the oauth-app integration holding the client id and secret"
                                          : "give --partner: the partner-key integration");
    PITOOL_TRY(core::validate_name(source));
    PITOOL_TRY(core::validate_name(o.name));
    PITOOL_TRY(core::validate_text("description", o.description, 1024));
    if (!o.user_type.empty() && o.user_type != "Location" && o.user_type != "Company")
        return make_error(Errc::usage, "--user-type must be Location or Company");
    PITOOL_TRY(core::validate_text("redirect URI", o.redirect_uri, 2048));

    PITOOL_TRY_ASSIGN(const Secret code, read_code(ctx, o));
    PITOOL_TRY_ASSIGN(const auto client, make_client(ctx));

    Session s(ctx);
    // The code is single-use: exchange it under the vault lock, after every
    // local check, so a valid answer always has somewhere to go.
    PITOOL_TRY_ASSIGN(
        const vault::Vault* saved,
        s.mutate_if(
            [&](vault::Vault& v) -> Result<bool> {
                auto& p = v.payload();
                PITOOL_TRY_ASSIGN(const bool exists, v.contains(o.name));
                if (exists) return make_error(Errc::conflict, "an integration named '" + o.name + "' already exists");
                PITOOL_TRY_ASSIGN(const core::Integration* src, find_integration(v, source));
                const core::Integration& from = *src;
                core::Integration made;
                if (lc) {
                    if (from.provider != core::Provider::leadconnector || from.kind != core::Kind::oauth_app)
                        return make_error(Errc::usage, "'" + source + "' is not a leadconnector oauth-app");
                    providers::leadconnector::AppCredentials creds{from.base_url, from.client_id, &from.token.value};
                    PITOOL_TRY_ASSIGN(auto grant, providers::leadconnector::exchange_code(*client, creds, code,
                                                                                          o.user_type, o.redirect_uri));
                    made = providers::leadconnector_integration({o.name, o.description, ctx.clock.now()}, from, grant);
                } else {
                    if (from.provider != core::Provider::hint || from.kind != core::Kind::partner_key)
                        return make_error(Errc::usage, "'" + source + "' is not a hint partner-key");
                    PITOOL_TRY_ASSIGN(auto grant, providers::hint::exchange_code(
                                                      *client, from.base_url, from.token.value, code, !o.no_activate));
                    made = providers::hint_integration({o.name, o.description, ctx.clock.now()}, from, grant);
                }
                PITOOL_TRY(core::check_credential_binding(made, &from));
                record_event(ctx, p, "exchange-code", o.name, made.token.fingerprint, "from " + source);
                p.integrations.push_back(std::move(made));
                return true;
            },
            network_lock_wait(ctx)));
    const auto* in = saved->payload().find(o.name);
    if (ctx.opts.json) {
        print_json(ctx, integration_json(*in, ctx.clock.now()));
    } else {
        ctx.out << "Stored " << in->name << " (" << core::to_string(in->provider) << " " << core::to_string(in->kind)
                << (in->account_id.empty() ? "" : ", " + in->account_id) << "), token " << in->token.fingerprint;
        if (in->oauth && in->oauth->access_expires_at)
            ctx.out << ", valid until " << human_time(*in->oauth->access_expires_at);
        ctx.out << "\n";
    }
    return {};
}

} // namespace

Handler setup_exchange_code(CLI::App& sub)
{
    auto o = std::make_shared<ExchangeOptions>();
    sub.add_option("--provider", o->provider, "leadconnector or hint")->required();
    sub.add_option("--app", o->app, "leadconnector: the oauth-app integration (client id and secret)");
    sub.add_option("--partner", o->partner, "hint: the partner-key integration");
    sub.add_option("--name", o->name, "Name for the new integration")->required();
    sub.add_option("--code", o->code_in_argv, "Refused: a code in argv leaks; use --code-stdin")->group("");
    auto* cs = sub.add_flag("--code-stdin", o->code_stdin, "Read the authorization code from standard input");
    auto* cf = sub.add_option("--code-file", o->code_file, "Read the authorization code from a file");
    cs->excludes(cf);
    sub.add_option("--user-type", o->user_type, "leadconnector: Location or Company");
    sub.add_option("--redirect-uri", o->redirect_uri, "leadconnector: the redirect URI used to get the code");
    sub.add_option("--description", o->description, "What the new credential is for");
    sub.add_flag("--no-activate", o->no_activate, "hint: keep the integration pending");
    return [o](Context& ctx) { return run_exchange(ctx, *o); };
}

} // namespace pitool::cli::commands
