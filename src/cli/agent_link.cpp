#include "cli/agent_link.hpp"

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
    if (!agent_enabled(ctx)) return std::nullopt;
    auto key = agent::fetch_key(agent_socket(ctx), storage.path());
    if (!key) {
        if (key.error().code != Errc::not_found) debug(ctx, "agent: " + key.error().message + "; using the passphrase");
        return std::nullopt;
    }
    auto v = vault::Vault::open_with_key(storage, std::move(key).value());
    if (!v) {
        debug(ctx, "agent: " + v.error().message + "; using the passphrase");
        return std::nullopt;
    }
    return std::move(v).value();
}

agent::Launcher agent_launcher()
{
    // /proc/self/exe: this very binary, even if PATH or argv[0] say otherwise.
    return agent::Launcher{"/proc/self/exe", {"pitool", "__agent"}};
}

} // namespace pitool::cli
