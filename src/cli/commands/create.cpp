#include "cli/commands/commands.hpp"
#include "cli/common.hpp"
#include "cli/guide.hpp"
#include "cli/input.hpp"
#include "cli/network.hpp"
#include "cli/output.hpp"
#include "cli/session.hpp"
#include "cli/validate.hpp"

#include <CLI/CLI.hpp>

#include <ostream>

namespace pitool::cli::commands {
namespace {

struct CreateOptions {
    std::string name;
    std::string provider;
    std::string kind;
    std::vector<std::string> scopes;
    std::string description;
    std::string location;
    std::string company;
    std::string practice;
    std::string base_url;
    std::string client_id;
    std::string token_file;
    bool token_stdin = false;
    bool strict_scopes = false;
    bool verify = false;
};

Result<core::Integration> build(Context& ctx, const CreateOptions& o)
{
    PITOOL_TRY(core::validate_name(o.name));
    PITOOL_TRY_ASSIGN(const auto provider_kind, parse_provider_kind(o.provider, o.kind));
    const auto [provider, kind] = provider_kind;
    if (kind == core::Kind::oauth)
        return make_error(Errc::usage, "oauth token sets are stored by exchange-code, not create");

    core::Integration in;
    in.name = o.name;
    in.provider = provider;
    in.kind = kind;
    PITOOL_TRY(core::validate_text("description", o.description, 1024));
    in.description = o.description;

    PITOOL_TRY_ASSIGN(auto account, resolve_account(in.provider, kind, o.location, o.company, o.practice));
    in.level = account.first;
    in.account_id = account.second;

    if (kind == core::Kind::oauth_app) {
        if (o.client_id.empty()) return make_error(Errc::usage, "an oauth-app needs --client-id");
        PITOOL_TRY(validate_identifier("client id", o.client_id));
        in.client_id = o.client_id;
    } else if (!o.client_id.empty()) {
        return make_error(Errc::usage, "--client-id applies to kind oauth-app only");
    }

    PITOOL_TRY_ASSIGN(auto scopes, normalize_scopes(ctx, in.provider, o.scopes, o.strict_scopes));
    in.scopes = std::move(scopes);

    PITOOL_TRY_ASSIGN(auto base, resolve_base_url(in.provider, o.base_url));
    in.base_url = std::move(base);

    if (shows_token_steps(ctx, o.token_stdin, o.token_file)) print_token_steps(ctx, in, TokenAction::create);
    std::string what = kind == core::Kind::oauth_app ? "Client secret for " : "Token for ";
    PITOOL_TRY_ASSIGN(auto token, read_token(ctx, o.token_stdin, o.token_file, what + o.name + ": "));
    PITOOL_TRY(core::validate_token(token));
    warn_token_shape(ctx, kind, token);

    auto now = ctx.clock.now();
    in.created_at = now;
    in.token = core::make_token(std::move(token), now);
    return in;
}

Status run_create(Context& ctx, const CreateOptions& o)
{
    PITOOL_TRY_ASSIGN(auto built, build(ctx, o));
    Session s(ctx);
    if (o.verify) {
        // Spend no test call on a name that cannot be stored (mutate checks again).
        PITOOL_TRY_ASSIGN(vault::Vault * opened, s.open());
        PITOOL_TRY_ASSIGN(const bool exists, opened->contains(o.name));
        if (exists) return make_error(Errc::conflict, "an integration named '" + o.name + "' already exists");
        PITOOL_TRY(verify_token(ctx, built, built.token.value));
    }
    std::string fp;
    PITOOL_TRY_ASSIGN(vault::Vault * saved, s.mutate([&](vault::Vault& vault) -> Status {
        auto& p = vault.payload();
        PITOOL_TRY_ASSIGN(auto exists, vault.contains(o.name));
        if (exists) return make_error(Errc::conflict, "an integration named '" + o.name + "' already exists");
        fp = built.token.fingerprint;
        record_event(ctx, p, "create", o.name, fp,
                     std::string(core::to_string(built.provider)) + " " + std::string(core::to_string(built.kind)));
        p.integrations.push_back(std::move(built));
        return {};
    }));
    vault::Vault& v = *saved;
    const auto* in = v.payload().find(o.name);
    if (ctx.opts.json) {
        print_json(ctx, integration_json(*in, ctx.clock.now()));
    } else {
        ctx.out << "Stored " << in->name << " (" << core::to_string(in->provider) << " " << core::to_string(in->kind)
                << "), token " << fp << "\n";
    }
    return {};
}

} // namespace

Handler setup_create(CLI::App& sub)
{
    auto o = std::make_shared<CreateOptions>();
    sub.add_option("name", o->name, "Integration name: [a-z0-9][a-z0-9._-]{0,63}")->required();
    sub.add_option("--provider", o->provider, "leadconnector or hint")->required();
    sub.add_option("--kind", o->kind,
                   "pit (default for leadconnector), oauth-app, partner-key (default for hint), practice-key");
    sub.add_option("--scope", o->scopes, "A scope (repeat, or separate with spaces or commas)");
    sub.add_option("--description", o->description, "What the credential is for");
    auto* loc = sub.add_option("--location", o->location, "Sub-account (location) id: a location-level token");
    auto* comp = sub.add_option("--company", o->company, "Agency (company) id: an agency-level token");
    loc->excludes(comp);
    sub.add_option("--practice", o->practice, "Hint practice id (practice-key)");
    sub.add_option("--base-url", o->base_url, "API base URL: scheme://host[:port] (default: the provider's)");
    sub.add_option("--client-id", o->client_id, "OAuth client id (oauth-app; the client secret is the token)");
    auto* ts = sub.add_flag("--token-stdin", o->token_stdin, "Read the token from standard input");
    auto* tf = sub.add_option("--token-file", o->token_file, "Read the token from a file");
    ts->excludes(tf);
    sub.add_flag("--strict-scopes", o->strict_scopes, "Refuse scopes missing from the catalogue");
    sub.add_flag("--verify", o->verify, "Test-call the token first; refuse it if the provider rejects it");
    return [o](Context& ctx) { return run_create(ctx, *o); };
}

} // namespace pitool::cli::commands
