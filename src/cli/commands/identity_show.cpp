// pitool identity show: the recipient string of the identity in force
// (--identity, $PITOOL_IDENTITY_FILE, $PITOOL_IDENTITY, the default file).
// Reads only the file's clear part: no passphrase is asked, unless --check
// asks to open the secret keys too (proving the passphrase opens them).
#include "cli/commands/commands.hpp"
#include "cli/identity_source.hpp"
#include "cli/output.hpp"

#include <CLI/CLI.hpp>

#include <memory>
#include <ostream>

namespace pitool::cli::commands {
namespace {

Status run_identity_show(Context& ctx, bool check)
{
    IdentityInfo info;
    if (check) {
        // The secret keys are opened (and dropped) to prove the passphrase.
        PITOOL_TRY(load_identity(ctx, &info));
    } else {
        PITOOL_TRY_ASSIGN(info, identity_info(ctx));
    }
    const std::string recipient = identity::encode_recipient(info.recipient);
    if (ctx.opts.json) {
        print_json(ctx, {{"recipient", recipient},
                         {"source", info.source.origin},
                         {"path", info.source.from_variable ? nlohmann::json(nullptr)
                                                            : nlohmann::json(shown(info.source.path.string()))},
                         {"protected", info.protected_file}});
        return {};
    }
    ctx.out << recipient << '\n';
    return {};
}

} // namespace

Handler setup_identity_show(CLI::App& sub)
{
    auto check = std::make_shared<bool>(false);
    sub.add_flag("--check", *check, "Also open the secret keys (asks the passphrase of a protected identity)");
    return [check](Context& ctx) { return run_identity_show(ctx, *check); };
}

} // namespace pitool::cli::commands
