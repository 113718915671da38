#include "cli/common.hpp"

#include <charconv>
#include <cstring>

namespace pitool::cli {

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
        auto p = core::parse_provider(provider);
        if (!p) return std::move(p).error();
        f.provider = p.value();
    }
    if (!kind.empty()) {
        auto k = core::parse_kind(kind);
        if (!k) return std::move(k).error();
        f.kind = k.value();
    }
    return f;
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
