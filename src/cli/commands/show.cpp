#include "cli/commands/commands.hpp"
#include "cli/common.hpp"
#include "cli/config.hpp"
#include "cli/output.hpp"
#include "cli/session.hpp"

#include <CLI/CLI.hpp>

namespace pitool::cli::commands {
namespace {

struct ShowOptions {
    std::string name;
};

Status run_show(Context& ctx, const ShowOptions& o)
{
    PITOOL_TRY(core::validate_name(o.name));
    Session s(ctx);
    PITOOL_TRY_ASSIGN(auto opened, s.open());
    vault::Vault& v = *opened;
    PITOOL_TRY_ASSIGN(auto in, find_integration(v, o.name, false));
    if (ctx.opts.json)
        print_json(ctx, integration_json(*in, ctx.clock.now()));
    else
        print_integration(ctx.out, *in, ctx.clock.now(), policy_for(ctx, *in));
    return {};
}

} // namespace

Handler setup_show(CLI::App& sub)
{
    auto o = std::make_shared<ShowOptions>();
    sub.add_option("name", o->name, "Integration name")->required();
    return [o](Context& ctx) { return run_show(ctx, *o); };
}

} // namespace pitool::cli::commands
