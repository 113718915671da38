#include "cli/network.hpp"

#include "cli/common.hpp"
#include "cli/config.hpp"
#include "cli/due.hpp"
#include "cli/log.hpp"
#include "cli/net_loader.hpp"
#include "pitool/core/binding.hpp"
#include "pitool/core/lifecycle.hpp"
#include "pitool/providers/grants.hpp"
#include "pitool/providers/test_call.hpp"

#include <unistd.h>

namespace pitool::cli {

namespace {

std::chrono::milliseconds http_timeout(const Context& ctx)
{
    return http_timeout_in_force(ctx).value;
}

} // namespace

std::chrono::milliseconds network_lock_wait(const Context& ctx)
{
    return http_timeout(ctx) * 2;
}

Result<std::unique_ptr<http::Client>> make_client(Context& ctx)
{
    http::ClientOptions o;
    o.ca_bundle = ctx.opts.cacert;
    if (o.ca_bundle.empty())
        if (const char* c = ctx.env.get("PITOOL_CA_BUNDLE"); c != nullptr) o.ca_bundle = c;
    if (!o.ca_bundle.empty() && ::access(o.ca_bundle.c_str(), R_OK) != 0)
        return make_error(Errc::usage, "cannot read CA bundle " + o.ca_bundle);
    o.total_timeout = http_timeout(ctx);
    o.connect_timeout = http_connect_timeout_in_force(ctx).value;
    o.user_agent = "pitool/" PITOOL_VERSION;
    o.debug_log = http_debug_sink(ctx);
    o.trace_log = http_trace_sink(ctx);
    if (ctx.http_factory) return ctx.http_factory(o);
    return load_network_client(o);
}

bool needs_refresh(const core::Integration& in, Timestamp now)
{
    return in.kind == core::Kind::oauth && in.oauth && in.oauth->refresh_token &&
           (!in.oauth->access_expires_at || *in.oauth->access_expires_at <= now + k_refresh_margin);
}

Result<RefreshResult> refresh_oauth(Session& s, http::Client& client, const std::string& name, bool force)
{
    Context& ctx = s.ctx();
    RefreshResult out;
    PITOOL_TRY(s.mutate_if(
        [&](vault::Vault& v) -> Result<bool> {
            PITOOL_TRY_ASSIGN(const core::Integration* found, find_integration(v, name));
            // Load the app too before holding references: loading moves records.
            if (found->oauth) PITOOL_TRY(v.load(found->oauth->app));
            core::Integration& in = *v.payload().find(name);
            if (in.kind != core::Kind::oauth)
                return make_error(Errc::usage, "'" + name + "' is not an OAuth token set (kind oauth)");
            if (!in.oauth || !in.oauth->refresh_token)
                return make_error(Errc::conflict, "'" + name + "' has no refresh token");
            auto now = ctx.clock.now();
            if (!force && !needs_refresh(in, now)) {
                // Someone refreshed it while we waited for the lock.
                out.fingerprint = in.token.fingerprint;
                out.expires_at = in.oauth->access_expires_at.value_or(now);
                return false;
            }
            const core::Integration* app_found = v.payload().find(in.oauth->app);
            if (app_found == nullptr)
                return make_error(Errc::not_found, "the OAuth app '" + in.oauth->app + "' that '" + name +
                                                       "' came from is no longer in the vault");
            PITOOL_TRY(core::check_credential_binding(in, app_found));
            const core::Integration& app = *app_found;
            providers::leadconnector::AppCredentials creds{app.base_url, app.client_id, &app.token.value};
            PITOOL_TRY_ASSIGN(auto grant, providers::leadconnector::refresh(client, creds, *in.oauth->refresh_token,
                                                                            in.oauth->user_type));
            // The old refresh token is spent: the new pair is saved before
            // anything else happens (mutate_if saves on return).
            providers::apply_refresh(in, std::move(grant), now);
            out.refreshed = true;
            out.fingerprint = in.token.fingerprint;
            out.expires_at = *in.oauth->access_expires_at;
            record_event(ctx, v.payload(), "refresh", name, out.fingerprint,
                         "access token valid until " + format_rfc3339(out.expires_at));
            return true;
        },
        network_lock_wait(ctx)));
    return out;
}

Result<const core::Integration*> refresh_expiring(Session& s, const std::string& name)
{
    PITOOL_TRY_ASSIGN(auto client, make_client(s.ctx()));
    PITOOL_TRY(refresh_oauth(s, *client, name, false));
    PITOOL_TRY_ASSIGN(vault::Vault * opened, s.open());
    PITOOL_TRY_ASSIGN(const core::Integration* found, find_integration(*opened, name));
    return found;
}

Status verify_token(Context& ctx, const core::Integration& in, const Secret& token)
{
    PITOOL_TRY_ASSIGN(const auto spec, providers::default_call(in));
    PITOOL_TRY_ASSIGN(const auto client, make_client(ctx));
    PITOOL_TRY_ASSIGN(const auto outcome, providers::test_call(*client, in, token, spec));
    if (!outcome.ok)
        return make_error(providers::errc_for(outcome.failure), "the provider rejected the new token (HTTP " +
                                                                    std::to_string(outcome.status) + ", " +
                                                                    outcome.summary + "); nothing was stored");
    if (!ctx.opts.quiet) ctx.err << "pitool: verified the new token: " << outcome.summary << "\n";
    return {};
}

Result<TokenChoice> choose_token(Session& s, const std::string& name, bool old, bool fail_if_due)
{
    PITOOL_TRY_ASSIGN(vault::Vault * opened, s.open());
    PITOOL_TRY_ASSIGN(const core::Integration* in, find_integration(*opened, name));
    PITOOL_TRY(check_due(s.ctx(), *in, fail_if_due));
    auto now = s.ctx().clock.now();
    if (old) {
        if (!core::window_open(*in, now))
            return make_error(Errc::conflict, "no rotation window is open for '" + name + "': there is no old token");
        return TokenChoice{in, &in->rotation->old};
    }
    if (needs_refresh(*in, now)) {
        // The refresh replaces the session's vault: take pointers afresh.
        PITOOL_TRY_ASSIGN(in, refresh_expiring(s, name));
    }
    return TokenChoice{in, &in->token};
}

} // namespace pitool::cli
