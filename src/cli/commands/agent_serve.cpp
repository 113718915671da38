// `pitool __agent --socket PATH --ready-fd N [--log-file PATH]`: the agent
// process itself, started by `unlock` (agent::store_key). Hidden from help;
// not for people. Its events go to the log file (cli/log.hpp), never a key.

#include "cli/commands/commands.hpp"
#include "cli/log.hpp"
#include "pitool/agent/agent.hpp"

#include <CLI/CLI.hpp>

namespace pitool::cli::commands {
namespace {

struct AgentOptions {
    std::string socket;
    int ready_fd = -1;
    std::string log_file;
};

Status run_agent(const AgentOptions& o)
{
    agent::harden_agent_process();
    agent::ServerOptions so{o.socket, o.ready_fd};
    if (!o.log_file.empty())
        if (LeveledSink log = open_agent_log(o.log_file))
            so.log = [log](bool refusal, std::string_view line) { log(refusal ? Level::warning : Level::info, line); };
    auto st = agent::serve(so);
    if (!st && so.log) so.log(true, "cannot serve: " + st.error().message);
    return st;
}

} // namespace

Handler setup_agent_serve(CLI::App& sub)
{
    sub.group(""); // hidden
    auto o = std::make_shared<AgentOptions>();
    sub.add_option("--socket", o->socket, "Socket path")->required();
    sub.add_option("--ready-fd", o->ready_fd, "Write one byte here once listening");
    sub.add_option("--log-file", o->log_file, "Append the agent's events to this file (mode 0600)");
    return [o](Context&) { return run_agent(*o); };
}

} // namespace pitool::cli::commands
