// expire-old: ends an open rotation window now; the old token stops being
// valid and the new one is the only one (core::expire_old).
#include "cli/commands/commands.hpp"
#include "cli/common.hpp"
#include "cli/output.hpp"
#include "cli/session.hpp"
#include "pitool/core/lifecycle.hpp"

#include <CLI/CLI.hpp>

#include <ostream>

namespace pitool::cli::commands {
namespace {

struct ExpireOldOptions {
    std::string name;
};

Status run_expire_old(Context& ctx, const ExpireOldOptions& o)
{
    Session s(ctx);
    const auto now = ctx.clock.now();
    std::string kept, dropped;
    PITOOL_TRY_ASSIGN(auto* v, change_open_window(s, o.name, [&](vault::Vault& vault, core::Integration& i) -> Status {
                          kept = i.token.fingerprint;
                          dropped = i.rotation->old.fingerprint;
                          PITOOL_TRY(core::expire_old(i, now));
                          record_event(ctx, vault.payload(), "expire-old", o.name, dropped, "old token expired now");
                          return {};
                      }));
    if (ctx.opts.json) {
        print_json(ctx, integration_json(*v->payload().find(o.name), now));
    } else {
        ctx.out << "Expired the old token " << dropped << " of " << o.name << "; token " << kept
                << " is the only one\n";
    }
    return {};
}

} // namespace

Handler setup_expire_old(CLI::App& sub)
{
    auto o = std::make_shared<ExpireOldOptions>();
    sub.add_option("name", o->name, "Integration name")->required();
    return [o](Context& ctx) { return run_expire_old(ctx, *o); };
}

} // namespace pitool::cli::commands
