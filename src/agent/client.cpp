#include "agent/protocol.hpp"
#include "pitool/agent/agent.hpp"
#include "pitool/util/fs.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>

namespace pitool::agent {
namespace {

using detail::Fd;
using detail::Op;
using detail::Reader;
using detail::Reply;
using detail::Writer;

constexpr std::chrono::milliseconds k_io_timeout{5000};
constexpr std::chrono::milliseconds k_start_timeout{10'000};
constexpr std::chrono::milliseconds k_lock_timeout{10'000};

/// Connects to the agent and checks it runs as our uid. Errc::not_found when
/// nobody listens (no socket, or a stale one).
Result<Fd> connect_agent(const std::filesystem::path& socket)
{
    sockaddr_un addr{};
    PITOOL_TRY(detail::fill_address(socket, &addr));
    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (fd.get() < 0) return make_error(Errc::io, "cannot make a socket: " + util::errno_text(errno));
    while (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        if (errno == EINTR) continue;
        if (errno == ENOENT || errno == ECONNREFUSED || errno == ENOTDIR)
            return make_error(Errc::not_found, "no agent is running");
        return make_error(Errc::io,
                          "cannot connect to the agent at " + socket.string() + ": " + util::errno_text(errno));
    }
    if (long uid = detail::peer_uid(fd.get()); uid != static_cast<long>(::geteuid()))
        return make_error(Errc::io, "the agent socket " + socket.string() + " is served by uid " + std::to_string(uid) +
                                        ", not by us; not using it");
    detail::set_timeouts(fd.get(), k_io_timeout);
    return fd;
}

/// One request, one reply. The reply body (possibly holding a key) stays in
/// guarded memory.
Result<Secret> exchange(Fd fd, std::string_view request)
{
    PITOOL_TRY(detail::send_frame(fd.get(), request));
    auto reply = detail::recv_frame(fd.get());
    if (!reply && reply.error().code == Errc::not_found)
        return make_error(Errc::not_found, "the agent closed the connection (it is exiting)");
    return reply;
}

/// A request that carries a secret (PUT), built in guarded memory only once
/// connected, so that "no agent" costs one failed connect() and nothing else.
Result<Secret> round_trip(const std::filesystem::path& socket, const std::function<void(Writer&)>& build)
{
    PITOOL_TRY_ASSIGN(auto fd, connect_agent(socket));
    Writer request;
    build(request);
    return exchange(std::move(fd), request.view());
}

/// A request without secrets (GET, STATUS, STOP): ordinary memory.
Result<Secret> round_trip(const std::filesystem::path& socket, std::string_view request)
{
    PITOOL_TRY_ASSIGN(auto fd, connect_agent(socket));
    return exchange(std::move(fd), request);
}

Error bad_reply()
{
    return make_error(Errc::io, "the agent sent a malformed reply");
}

/// Starts `launch` detached (double fork, new session, stdio on /dev/null,
/// cwd /, empty environment) and waits until it listens on `socket`.
Status start_agent(const std::filesystem::path& socket, const Launcher& launch)
{
    if (launch.program.empty() || launch.argv.empty()) return make_error(Errc::internal, "no agent program");
    const std::string program = launch.program.string();
    int ready[2];
    if (::pipe2(ready, O_CLOEXEC) != 0) return make_error(Errc::io, "cannot make a pipe: " + util::errno_text(errno));
    Fd ready_read(ready[0]);
    Fd ready_write(ready[1]);

    // Everything the children need is prepared before fork(): between fork
    // and exec only async-signal-safe calls are made.
    std::vector<std::string> args = launch.argv;
    args.insert(args.end(), {"--socket", socket.string(), "--ready-fd", "3"});
    std::vector<std::string> env;
    for (const char* name : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"})
        if (const char* v = std::getenv(name)) env.push_back(std::string(name) + "=" + v);
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);

    pid_t child = ::fork();
    if (child < 0) return make_error(Errc::io, "cannot start the agent: fork: " + util::errno_text(errno));
    if (child == 0) {
        ::setsid();
        pid_t grandchild = ::fork();
        if (grandchild != 0) ::_exit(grandchild < 0 ? 1 : 0); // the agent is reparented to init
        if (::chdir("/") != 0) ::_exit(126);
        int null_fd = ::open("/dev/null", O_RDWR);
        if (null_fd < 0) ::_exit(126);
        ::dup2(null_fd, 0);
        ::dup2(null_fd, 1);
        ::dup2(null_fd, 2);
        if (ready_write.get() == 3) {
            ::fcntl(3, F_SETFD, 0);
        } else {
            ::dup2(ready_write.get(), 3); // dup2 clears FD_CLOEXEC on the copy
        }
        ::close_range(4, ~0U, 0);
        ::umask(077);
        ::execve(program.c_str(), argv.data(), envp.data());
        ::_exit(127);
    }
    ready_write = Fd();
    int wstatus = 0;
    while (::waitpid(child, &wstatus, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0)
        return make_error(Errc::io, "cannot start the agent: fork failed");

    pollfd p{ready_read.get(), POLLIN, 0};
    int n = 0;
    while ((n = ::poll(&p, 1, static_cast<int>(k_start_timeout.count()))) < 0 && errno == EINTR) {
    }
    if (n == 0) return make_error(Errc::io, "the agent did not start listening within 10 s");
    char byte = 0;
    if (::read(ready_read.get(), &byte, 1) != 1)
        return make_error(Errc::io, "the agent exited before listening on " + socket.string());
    return {};
}

} // namespace

Result<Secret> fetch_key(const std::filesystem::path& socket, const std::filesystem::path& vault)
{
    PITOOL_TRY_ASSIGN(Secret body, round_trip(socket, detail::plain_request(Op::get, {vault_id(vault)})));
    Reader r(body);
    auto code = static_cast<Reply>(r.u8());
    if (code == Reply::not_found) return make_error(Errc::not_found, "the agent holds no key for this vault");
    if (code != Reply::ok) return bad_reply();
    auto field = r.field();
    if (!r.ok() || !r.at_end() || field.size == 0) return bad_reply();
    // The key is taken over in the reply's own guarded buffer: no second allocation.
    return detail::keep_only(std::move(body), field);
}

Result<KeyTimes> put_key(const std::filesystem::path& socket, const std::filesystem::path& vault, const Secret& key,
                         KeyTimes times)
{
    PITOOL_TRY_ASSIGN(const Secret reply, round_trip(socket, [&](Writer& req) {
                          req.u8(static_cast<std::uint8_t>(Op::put))
                              .bytes(vault_id(vault))
                              .bytes(key.view())
                              .u64(static_cast<std::uint64_t>(times.ttl.count()))
                              .u64(static_cast<std::uint64_t>(times.idle.count()));
                      }));
    Reader r(reply);
    auto code = static_cast<Reply>(r.u8());
    if (code == Reply::full)
        return make_error(Errc::conflict, "the agent already holds " + std::to_string(k_max_keys) +
                                              " keys, its limit (run: pitool lock, to forget them all)");
    if (code != Reply::ok || !r.ok()) return make_error(Errc::io, "the agent refused the key");
    KeyTimes kept{Seconds(static_cast<long long>(r.u64())), Seconds(static_cast<long long>(r.u64()))};
    if (!r.ok() || !r.at_end()) return bad_reply();
    return kept;
}

Result<KeyTimes> store_key(const std::filesystem::path& socket, const std::filesystem::path& vault, const Secret& key,
                           KeyTimes times, const Launcher& launch)
{
    if (times.ttl.count() <= 0 || times.idle.count() <= 0)
        return make_error(Errc::usage, "agent key lifetimes must be positive");
    if (times.ttl > k_max_key_ttl) return make_error(Errc::usage, "the agent holds a key at most 24 h");
    const auto dir = socket.parent_path();
    PITOOL_TRY(prepare_socket_dir(dir));
    if (auto kept = put_key(socket, vault, key, times); kept || kept.error().code != Errc::not_found) return kept;

    // Nobody answered. Check again under the start lock: another process may
    // have started an agent meanwhile; if not, we start the only one.
    PITOOL_TRY_ASSIGN(const auto lock, util::FileLock::acquire(dir / "agent.lock", k_lock_timeout));
    if (auto kept = put_key(socket, vault, key, times); kept || kept.error().code != Errc::not_found) return kept;
    struct stat st {};
    if (::lstat(socket.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return make_error(Errc::io, socket.string() + " exists and is not a socket; refusing to replace it");
        if (::unlink(socket.c_str()) != 0 && errno != ENOENT) // stale: nobody listens on it
            return make_error(Errc::io, "cannot remove the stale agent socket " + socket.string() + ": " +
                                            util::errno_text(errno));
    }
    PITOOL_TRY(start_agent(socket, launch));
    return put_key(socket, vault, key, times);
}

Result<AgentStatus> status(const std::filesystem::path& socket)
{
    PITOOL_TRY_ASSIGN(const Secret reply, round_trip(socket, detail::plain_request(Op::status)));
    Reader r(reply);
    if (static_cast<Reply>(r.u8()) != Reply::ok) return bad_reply();
    AgentStatus out;
    out.pid = static_cast<long>(r.u64());
    std::uint32_t n = r.u32();
    for (std::uint32_t i = 0; i < n && r.ok(); ++i) {
        AgentStatus::Entry e;
        e.vault = r.str();
        e.expires_in = Seconds(static_cast<long long>(r.u64()));
        e.idle_left = Seconds(static_cast<long long>(r.u64()));
        out.keys.push_back(std::move(e));
    }
    if (!r.ok() || !r.at_end()) return bad_reply();
    return out;
}

Result<std::size_t> stop(const std::filesystem::path& socket)
{
    PITOOL_TRY_ASSIGN(const Secret reply, round_trip(socket, detail::plain_request(Op::stop)));
    Reader r(reply);
    if (static_cast<Reply>(r.u8()) != Reply::ok) return bad_reply();
    std::uint32_t n = r.u32();
    if (!r.ok()) return bad_reply();
    return static_cast<std::size_t>(n);
}

} // namespace pitool::agent
