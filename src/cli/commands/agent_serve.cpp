// `pitool __agent --socket PATH --ready-fd N`: the agent process itself,
// started by `unlock` (agent::store_key). Hidden from help; not for people.

#include "cli/commands/commands.hpp"
#include "pitool/agent/agent.hpp"

#include <CLI/CLI.hpp>

namespace pitool::cli::commands {
namespace {

struct AgentOptions {
    std::string socket;
    int ready_fd = -1;
};

Status run_agent(const AgentOptions& o)
{
    agent::harden_agent_process();
    return agent::serve({o.socket, o.ready_fd});
}

} // namespace

Handler setup_agent_serve(CLI::App& sub)
{
    sub.group(""); // hidden
    auto o = std::make_shared<AgentOptions>();
    sub.add_option("--socket", o->socket, "Socket path")->required();
    sub.add_option("--ready-fd", o->ready_fd, "Write one byte here once listening");
    return [o](Context&) { return run_agent(*o); };
}

} // namespace pitool::cli::commands
