#include "cli/commands/commands.hpp"
#include "cli/common.hpp"
#include "cli/output.hpp"
#include "cli/session.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <ostream>

namespace pitool::cli::commands {
namespace {

struct DeleteOptions {
    std::string name;
    bool yes = false;
};

Status run_delete(Context& ctx, const DeleteOptions& o)
{
    PITOOL_TRY(core::validate_name(o.name));
    if (!o.yes) return make_error(Errc::usage, "deleting '" + o.name + "' destroys its tokens: add --yes to confirm");
    Session s(ctx);
    std::string fp;
    PITOOL_TRY(s.mutate([&](vault::Vault& vault) -> Status {
        auto& p = vault.payload();
        PITOOL_TRY_ASSIGN(auto in, find_integration(vault, o.name, false));
        fp = in->token.fingerprint;
        std::erase_if(p.integrations, [&](const core::Integration& i) { return i.name == o.name; });
        record_event(ctx, p, "delete", o.name, fp);
        return {};
    }));
    if (ctx.opts.json)
        print_json(ctx, {{"deleted", o.name}, {"fingerprint", fp}});
    else
        ctx.out << "Deleted " << o.name << " (token " << fp << ")\n";
    return {};
}

} // namespace

Handler setup_delete(CLI::App& sub)
{
    auto o = std::make_shared<DeleteOptions>();
    sub.add_option("name", o->name, "Integration name")->required();
    sub.add_flag("--yes", o->yes, "Confirm the deletion");
    return [o](Context& ctx) { return run_delete(ctx, *o); };
}

} // namespace pitool::cli::commands
