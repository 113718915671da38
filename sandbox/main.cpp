// pitool-sandbox: a local imitation of the LeadConnector and Hint APIs for
// pitool's tests. See docs/sandbox.md.

#include "sandbox/sandbox.hpp"
#include "sandbox/server.hpp"

#include <pthread.h>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

namespace {

constexpr const char* k_usage = "usage: pitool-sandbox [--port N] [--host 127.0.0.1] [--tls-cert FILE --tls-key FILE]\n"
                                "                      [--state-file FILE] [--burst-max N] [--burst-interval-ms N]\n"
                                "                      [--daily-max N] [--quiet]\n"
                                "Prints its base URL as the first line on stdout and serves until SIGTERM/SIGINT.\n";

bool parse_int(const std::string& s, long long min, long long max, long long& out)
{
    if (s.empty()) return false;
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(s.c_str(), &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max) return false;
    out = v;
    return true;
}

int usage_error(const std::string& message)
{
    std::cerr << "pitool-sandbox: " << message << "\n" << k_usage;
    return 2;
}

} // namespace

int main(int argc, char** argv)
{
    using namespace pitool::sandbox;
    ServerOptions server;
    Config config;
    std::string state_file;

    std::vector<std::string> args(argv + 1, argv + argc);
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string name = args[i], value;
        bool has_inline = false;
        if (auto eq = name.find('='); eq != std::string::npos && name.rfind("--", 0) == 0) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
            has_inline = true;
        }
        if (name == "--help" || name == "-h") {
            std::cout << k_usage;
            return 0;
        }
        if (name == "--version") {
            std::cout << "pitool-sandbox " << PITOOL_VERSION << "\n";
            return 0;
        }
        if (name == "--quiet") {
            server.quiet = true;
            continue;
        }
        if (!has_inline) {
            if (i + 1 >= args.size()) return usage_error(name + " needs a value");
            value = args[++i];
        }
        long long n = 0;
        if (name == "--port") {
            if (!parse_int(value, 0, 65535, n)) return usage_error("bad --port: " + value);
            server.port = static_cast<int>(n);
        } else if (name == "--host") {
            server.host = value;
        } else if (name == "--tls-cert") {
            server.tls_cert = value;
        } else if (name == "--tls-key") {
            server.tls_key = value;
        } else if (name == "--state-file") {
            state_file = value;
        } else if (name == "--burst-max") {
            if (!parse_int(value, 1, 1'000'000'000, n)) return usage_error("bad --burst-max: " + value);
            config.burst_max = n;
        } else if (name == "--burst-interval-ms") {
            if (!parse_int(value, 1, 86'400'000, n)) return usage_error("bad --burst-interval-ms: " + value);
            config.burst_interval_ms = n;
        } else if (name == "--daily-max") {
            if (!parse_int(value, 1, 1'000'000'000, n)) return usage_error("bad --daily-max: " + value);
            config.daily_max = n;
        } else {
            return usage_error("unknown option " + name);
        }
    }
    if (!is_loopback_host(server.host)) return usage_error("refusing to listen on non-loopback host " + server.host);
    if (server.tls_cert.empty() != server.tls_key.empty()) return usage_error("--tls-cert and --tls-key go together");

    // Block the stop signals before any thread exists so every thread inherits
    // the mask and only the server's waiter thread receives them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    Sandbox sandbox(config, state_file);
    std::string error;
    if (!sandbox.load(error)) {
        std::cerr << "pitool-sandbox: " << error << "\n";
        return 1;
    }
    return run_server(sandbox, server, stop_signals);
}
