#include "cli/agent_link.hpp"
#include "cli/commands/commands.hpp"
#include "cli/generations.hpp"
#include "cli/log.hpp"
#include "cli/output.hpp"
#include "cli/session.hpp"

#include <CLI/CLI.hpp>

#include <ostream>

namespace pitool::cli::commands {
namespace {

struct UnlockOptions {
    std::string ttl = "8h";
    std::string idle;
    bool status = false;
};

/// "8h", "15m", "1d 2h", "45s": the largest two units.
std::string duration_text(Seconds s)
{
    long long v = s.count();
    const std::pair<long long, const char*> units[] = {{86'400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}};
    std::string out;
    int parts = 0;
    for (const auto& [size, name] : units) {
        if (v >= size && parts < 2) {
            out += (out.empty() ? "" : " ") + std::to_string(v / size) + name;
            v %= size;
            ++parts;
        } else if (parts > 0) {
            ++parts; // only adjacent units: "1d 30s" would read oddly
        }
    }
    return out.empty() ? "0s" : out;
}

Result<Seconds> positive_duration(std::string_view text, std::string_view what)
{
    auto d = parse_duration(text);
    if (!d) return make_error(Errc::usage, std::string(what) + ": " + d.error().message);
    if (d.value().count() <= 0) return make_error(Errc::usage, std::string(what) + " must be longer than 0 s");
    return d.value();
}

Status run_status(Context& ctx)
{
    const auto socket = agent_socket(ctx);
    const std::string vault = agent::vault_id(resolve_vault_path(ctx));
    auto st = agent::status(socket);
    if (!st && st.error().code != Errc::not_found) return std::move(st).error();
    const agent::AgentStatus* s = st ? &st.value() : nullptr;
    const agent::AgentStatus::Entry* mine = s != nullptr ? s->find(vault) : nullptr;
    if (ctx.opts.json) {
        nlohmann::json keys = nlohmann::json::array();
        if (s != nullptr)
            for (const auto& e : s->keys)
                keys.push_back(
                    {{"vault", e.vault}, {"expires_in_s", e.expires_in.count()}, {"idle_left_s", e.idle_left.count()}});
        nlohmann::json j{
            {"agent_running", s != nullptr}, {"vault", vault}, {"unlocked", mine != nullptr}, {"keys", keys}};
        if (s != nullptr) j["pid"] = s->pid;
        print_json(ctx, j);
        return {};
    }
    if (s == nullptr) {
        ctx.out << "No agent is running: " << vault << " is locked\n";
        return {};
    }
    ctx.out << "Agent running (pid " << s->pid << ") holding " << s->keys.size()
            << (s->keys.size() == 1 ? " key\n" : " keys\n");
    if (mine != nullptr)
        ctx.out << vault << " is unlocked for " << duration_text(mine->expires_in) << " (idle timeout in "
                << duration_text(mine->idle_left) << ")\n";
    else
        ctx.out << vault << " is locked\n";
    return {};
}

Status run_unlock(Context& ctx, const UnlockOptions& o)
{
    if (o.status) return run_status(ctx);
    agent::KeyTimes times;
    PITOOL_TRY_ASSIGN(auto ttl, positive_duration(o.ttl, "--ttl"));
    times.ttl = ttl;
    if (times.ttl > agent::k_max_key_ttl)
        return make_error(Errc::usage, "--ttl: at most 24h (the agent holds no key longer)");
    std::string idle_text = o.idle;
    if (idle_text.empty())
        if (const char* v = ctx.env.get("PITOOL_AGENT_IDLE"); v != nullptr) idle_text = v;
    if (!idle_text.empty()) {
        PITOOL_TRY_ASSIGN(auto idle, positive_duration(idle_text, o.idle.empty() ? "PITOOL_AGENT_IDLE" : "--idle"));
        times.idle = idle;
    }

    Session s(ctx);
    // Always the passphrase, never the agent: otherwise anyone who can reach
    // the agent could extend an unlock forever without knowing it.
    PITOOL_TRY_ASSIGN(auto pass, s.passphrase());
    PITOOL_TRY_ASSIGN(auto v, open_with_passphrase(ctx, s.storage(), *pass));
    PITOOL_TRY(check_generation_unlocked(ctx, v, s.storage(), s.storage().path()));
    PITOOL_TRY_ASSIGN(
        auto kept, agent::store_key(agent_socket(ctx), s.storage().path(), v.data_key(), times, agent_launcher(ctx)));
    debug(ctx, "agent: holding the key at " + agent_socket(ctx).string());

    // An earlier unlock of this vault may have a shorter life: the agent keeps it.
    const bool shortened = kept.ttl < times.ttl || kept.idle < times.idle;
    const std::string vault = agent::vault_id(s.storage().path());
    if (ctx.opts.json)
        print_json(ctx, {{"vault", vault},
                         {"unlocked", true},
                         {"ttl_s", kept.ttl.count()},
                         {"idle_s", kept.idle.count()},
                         {"kept_earlier_limit", shortened}});
    else if (!ctx.opts.quiet)
        // An idle limit no shorter than the lifetime never acts: not worth a word.
        ctx.out << "Unlocked " << vault << " for " << duration_text(kept.ttl) << " ("
                << (kept.idle < kept.ttl ? "locks after " + duration_text(kept.idle) + " unused; " : std::string())
                << "`pitool lock` to lock now)"
                << (shortened ? "; an earlier unlock's shorter limit stands (`pitool lock` first to unlock for longer)"
                              : "")
                << "\n";
    return {};
}

} // namespace

Handler setup_unlock(CLI::App& sub)
{
    auto o = std::make_shared<UnlockOptions>();
    sub.footer("Trust model: the agent (socket: $PITOOL_AGENT_SOCKET, else $XDG_RUNTIME_DIR/pitool/agent.sock,\n"
               "else ~/.cache/pitool-agent/agent.sock) protects the key from other users (it serves only your\n"
               "uid, from a 0700 directory), from the disk, argv and environment (it is never written there),\n"
               "from ptrace and core dumps, from being kept past this unlock's limits (a later store never\n"
               "extends them; never more than 24h) and from floods (at most 64 keys). It does NOT protect\n"
               "against any process running as you while the vault is unlocked: such a process can ask for the\n"
               "key, decrypt the vault and keep the key (it opens nothing written after the next `pitool passwd`,\n"
               "which makes a new key and hands it to the agent with this unlock's limits). `pitool lock` when done.");
    sub.add_option("--ttl", o->ttl,
                   "Keep the vault unlocked at most this long: 30s, 15m, 2h, 1d (default 8h; at most 24h)");
    sub.add_option("--idle", o->idle,
                   "Lock when the key has not been used this long (default $PITOOL_AGENT_IDLE or 15m)");
    sub.add_flag("--status", o->status, "Say whether an agent runs and whether this vault is unlocked");
    return [o](Context& ctx) { return run_unlock(ctx, *o); };
}

} // namespace pitool::cli::commands
