#pragma once
/// The contract between the `pitool` program and its network module
/// (`pitool-net.so`), which holds the libcurl implementation of
/// `http::Client` so that offline commands never map libcurl, TLS or their
/// dependencies.
///
/// The module exports two C symbols. Both sides are built from the same tree
/// by the same compiler; C++ objects (`ClientOptions`, `Client`) cross the
/// boundary, so the program checks `NetAbi` before it calls anything else and
/// refuses a module built from another version or with other layouts.

#include "pitool/http/client.hpp"

#include <cstddef>

namespace pitool::http {

/// Bump when `Client`'s virtual functions or the meaning of a field change.
inline constexpr unsigned k_net_abi_version = 3; // 3: ClientOptions::trace_log

/// What a module was built with.
struct NetAbi {
    unsigned abi_version;
    std::size_t client_options_size;
    std::size_t request_size;
    std::size_t response_size;
    std::size_t batch_options_size;
    const char* pitool_version; ///< static string, e.g. "0.1.0"
};

/// The NetAbi of the code including this header.
[[nodiscard]] constexpr NetAbi this_net_abi() noexcept
{
    return NetAbi{k_net_abi_version, sizeof(ClientOptions), sizeof(Request),
                  sizeof(Response),  sizeof(BatchOptions),  PITOOL_VERSION};
}

/// File name of the module, looked for next to the program first.
inline constexpr const char* k_net_module_file = "pitool-net.so";
/// `const NetAbi* pitool_net_abi(void)`: never null, static storage.
inline constexpr const char* k_net_abi_symbol = "pitool_net_abi";
/// `Client* pitool_net_make_client(const ClientOptions*)`: a new client the
/// caller owns (delete it through `Client`'s virtual destructor), or null
/// when out of memory. Setup failures (a bad CA bundle) are reported by the
/// client's first call, like `make_curl_client`.
inline constexpr const char* k_net_make_client_symbol = "pitool_net_make_client";

using NetAbiFn = const NetAbi* (*)();
using NetMakeClientFn = Client* (*)(const ClientOptions*);

} // namespace pitool::http
