#include "cli/commands/commands.hpp"
#include "cli/network.hpp"
#include "cli/output.hpp"

#include <CLI/CLI.hpp>

#include <ostream>

namespace pitool::cli::commands {
namespace {

struct RefreshOptions {
    std::string name;
    bool if_needed = false;
};

Status run_refresh(Context& ctx, const RefreshOptions& o)
{
    PITOOL_TRY(core::validate_name(o.name));
    PITOOL_TRY_ASSIGN(auto client, make_client(ctx));
    Session s(ctx);
    PITOOL_TRY_ASSIGN(auto r, refresh_oauth(s, *client, o.name, !o.if_needed));
    if (ctx.opts.json) {
        PITOOL_TRY_ASSIGN(auto opened, s.open());
        auto j = integration_json(*opened->payload().find(o.name), ctx.clock.now());
        j["refreshed"] = r.refreshed;
        print_json(ctx, j);
    } else if (r.refreshed) {
        ctx.out << "Refreshed " << o.name << ": access token " << r.fingerprint << " valid until "
                << human_time(r.expires_at) << "\n";
    } else {
        ctx.out << "Not refreshed: the access token of " << o.name << " is valid until " << human_time(r.expires_at)
                << "\n";
    }
    return {};
}

} // namespace

Handler setup_refresh(CLI::App& sub)
{
    auto o = std::make_shared<RefreshOptions>();
    sub.add_option("name", o->name, "OAuth integration name")->required();
    sub.add_flag("--if-needed", o->if_needed, "Only refresh when the access token expires within 5 minutes");
    return [o](Context& ctx) { return run_refresh(ctx, *o); };
}

} // namespace pitool::cli::commands
