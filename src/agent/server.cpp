#include "agent/protocol.hpp"
#include "pitool/agent/agent.hpp"
#include "pitool/util/fs.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <ctime>
#include <optional>

namespace pitool::agent {
namespace {

using detail::Fd;
using detail::Op;
using detail::Reader;
using detail::Reply;
using detail::Writer;
using Millis = std::chrono::milliseconds;

/// A client gets this long to send its request; the agent serves one at a time.
constexpr Millis k_client_timeout{1000};

/// Time that keeps running while the machine sleeps, so an "8h" unlock
/// means eight hours of wall time, not of uptime.
Millis now()
{
    timespec ts{};
    ::clock_gettime(CLOCK_BOOTTIME, &ts);
    return Millis(static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000);
}

struct Held {
    std::string vault;
    Secret key; ///< secret: wiped (sodium_free) when erased
    Millis expires;
    Millis idle;
    Millis last_used;
    [[nodiscard]] Millis deadline() const { return std::min(expires, last_used + idle); }
};

std::uint64_t seconds_left(Millis m)
{
    return static_cast<std::uint64_t>(std::max<long long>(m.count(), 0) / 1000);
}

volatile std::sig_atomic_t g_stop_signal = 0;

extern "C" void on_stop_signal(int)
{
    g_stop_signal = 1;
}

std::string seconds_text(Millis m)
{
    return std::to_string(std::max<long long>(m.count(), 0) / 1000) + " s";
}

class Server {
public:
    Server(Fd listener, std::filesystem::path socket, dev_t dev, ino_t ino, const EventLog& log)
        : m_listener(std::move(listener)), m_socket(std::move(socket)), m_dev(dev), m_ino(ino), m_log(log)
    {
    }

    void run(Millis startup_grace, const sigset_t& wait_mask)
    {
        const Millis started = now();
        while (!m_stopped && g_stop_signal == 0) {
            Millis t = now();
            expire(t);
            if (m_keys.empty() && (m_had_key || t >= started + startup_grace)) {
                event(m_had_key ? "holding no key any more: exiting" : "no key arrived in the startup grace: exiting");
                break;
            }
            Millis wake = m_had_key ? Millis::max() : started + startup_grace;
            for (const auto& h : m_keys) wake = std::min(wake, h.deadline());
            Millis left = std::clamp(wake - t, Millis(0), Millis(3'600'000));
            timespec ts{static_cast<time_t>(left.count() / 1000), static_cast<long>((left.count() % 1000) * 1'000'000)};
            pollfd p{m_listener.get(), POLLIN, 0};
            int n = ::ppoll(&p, 1, &ts, &wait_mask);
            if (n <= 0) continue; // timeout or a signal: re-check the deadlines and the stop flag
            Fd conn(::accept4(m_listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
            if (conn.get() >= 0) serve_one(conn.get());
        }
        if (g_stop_signal != 0) event("stopped by a signal");
        shut_down();
    }

private:
    void event(const std::string& line, bool refusal = false) const
    {
        if (m_log) m_log(refusal, line);
    }

    void expire(Millis t)
    {
        std::erase_if(m_keys, [&](const Held& h) {
            if (t < h.deadline()) return false;
            event("forgot the key for " + h.vault +
                  (t >= h.expires ? " (its lifetime ended)" : " (unused for " + seconds_text(h.idle) + ")"));
            return true;
        });
    }

    Held* find(const std::string& vault)
    {
        for (auto& h : m_keys)
            if (h.vault == vault) return &h;
        return nullptr;
    }

    void serve_one(int fd)
    {
        // Only our own uid: anyone else is hung up on without a word.
        if (const long uid = detail::peer_uid(fd); uid != static_cast<long>(::geteuid())) {
            event("refused a connection from uid " + std::to_string(uid), true);
            return;
        }
        detail::set_timeouts(fd, k_client_timeout);
        // Request and reply live in buffers kept for the agent's lifetime
        // (each guarded allocation costs a dozen system calls) and are wiped
        // as soon as this request is answered.
        auto got = detail::recv_frame_into(fd, m_request);
        if (!got) return;
        struct Wipe {
            Secret& request;
            std::size_t size;
            Writer& reply;
            ~Wipe()
            {
                secure_wipe(request.data(), size);
                reply.clear();
            }
        } wipe{m_request, got.value(), m_reply};
        Reader r(m_request.data(), got.value());
        Writer& reply = m_reply;
        switch (static_cast<Op>(r.u8())) {
        case Op::put: {
            std::string vault = r.str();
            Secret key = r.secret();
            const std::uint64_t ttl_s = r.u64();
            const std::uint64_t idle_s = r.u64();
            const auto max_s = static_cast<std::uint64_t>(k_max_key_ttl.count());
            if (!r.ok() || !r.at_end() || vault.empty() || key.empty() || ttl_s == 0 || idle_s == 0 || ttl_s > max_s) {
                event("refused a malformed key", true);
                reply.u8(static_cast<std::uint8_t>(Reply::bad_request));
                break;
            }
            Millis t = now();
            expire(t);
            Held h{vault, std::move(key), t + std::chrono::seconds(ttl_s),
                   std::chrono::seconds(std::min(idle_s, max_s)), t};
            const bool replaced = find(vault) != nullptr;
            event(std::string(replaced ? "replaced" : "holding") + " the key for " + vault + " (lifetime " +
                  std::to_string(ttl_s) + " s, idle timeout " + std::to_string(idle_s) + " s)");
            if (Held* old = find(vault)) {
                // A PUT never extends an unlock: whoever can reach the socket
                // could otherwise turn a 30 s unlock into a day.
                h.expires = std::min(h.expires, old->expires);
                h.idle = std::min(h.idle, old->idle);
                *old = std::move(h);
            } else if (m_keys.size() >= k_max_keys) {
                event("refused a key: holding " + std::to_string(k_max_keys) + " already", true);
                reply.u8(static_cast<std::uint8_t>(Reply::full));
                break;
            } else {
                m_keys.push_back(std::move(h));
            }
            m_had_key = true;
            const Held& held = *find(vault);
            reply.u8(static_cast<std::uint8_t>(Reply::ok))
                .u64(seconds_left(held.expires - t))
                .u64(seconds_left(held.idle));
            break;
        }
        case Op::get: {
            std::string vault = r.str();
            Millis t = now();
            expire(t);
            Held* h = r.ok() && r.at_end() ? find(vault) : nullptr;
            if (h == nullptr) {
                reply.u8(static_cast<std::uint8_t>(Reply::not_found));
                break;
            }
            h->last_used = t;
            reply.u8(static_cast<std::uint8_t>(Reply::ok)).bytes(h->key.view());
            break;
        }
        case Op::status: {
            Millis t = now();
            expire(t);
            reply.u8(static_cast<std::uint8_t>(Reply::ok))
                .u64(static_cast<std::uint64_t>(::getpid()))
                .u32(static_cast<std::uint32_t>(m_keys.size()));
            for (const auto& h : m_keys) {
                reply.bytes(h.vault).u64(seconds_left(h.expires - t)).u64(seconds_left(h.last_used + h.idle - t));
            }
            break;
        }
        case Op::stop: {
            auto n = static_cast<std::uint32_t>(m_keys.size());
            event("told to stop: forgetting " + std::to_string(n) + (n == 1 ? " key" : " keys"));
            // Forget and go away before answering, so that when `lock`
            // returns the keys are wiped and the socket is gone.
            shut_down();
            m_stopped = true;
            reply.u8(static_cast<std::uint8_t>(Reply::ok)).u32(n);
            break;
        }
        default:
            event("refused a malformed request", true);
            reply.u8(static_cast<std::uint8_t>(Reply::bad_request));
        }
        (void)detail::send_frame(fd, reply.view());
    }

    void shut_down()
    {
        m_keys.clear();
        if (m_listener.get() < 0) return;
        // Remove the socket only if it is still ours (a successor may have replaced a socket it judged stale).
        struct stat st {};
        if (::lstat(m_socket.c_str(), &st) == 0 && st.st_dev == m_dev && st.st_ino == m_ino) ::unlink(m_socket.c_str());
        m_listener = Fd();
    }

    Fd m_listener;
    std::filesystem::path m_socket;
    dev_t m_dev;
    ino_t m_ino;
    std::vector<Held> m_keys;
    Secret m_request; ///< reused receive buffer; its size is its capacity
    Writer m_reply;   ///< reused reply buffer
    const EventLog& m_log;
    bool m_had_key = false;
    bool m_stopped = false;
};

} // namespace

Status serve(const ServerOptions& o)
{
    Fd ready(o.ready_fd);
    PITOOL_TRY(prepare_socket_dir(o.socket.parent_path()));
    sockaddr_un addr{};
    PITOOL_TRY(detail::fill_address(o.socket, &addr));
    Fd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (listener.get() < 0) return make_error(Errc::io, "cannot make a socket: " + util::errno_text(errno));
    if (::bind(listener.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
        return make_error(Errc::io,
                          "cannot bind the agent socket " + o.socket.string() + ": " + util::errno_text(errno));
    struct stat st {};
    if (::chmod(o.socket.c_str(), 0600) != 0 || ::lstat(o.socket.c_str(), &st) != 0 ||
        ::listen(listener.get(), 64) != 0) {
        int err = errno;
        ::unlink(o.socket.c_str());
        return make_error(Errc::io,
                          "cannot listen on the agent socket " + o.socket.string() + ": " + util::errno_text(err));
    }

    // SIGTERM/SIGINT are only delivered inside ppoll, so a stop request is
    // never lost between checking the flag and going to sleep.
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    ::sigemptyset(&sa.sa_mask);
    ::sigaction(SIGTERM, &sa, nullptr);
    ::sigaction(SIGINT, &sa, nullptr);
    sigset_t blocked, wait_mask;
    ::sigemptyset(&blocked);
    ::sigaddset(&blocked, SIGTERM);
    ::sigaddset(&blocked, SIGINT);
    ::sigprocmask(SIG_BLOCK, &blocked, &wait_mask);
    ::sigdelset(&wait_mask, SIGTERM);
    ::sigdelset(&wait_mask, SIGINT);

    if (ready.get() >= 0) {
        char one = '1';
        (void)!::write(ready.get(), &one, 1);
        ready = Fd();
    }
    if (o.log) o.log(false, "started (pid " + std::to_string(::getpid()) + "), listening on " + o.socket.string());
    Server server(std::move(listener), o.socket, st.st_dev, st.st_ino, o.log);
    server.run(o.startup_grace, wait_mask);
    return {};
}

void harden_agent_process()
{
    rlimit none{0, 0};
    ::setrlimit(RLIMIT_CORE, &none);
    ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    std::signal(SIGPIPE, SIG_IGN);
    std::signal(SIGHUP, SIG_IGN);
    ::umask(077);
    if (::chdir("/") != 0) {
        // Not fatal: the agent opens no relative paths.
    }
    int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null_fd >= 0) {
        ::dup2(null_fd, 0);
        ::dup2(null_fd, 1);
        ::dup2(null_fd, 2);
        if (null_fd > 2) ::close(null_fd);
    }
}

} // namespace pitool::agent
