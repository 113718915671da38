#pragma once
// Serves a Sandbox over HTTP or HTTPS with cpp-httplib. The only place (with
// main.cpp) that knows about sockets.

#include "sandbox/sandbox.hpp"

#include <csignal>
#include <string>

namespace pitool::sandbox {

struct ServerOptions {
    std::string host = "127.0.0.1"; ///< must be a loopback address (checked by main)
    int port = 0;                   ///< 0: any free port
    std::string tls_cert, tls_key;  ///< both set: HTTPS
    bool quiet = false;             ///< no request lines on stderr
};

/// Binds, prints the base URL as the first line of stdout, and serves until
/// one of `stop_signals` arrives (they must already be blocked in every
/// thread). Returns the process exit code: 0 after a signal, 1 on failure.
int run_server(Sandbox& sandbox, const ServerOptions& opts, const sigset_t& stop_signals);

/// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_host(const std::string& host);

} // namespace pitool::sandbox
