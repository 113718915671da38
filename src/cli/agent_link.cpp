#include "cli/agent_link.hpp"

#include "cli/common.hpp"
#include "cli/log.hpp"

namespace pitool::cli {

std::filesystem::path agent_socket(const Context& ctx)
{
    return agent::socket_path(ctx.env.get("PITOOL_AGENT_SOCKET"), ctx.env.get("XDG_RUNTIME_DIR"), ctx.env.get("HOME"));
}

bool agent_enabled(const Context& ctx)
{
    const char* v = ctx.env.get("PITOOL_NO_AGENT");
    return v == nullptr || *v == '\0' || std::string_view(v) == "0";
}

std::optional<vault::Vault> open_with_agent(const Context& ctx, vault::FileStorage& storage)
{
    if (!agent_enabled(ctx)) {
        debug(ctx, "agent: not asked (PITOOL_NO_AGENT is set)");
        return std::nullopt;
    }
    const auto socket = agent_socket(ctx);
    auto key = agent::fetch_key(socket, storage.path());
    if (!key) {
        debug(ctx, "agent: " +
                       (key.error().code == Errc::not_found ? "no key for this vault at " + socket.string()
                                                            : key.error().message) +
                       "; using the passphrase");
        return std::nullopt;
    }
    auto v = vault::Vault::open_with_key(storage, std::move(key).value());
    if (!v) {
        debug(ctx, "agent: " + v.error().message + "; using the passphrase");
        return std::nullopt;
    }
    debug(ctx, "agent: opened the vault with the key held at " + socket.string() + " (no passphrase needed)");
    return std::move(v).value();
}

Result<AgentKeyUpdate> replace_agent_key(const Context& ctx, const std::filesystem::path& vault, const Secret& key)
{
    if (!agent_enabled(ctx)) {
        debug(ctx, "agent: not asked (PITOOL_NO_AGENT is set); a key it holds for this vault no longer opens it");
        return AgentKeyUpdate::not_held;
    }
    const auto socket = agent_socket(ctx);
    auto st = agent::status(socket);
    if (!st && st.error().code == Errc::not_found) return AgentKeyUpdate::not_held;
    if (!st) return std::move(st).error();
    const std::string id = agent::vault_id(vault);
    const agent::AgentStatus::Entry* held = st.value().find(id);
    if (held == nullptr || held->expires_in.count() <= 0) return AgentKeyUpdate::not_held;
    // The old key's remaining lifetime, and an idle limit the agent lowers to
    // the old key's: a replacement never lives longer than what it replaces
    // (if the old key lapsed in between, the new one lives what was left).
    agent::KeyTimes times{held->expires_in, agent::k_max_key_ttl};
    auto kept = agent::put_key(socket, vault, key, times);
    if (!kept && kept.error().code == Errc::not_found) return AgentKeyUpdate::not_held; // it just exited
    if (!kept) return std::move(kept).error();
    debug(ctx, "agent: replaced the key held for " + id + " (" + std::to_string(kept.value().ttl.count()) + " s left)");
    return AgentKeyUpdate::replaced;
}

std::optional<std::filesystem::path> agent_log_path(const Context& ctx)
{
    if (auto dir = state_dir(ctx)) return *dir / "agent.log";
    return std::nullopt;
}

agent::Launcher agent_launcher(const Context& ctx)
{
    // /proc/self/exe: this very binary, even if PATH or argv[0] say otherwise.
    agent::Launcher launch{"/proc/self/exe", {"pitool", "__agent"}};
    if (auto log = agent_log_path(ctx)) {
        launch.argv.insert(launch.argv.end(), {"--log-file", log->string()});
        debug(ctx, "agent: a new agent logs its events to " + log->string());
    }
    return launch;
}

} // namespace pitool::cli
