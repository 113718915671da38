// cancel-rotation: ends an open rotation window by making the old token
// current again and discarding the new one (core::cancel_rotation).
#include "cli/commands/commands.hpp"
#include "cli/common.hpp"
#include "cli/output.hpp"
#include "cli/session.hpp"
#include "pitool/core/lifecycle.hpp"

#include <CLI/CLI.hpp>

#include <ostream>

namespace pitool::cli::commands {
namespace {

struct CancelRotationOptions {
    std::string name;
};

Status run_cancel_rotation(Context& ctx, const CancelRotationOptions& o)
{
    Session s(ctx);
    const auto now = ctx.clock.now();
    std::string kept, dropped;
    PITOOL_TRY_ASSIGN(auto* v, change_open_window(s, o.name, [&](vault::Vault& vault, core::Integration& i) -> Status {
                          kept = i.rotation->old.fingerprint;
                          dropped = i.token.fingerprint;
                          PITOOL_TRY(core::cancel_rotation(i, now));
                          record_event(ctx, vault.payload(), "cancel-rotation", o.name, kept,
                                       "new token " + dropped + " discarded; old token current again");
                          return {};
                      }));
    if (ctx.opts.json) {
        print_json(ctx, integration_json(*v->payload().find(o.name), now));
    } else {
        ctx.out << "Cancelled rotation of " << o.name << ": token " << kept << " is current again; token " << dropped
                << " discarded\n";
    }
    return {};
}

} // namespace

Handler setup_cancel_rotation(CLI::App& sub)
{
    auto o = std::make_shared<CancelRotationOptions>();
    sub.add_option("name", o->name, "Integration name")->required();
    return [o](Context& ctx) { return run_cancel_rotation(ctx, *o); };
}

} // namespace pitool::cli::commands
