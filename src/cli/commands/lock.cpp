#include "cli/agent_link.hpp"
#include "cli/commands/commands.hpp"
#include "cli/output.hpp"

#include <CLI/CLI.hpp>

#include <ostream>

namespace pitool::cli::commands {
namespace {

Status run_lock(Context& ctx)
{
    auto stopped = agent::stop(agent_socket(ctx));
    if (!stopped && stopped.error().code != Errc::not_found) return std::move(stopped).error();
    if (ctx.opts.json) {
        print_json(ctx, {{"agent_was_running", stopped.ok()}, {"keys_forgotten", stopped ? stopped.value() : 0}});
        return {};
    }
    if (ctx.opts.quiet) return {};
    if (!stopped)
        ctx.err << "pitool: no agent was running; nothing to lock\n";
    else
        ctx.err << "pitool: the agent forgot " << stopped.value() << (stopped.value() == 1 ? " key" : " keys")
                << " and exited\n";
    return {};
}

} // namespace

Handler setup_lock(CLI::App& /*sub*/)
{
    return [](Context& ctx) { return run_lock(ctx); };
}

} // namespace pitool::cli::commands
