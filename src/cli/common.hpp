#pragma once
// Small helpers shared by the command handlers.

#include "cli/context.hpp"
#include "pitool/core/model.hpp"

#include <string>

namespace pitool::cli {

/// The integration called `name`, or Errc::not_found (Errc::usage for an
/// invalid name).
[[nodiscard]] Result<core::Integration*> find_integration(core::Payload& p, const std::string& name);
[[nodiscard]] Result<const core::Integration*> find_integration(const core::Payload& p, const std::string& name);

/// Appends a history event stamped with the context's clock and actor.
void record_event(Context& ctx, core::Payload& p, std::string action, const std::string& name, std::string fingerprint,
                  std::string detail = {});

} // namespace pitool::cli
