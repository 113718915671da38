#include "cli/common.hpp"

#include "cli/session.hpp"
#include "pitool/core/lifecycle.hpp"

#include <charconv>
#include <cstring>

namespace pitool::cli {

std::optional<std::filesystem::path> state_dir(const Context& ctx)
{
    if (const char* x = ctx.env.get("XDG_STATE_HOME"); x != nullptr && *x == '/')
        return std::filesystem::path(x) / "pitool";
    if (const char* home = ctx.env.get("HOME"); home != nullptr && *home == '/')
        return std::filesystem::path(home) / ".local" / "state" / "pitool";
    return std::nullopt;
}

Result<core::Integration*> find_integration(vault::Vault& v, const std::string& name, bool secrets)
{
    PITOOL_TRY(core::validate_name(name));
    PITOOL_TRY(v.load(name, secrets));
    auto* in = v.payload().find(name);
    if (in == nullptr) return make_error(Errc::not_found, "no integration named '" + name + "'");
    return in;
}

Result<IntegrationFilter> parse_filter(const std::string& provider, const std::string& kind)
{
    IntegrationFilter f;
    if (!provider.empty()) {
        PITOOL_TRY_ASSIGN(auto p, core::parse_provider(provider));
        f.provider = p;
    }
    if (!kind.empty()) {
        PITOOL_TRY_ASSIGN(auto k, core::parse_kind(kind));
        f.kind = k;
    }
    return f;
}

Result<vault::Vault*> change_open_window(Session& s, const std::string& name,
                                         const std::function<Status(vault::Vault&, core::Integration&)>& change)
{
    PITOOL_TRY(core::validate_name(name));
    const auto now = s.ctx().clock.now();
    return s.mutate([&](vault::Vault& vault) -> Status {
        PITOOL_TRY_ASSIGN(auto* in, find_integration(vault, name));
        if (!core::window_open(*in, now))
            return make_error(Errc::conflict, "no rotation window is open for '" + name + "'");
        return change(vault, *in);
    });
}

void record_event(Context& ctx, core::Payload& p, std::string action, const std::string& name, std::string fingerprint,
                  std::string detail)
{
    core::Event e;
    e.at = ctx.clock.now();
    e.action = std::move(action);
    e.name = name;
    e.fingerprint = std::move(fingerprint);
    e.actor = ctx.actor;
    e.detail = std::move(detail);
    p.record(std::move(e));
}

std::chrono::milliseconds env_seconds(const Context& ctx, const char* name, std::chrono::milliseconds fallback,
                                      SecondsRange range)
{
    if (const char* v = ctx.env.get(name); v != nullptr && *v != '\0') {
        double secs = 0;
        auto [p, ec] = std::from_chars(v, v + std::strlen(v), secs);
        if (ec == std::errc{} && *p == '\0' && (secs > 0 || (range.zero_allowed && secs == 0)) && secs <= range.max)
            return std::chrono::milliseconds(static_cast<long long>(secs * 1000));
    }
    return fallback;
}

} // namespace pitool::cli
