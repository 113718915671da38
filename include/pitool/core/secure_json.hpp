#pragma once
/// A JSON document whose strings live in wiped-on-free memory, for
/// parsing and building text that carries secrets (the vault payload,
/// provider responses with tokens). Shared by core, vault, providers and
/// cli; whoever includes it links nlohmann_json.

#include "pitool/util/secret.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <vector>

namespace pitool {

using SecureJson = nlohmann::basic_json<std::map, std::vector, SecureString, bool, std::int64_t, std::uint64_t, double,
                                        SecureAllocator>;

} // namespace pitool
