// pitool identity: the group of `identity new` and `identity show`
// (identity_new.cpp, identity_show.cpp). It only declares the two
// subcommands and runs the one that was given.
#include "cli/commands/commands.hpp"

#include <CLI/CLI.hpp>

namespace pitool::cli::commands {

Handler setup_identity(CLI::App& sub)
{
    sub.require_subcommand(1);
    CLI::App* make = sub.add_subcommand("new", "Make an identity and print its recipient string");
    CLI::App* show = sub.add_subcommand("show", "Print the recipient string of the identity in force");
    // Global options (--json, --identity...) may follow the subcommand too.
    make->fallthrough();
    show->fallthrough();
    Handler run_new = setup_identity_new(*make);
    Handler run_show = setup_identity_show(*show);
    return [make, run_new, run_show](Context& ctx) { return make->parsed() ? run_new(ctx) : run_show(ctx); };
}

} // namespace pitool::cli::commands
