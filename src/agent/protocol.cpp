#include "agent/protocol.hpp"

#include "pitool/util/fs.hpp"

#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace pitool::agent::detail {

void Writer::append(const void* p, std::size_t n)
{
    if (m_used + n > m_buf.size()) {
        Secret bigger(std::max<std::size_t>(64, 2 * (m_used + n)));
        if (m_used > 0) std::memcpy(bigger.data(), m_buf.data(), m_used);
        m_buf = std::move(bigger); // the old buffer is wiped as it is freed
    }
    std::memcpy(m_buf.data() + m_used, p, n);
    m_used += n;
}

void Writer::clear() noexcept
{
    if (m_used > 0) secure_wipe(m_buf.data(), m_used);
    m_used = 0;
}

Writer& Writer::u8(std::uint8_t v)
{
    append(&v, 1);
    return *this;
}

Writer& Writer::u32(std::uint32_t v)
{
    unsigned char b[4];
    for (int i = 0; i < 4; ++i) b[i] = static_cast<unsigned char>(v >> (8 * i));
    append(b, sizeof b);
    return *this;
}

Writer& Writer::u64(std::uint64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<unsigned char>(v >> (8 * i));
    append(b, sizeof b);
    return *this;
}

Writer& Writer::bytes(std::string_view b)
{
    u32(static_cast<std::uint32_t>(b.size()));
    append(b.data(), b.size());
    return *this;
}

const unsigned char* Reader::take(std::size_t n)
{
    if (!m_ok || n > m_size - m_pos) {
        m_ok = false;
        return nullptr;
    }
    const unsigned char* p = m_data + m_pos;
    m_pos += n;
    return p;
}

std::uint8_t Reader::u8()
{
    const unsigned char* p = take(1);
    return p != nullptr ? *p : 0;
}

std::uint32_t Reader::u32()
{
    const unsigned char* p = take(4);
    std::uint32_t v = 0;
    if (p != nullptr)
        for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

std::uint64_t Reader::u64()
{
    const unsigned char* p = take(8);
    std::uint64_t v = 0;
    if (p != nullptr)
        for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

std::string Reader::str()
{
    std::uint32_t n = u32();
    const unsigned char* p = take(n);
    return p != nullptr ? std::string(reinterpret_cast<const char*>(p), n) : std::string();
}

Secret Reader::secret()
{
    std::uint32_t n = u32();
    const unsigned char* p = take(n);
    if (p == nullptr) return {};
    Secret s(n);
    if (n > 0) std::memcpy(s.data(), p, n);
    return s;
}

Reader::Field Reader::field()
{
    std::uint32_t n = u32();
    const unsigned char* p = take(n);
    if (p == nullptr) return {};
    return {static_cast<std::size_t>(p - m_data), n};
}

std::string plain_request(Op op, std::initializer_list<std::string_view> fields)
{
    std::string out(1, static_cast<char>(op));
    for (std::string_view f : fields) {
        for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((f.size() >> (8 * i)) & 0xff));
        out.append(f);
    }
    return out;
}

Secret keep_only(Secret body, Reader::Field field)
{
    if (field.size == 0 || field.offset > body.size() || field.size > body.size() - field.offset) return {};
    if (field.offset > 0) std::memmove(body.data(), body.data() + field.offset, field.size);
    body.truncate(field.size);
    return body;
}

namespace {

Status write_all(int fd, const void* data, std::size_t n)
{
    const auto* p = static_cast<const unsigned char*>(data);
    while (n > 0) {
        ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return make_error(Errc::io, "agent socket: cannot send: " + util::errno_text(errno));
        p += w;
        n -= static_cast<std::size_t>(w);
    }
    return {};
}

/// Reads exactly n bytes; Errc::not_found on EOF before the first byte.
Status read_all(int fd, void* data, std::size_t n)
{
    auto* p = static_cast<unsigned char*>(data);
    std::size_t got = 0;
    while (got < n) {
        ssize_t r = ::recv(fd, p + got, n - got, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r == 0 || (r < 0 && errno == ECONNRESET))
            return make_error(got == 0 ? Errc::not_found : Errc::io, "agent socket: connection closed");
        if (r < 0)
            return make_error(Errc::io, "agent socket: cannot receive: " +
                                            (errno == EAGAIN ? std::string("timed out") : util::errno_text(errno)));
        got += static_cast<std::size_t>(r);
    }
    return {};
}

} // namespace

Status send_frame(int fd, std::string_view body)
{
    if (body.size() > k_max_frame) return make_error(Errc::internal, "agent message too large");
    unsigned char head[4];
    for (int i = 0; i < 4; ++i) head[i] = static_cast<unsigned char>(body.size() >> (8 * i));
    // Length and body in one sendmsg (one syscall in the common case).
    iovec iov[2] = {{head, sizeof head}, {const_cast<char*>(body.data()), body.size()}};
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = 2;
    ssize_t w = 0;
    while ((w = ::sendmsg(fd, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR) {
    }
    if (w < 0) return make_error(Errc::io, "agent socket: cannot send: " + util::errno_text(errno));
    const std::size_t total = sizeof head + body.size();
    auto sent = static_cast<std::size_t>(w);
    if (sent >= total) return {};
    if (sent < sizeof head) PITOOL_TRY(write_all(fd, head + sent, sizeof head - sent));
    std::size_t off = sent > sizeof head ? sent - sizeof head : 0;
    return write_all(fd, body.data() + off, body.size() - off);
}

Result<Secret> recv_frame(int fd)
{
    unsigned char head[4];
    PITOOL_TRY(read_all(fd, head, sizeof head));
    std::size_t n = 0;
    for (int i = 3; i >= 0; --i) n = (n << 8) | head[i];
    if (n == 0 || n > k_max_frame) return make_error(Errc::io, "agent socket: bad message length");
    Secret body(n);
    auto st = read_all(fd, body.data(), n);
    if (!st) return make_error(Errc::io, st.error().message);
    return body;
}

Result<std::size_t> recv_frame_into(int fd, Secret& buffer)
{
    unsigned char head[4];
    PITOOL_TRY(read_all(fd, head, sizeof head));
    std::size_t n = 0;
    for (int i = 3; i >= 0; --i) n = (n << 8) | head[i];
    if (n == 0 || n > k_max_frame) return make_error(Errc::io, "agent socket: bad message length");
    if (n > buffer.size()) buffer = Secret(std::max<std::size_t>(n, 1024)); // the old one is wiped as it is freed
    auto st = read_all(fd, buffer.data(), n);
    if (!st) {
        secure_wipe(buffer.data(), n);
        return make_error(Errc::io, st.error().message);
    }
    return n;
}

void set_timeouts(int fd, std::chrono::milliseconds t)
{
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(t.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((t.count() % 1000) * 1000);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

long peer_uid(int fd)
{
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof cred) return -1;
    return static_cast<long>(cred.uid);
}

long peer_pid(int fd)
{
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof cred) return 0;
    return static_cast<long>(cred.pid);
}

Status fill_address(const std::filesystem::path& socket, void* out)
{
    auto* addr = static_cast<sockaddr_un*>(out);
    std::memset(addr, 0, sizeof *addr);
    addr->sun_family = AF_UNIX;
    const std::string& s = socket.native();
    if (s.empty() || s.size() >= sizeof addr->sun_path)
        return make_error(Errc::usage, "agent socket path is too long (at most " +
                                           std::to_string(sizeof addr->sun_path - 1) + " bytes): " + s);
    std::memcpy(addr->sun_path, s.c_str(), s.size() + 1);
    return {};
}

Fd& Fd::operator=(Fd&& o) noexcept
{
    if (this != &o) {
        if (m_fd >= 0) ::close(m_fd);
        m_fd = o.release();
    }
    return *this;
}

Fd::~Fd()
{
    if (m_fd >= 0) ::close(m_fd);
}

} // namespace pitool::agent::detail
