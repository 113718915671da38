#pragma once
// Loads the network module (pitool-net.so, the libcurl client) on the first
// network call, so that offline commands never map libcurl, TLS, Kerberos or
// LDAP libraries.

#include "pitool/http/client.hpp"
#include "pitool/util/result.hpp"

#include <memory>

namespace pitool::cli {

/// A libcurl client from the network module. The module is looked for as
/// `pitool-net.so` next to the running program (/proc/self/exe), then in the
/// install directory chosen at configure time, loaded once and never
/// unloaded. Errc::unavailable (exit 8) with a one-line message naming the
/// places looked in when it is missing, cannot be loaded, or was built from
/// another pitool version or with other layouts.
[[nodiscard]] Result<std::unique_ptr<http::Client>> load_network_client(const http::ClientOptions& options);

} // namespace pitool::cli
