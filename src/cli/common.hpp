#pragma once
// Small helpers shared by the command handlers.

#include "cli/context.hpp"
#include "pitool/core/model.hpp"
#include "pitool/vault/vault.hpp"

#include <string>

namespace pitool::cli {

/// Loads the integration called `name` into the vault's payload (with its
/// secrets unless `secrets` is false) and returns it, or Errc::not_found
/// (Errc::usage for an invalid name). Loading more records later may move
/// it: load first, then take pointers.
[[nodiscard]] Result<core::Integration*> find_integration(vault::Vault& v, const std::string& name,
                                                          bool secrets = true);

/// Appends a history event stamped with the context's clock and actor.
void record_event(Context& ctx, core::Payload& p, std::string action, const std::string& name, std::string fingerprint,
                  std::string detail = {});

} // namespace pitool::cli
