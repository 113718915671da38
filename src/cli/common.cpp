#include "cli/common.hpp"

namespace pitool::cli {

Result<const core::Integration*> find_integration(const core::Payload& p, const std::string& name)
{
    PITOOL_TRY(core::validate_name(name));
    const auto* in = p.find(name);
    if (in == nullptr) return make_error(Errc::not_found, "no integration named '" + name + "'");
    return in;
}

Result<core::Integration*> find_integration(core::Payload& p, const std::string& name)
{
    PITOOL_TRY(core::validate_name(name));
    auto* in = p.find(name);
    if (in == nullptr) return make_error(Errc::not_found, "no integration named '" + name + "'");
    return in;
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

} // namespace pitool::cli
