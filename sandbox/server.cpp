#include "sandbox/server.hpp"

#include <httplib.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>

namespace pitool::sandbox {
namespace {

int port_of(const sockaddr_storage& ss)
{
    if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&ss)->sin_port);
    if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_port);
    return -1;
}

/// The accepted socket serving (local_port, remote_port). httplib 0.11 does not
/// hand handlers their socket, so look it up among our open descriptors.
int find_connection_fd(int local_port, int remote_port)
{
    DIR* dir = ::opendir("/proc/self/fd");
    if (dir == nullptr) return -1;
    int found = -1;
    while (const dirent* e = ::readdir(dir)) {
        char* end = nullptr;
        long fd = std::strtol(e->d_name, &end, 10);
        if (end == e->d_name || *end != '\0') continue;
        sockaddr_storage local{}, peer{};
        socklen_t ll = sizeof local, pl = sizeof peer;
        const int ifd = static_cast<int>(fd);
        if (::getsockname(ifd, reinterpret_cast<sockaddr*>(&local), &ll) != 0) continue;
        if (::getpeername(ifd, reinterpret_cast<sockaddr*>(&peer), &pl) != 0) continue;
        if (port_of(local) == local_port && port_of(peer) == remote_port) {
            found = ifd;
            break;
        }
    }
    ::closedir(dir);
    return found;
}

void drop_connection(const httplib::Request& req)
{
    int fd = req.ssl != nullptr ? SSL_get_fd(req.ssl) : find_connection_fd(req.local_port, req.remote_port);
    if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
}

std::string printable(const std::string& s)
{
    std::string out;
    for (char c : s.substr(0, 200)) out.push_back(std::isprint(static_cast<unsigned char>(c)) ? c : '?');
    return out;
}

/// Lets delay faults end early when the server shuts down.
class Sleeper {
public:
    void sleep_for(std::int64_t ms)
    {
        std::unique_lock lock(m_mutex);
        m_cv.wait_for(lock, std::chrono::milliseconds(ms), [this] { return m_stopping; });
    }
    void stop()
    {
        {
            std::lock_guard lock(m_mutex);
            m_stopping = true;
        }
        m_cv.notify_all();
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_stopping = false;
};

} // namespace

bool is_loopback_host(const std::string& host)
{
    if (host == "localhost") return true;
    in_addr v4{};
    if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
    in6_addr v6{};
    if (::inet_pton(AF_INET6, host.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
    return false;
}

int run_server(Sandbox& sandbox, const ServerOptions& opts, const sigset_t& stop_signals)
{
    const bool tls = !opts.tls_cert.empty();
    std::unique_ptr<httplib::Server> svr;
    if (tls)
        svr = std::make_unique<httplib::SSLServer>(opts.tls_cert.c_str(), opts.tls_key.c_str());
    else
        svr = std::make_unique<httplib::Server>();
    if (!svr->is_valid()) {
        std::cerr << "pitool-sandbox: cannot load TLS certificate or key\n";
        return 1;
    }

    Sleeper sleeper;
    const bool quiet = opts.quiet;
    auto handler = [&sandbox, &sleeper, quiet](const httplib::Request& hreq, httplib::Response& hres) {
        Request req;
        req.method = hreq.method;
        req.path = hreq.path;
        for (const auto& [k, v] : hreq.params) req.query.emplace(k, v);
        for (const auto& [k, v] : hreq.headers) {
            std::string key = k;
            for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            req.headers[key] = v;
        }
        req.body = hreq.body;
        Response res = sandbox.handle(req);
        if (res.delay_ms > 0) sleeper.sleep_for(res.delay_ms);
        // Method, path and status only: never headers, query strings or bodies.
        if (!quiet) {
            std::string line = printable(hreq.method) + " " + printable(hreq.path) + " " +
                               (res.drop_connection ? std::string("dropped") : std::to_string(res.status)) + "\n";
            std::fputs(line.c_str(), stderr);
        }
        if (res.drop_connection) {
            drop_connection(hreq);
            hres.status = 500;
            return;
        }
        hres.status = res.status;
        for (const auto& [k, v] : res.headers) hres.set_header(k, v);
        hres.set_content(res.body, res.content_type);
    };
    svr->Get(".*", handler);
    svr->Post(".*", handler);
    svr->Put(".*", handler);
    svr->Patch(".*", handler);
    svr->Delete(".*", handler);
    svr->Options(".*", handler);
    svr->set_payload_max_length(1 << 20);
    svr->new_task_queue = [] { return new httplib::ThreadPool(64); };

    const std::string bind_host = opts.host == "localhost" ? "127.0.0.1" : opts.host;
    int port = opts.port;
    if (port == 0) {
        port = svr->bind_to_any_port(bind_host);
    } else if (!svr->bind_to_port(bind_host, port)) {
        port = -1;
    }
    if (port <= 0) {
        std::cerr << "pitool-sandbox: cannot bind " << bind_host << ":" << opts.port << "\n";
        return 1;
    }
    const std::string url_host = bind_host.find(':') != std::string::npos ? "[" + bind_host + "]" : bind_host;
    const std::string url = std::string(tls ? "https" : "http") + "://" + url_host + ":" + std::to_string(port);
    sandbox.set_origin(url);
    std::cout << url << std::endl;

    std::atomic<bool> listen_done{false}, signalled{false};
    std::thread waiter([&] {
        int sig = 0;
        ::sigwait(&stop_signals, &sig);
        if (listen_done) return; // woken by run_server itself after a listen failure
        signalled = true;
        sleeper.stop();
        // stop() is a no-op until listen_after_bind() has started; retry until it returns.
        while (!listen_done) {
            svr->stop();
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    });
    svr->listen_after_bind();
    listen_done = true;
    if (!signalled) {
        // Listening failed on its own: wake the waiter with a signal it waits for.
        ::pthread_kill(waiter.native_handle(), SIGTERM);
        std::cerr << "pitool-sandbox: server stopped unexpectedly\n";
    }
    waiter.join();
    return signalled ? 0 : 1;
}

} // namespace pitool::sandbox
