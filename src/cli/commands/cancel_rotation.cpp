// cancel-rotation and expire-old: the two ways to end an open rotation window.
#include "cli/commands/commands.hpp"
#include "cli/common.hpp"
#include "cli/output.hpp"
#include "cli/session.hpp"
#include "pitool/core/lifecycle.hpp"

#include <CLI/CLI.hpp>

#include <ostream>

namespace pitool::cli::commands {
namespace {

struct WindowOptions {
    std::string name;
};

enum class WindowAction { cancel, expire };

Status run_window(Context& ctx, const WindowOptions& o, WindowAction action)
{
    PITOOL_TRY(core::validate_name(o.name));
    Session s(ctx);
    auto now = ctx.clock.now();
    std::string kept, dropped;
    auto saved = s.mutate([&](vault::Vault& vault) -> Status {
        auto in = find_integration(vault, o.name);
        if (!in) return std::move(in).error();
        auto& i = *in.value();
        if (!core::window_open(i, now))
            return make_error(Errc::conflict, "no rotation window is open for '" + o.name + "'");
        if (action == WindowAction::cancel) {
            kept = i.rotation->old.fingerprint;
            dropped = i.token.fingerprint;
            PITOOL_TRY(core::cancel_rotation(i, now));
            record_event(ctx, vault.payload(), "cancel-rotation", o.name, kept,
                         "new token " + dropped + " discarded; old token current again");
        } else {
            kept = i.token.fingerprint;
            dropped = i.rotation->old.fingerprint;
            PITOOL_TRY(core::expire_old(i, now));
            record_event(ctx, vault.payload(), "expire-old", o.name, dropped, "old token expired now");
        }
        return {};
    });
    if (!saved) return std::move(saved).error();
    vault::Vault& v = *saved.value();
    if (ctx.opts.json) {
        print_json(ctx, integration_json(*v.payload().find(o.name), now));
    } else if (action == WindowAction::cancel) {
        ctx.out << "Cancelled rotation of " << o.name << ": token " << kept << " is current again; token " << dropped
                << " discarded\n";
    } else {
        ctx.out << "Expired the old token " << dropped << " of " << o.name << "; token " << kept
                << " is the only one\n";
    }
    return {};
}

Handler setup_window(CLI::App& sub, WindowAction action)
{
    auto o = std::make_shared<WindowOptions>();
    sub.add_option("name", o->name, "Integration name")->required();
    return [o, action](Context& ctx) { return run_window(ctx, *o, action); };
}

} // namespace

Handler setup_cancel_rotation(CLI::App& sub)
{
    return setup_window(sub, WindowAction::cancel);
}

Handler setup_expire_old(CLI::App& sub)
{
    return setup_window(sub, WindowAction::expire);
}

} // namespace pitool::cli::commands
