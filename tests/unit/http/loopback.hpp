#pragma once
// Test helpers for the HTTP client: a cpp-httplib server on 127.0.0.1 with an
// ephemeral port running in a background thread, a port nobody listens on, a
// socket that accepts connections but never answers, and a log capture.

#include "pitool/http/client.hpp"

#include <httplib.h>
#include <sodium.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

namespace pitool::test {

/// Secret allocates with sodium_malloc, which needs sodium_init() first (the
/// CLI does it at start-up; the unit test binary has no such step).
inline const bool k_http_tests_sodium_ready = sodium_init() >= 0;

/// Runs `Server` (httplib::Server or httplib::SSLServer) on 127.0.0.1:<any>.
/// Register handlers on server() before calling start().
template <typename Server = httplib::Server> class Loopback {
public:
    template <typename... Args> explicit Loopback(Args&&... args) : m_server(std::forward<Args>(args)...)
    {
        // Loopback traffic must never be routed through a proxy from the environment.
        ::setenv("no_proxy", "127.0.0.1,localhost", 1);
        ::setenv("NO_PROXY", "127.0.0.1,localhost", 1);
    }
    ~Loopback() { stop(); }
    Loopback(const Loopback&) = delete;
    Loopback& operator=(const Loopback&) = delete;

    Server& server() { return m_server; }

    void start()
    {
        // bind_to_any_port binds and listens, so connections queue from here on.
        m_port = m_server.bind_to_any_port("127.0.0.1");
        if (m_port <= 0) throw std::runtime_error("cannot bind a loopback port");
        m_thread = std::thread([this] { m_server.listen_after_bind(); });
        // stop() is a no-op until the accept loop runs: wait for it, or a
        // quick stop would leave the thread blocked in accept() forever.
        while (!m_server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }

    void stop()
    {
        if (m_thread.joinable()) {
            m_server.stop();
            m_thread.join();
        }
    }

    [[nodiscard]] int port() const { return m_port; }
    [[nodiscard]] std::string origin(const char* scheme = "http") const
    {
        return std::string(scheme) + "://127.0.0.1:" + std::to_string(m_port);
    }

private:
    Server m_server;
    std::thread m_thread;
    int m_port = 0;
};

/// A TCP socket bound to 127.0.0.1:<any>. With listen(), the kernel completes
/// handshakes but nobody ever reads or answers; without it, connections are refused.
class RawSocket {
public:
    explicit RawSocket(bool listening)
    {
        m_fd = ::socket(AF_INET, SOCK_STREAM, 0);
        if (m_fd < 0) throw std::runtime_error("socket");
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = 0;
        if (::bind(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw std::runtime_error("bind");
        socklen_t len = sizeof addr;
        ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&addr), &len);
        m_port = ntohs(addr.sin_port);
        if (listening && ::listen(m_fd, 16) != 0) throw std::runtime_error("listen");
    }
    ~RawSocket() { ::close(m_fd); }
    RawSocket(const RawSocket&) = delete;
    RawSocket& operator=(const RawSocket&) = delete;

    [[nodiscard]] int port() const { return m_port; }
    [[nodiscard]] std::string origin() const { return "http://127.0.0.1:" + std::to_string(m_port); }

private:
    int m_fd = -1;
    int m_port = 0;
};

/// Collects the HTTP client's debug and trace lines (ClientOptions::debug_log
/// and trace_log: retries and redirects, requests and responses), in order.
class LogCapture {
public:
    /// `o` with both logs written here; the capture must outlive the client.
    [[nodiscard]] pitool::http::ClientOptions attach(pitool::http::ClientOptions o)
    {
        o.debug_log = [this](std::string_view line) {
            const std::lock_guard lock(m_mutex);
            m_text.append(line);
            m_text += '\n';
        };
        o.trace_log = o.debug_log;
        return o;
    }

    [[nodiscard]] std::string text() const
    {
        const std::lock_guard lock(m_mutex);
        return m_text;
    }

private:
    mutable std::mutex m_mutex;
    std::string m_text;
};

} // namespace pitool::test
