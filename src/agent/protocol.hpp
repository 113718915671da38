#pragma once
// The agent's wire format and socket helpers, shared by client and server.
//
// One request and one reply per connection. A frame is a 4-byte little-endian
// body length (at most k_max_frame) followed by the body. Bodies are built
// and received in `Secret` buffers, so a key never sits in ordinary memory
// (only requests that carry no secret, `plain_request`, are ordinary strings):
//   request  = u8 op, fields...      reply = u8 Reply, fields...
//   PUT      vault:str key:bytes ttl_s:u64 idle_s:u64   -> ok expires_s:u64 idle_s:u64 | full
//            (ttl_s at most k_max_key_ttl; the times kept are never later than those of a key
//            already held for the vault; full when k_max_keys other vaults are held)
//   GET      vault:str                                  -> ok key:bytes | not_found
//   STATUS                                              -> ok pid:u64 n:u32 (vault:str expires_s:u64 idle_s:u64)*n
//   STOP                                                -> ok n:u32 (sent after the keys are wiped and the socket
//   removed)
// str and bytes are a u32 length and the bytes.

#include "pitool/util/result.hpp"
#include "pitool/util/secret.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <string_view>

namespace pitool::agent::detail {

inline constexpr std::size_t k_max_frame = 64 * 1024;

enum class Op : std::uint8_t { put = 1, get = 2, status = 3, stop = 4 };
enum class Reply : std::uint8_t { ok = 0, not_found = 1, bad_request = 2, full = 3 };

/// A growing message body in guarded memory.
class Writer {
public:
    Writer& u8(std::uint8_t v);
    Writer& u32(std::uint32_t v);
    Writer& u64(std::uint64_t v);
    Writer& bytes(std::string_view b);
    [[nodiscard]] std::string_view view() const { return {reinterpret_cast<const char*>(m_buf.data()), m_used}; }
    /// Wipes what was written and starts over in the same buffer (one guarded
    /// allocation serves every reply of a long-lived agent).
    void clear() noexcept;

private:
    void append(const void* p, std::size_t n);
    Secret m_buf;
    std::size_t m_used = 0;
};

/// Reads fields from a received body; any overrun makes ok() false.
class Reader {
public:
    explicit Reader(const Secret& body) : m_data(body.data()), m_size(body.size()) {}
    Reader(const unsigned char* data, std::size_t size) : m_data(data), m_size(size) {}
    std::uint8_t u8();
    std::uint32_t u32();
    std::uint64_t u64();
    /// Non-secret text (a vault path).
    std::string str();
    /// Secret bytes, copied straight into guarded memory.
    Secret secret();
    /// Skips a bytes field and says where its bytes are in the body, for
    /// taking them over in place (`keep_only`) instead of copying them.
    struct Field {
        std::size_t offset = 0;
        std::size_t size = 0;
    };
    Field field();
    [[nodiscard]] bool ok() const { return m_ok; }
    [[nodiscard]] bool at_end() const { return m_pos == m_size; }

private:
    const unsigned char* take(std::size_t n);
    const unsigned char* m_data;
    std::size_t m_size;
    std::size_t m_pos = 0;
    bool m_ok = true;
};

/// A request without secrets (GET, STATUS, STOP) in ordinary memory: the op,
/// then each field as a str. Costs no guarded allocation.
[[nodiscard]] std::string plain_request(Op op, std::initializer_list<std::string_view> fields = {});

/// `body` shrunk to its bytes [offset, offset + size), moved to the front in
/// place: the same guarded allocation, the rest wiped. No second allocation
/// for a key taken out of a reply.
[[nodiscard]] Secret keep_only(Secret body, Reader::Field field);

/// Sends one frame. Errc::io on failure.
[[nodiscard]] Status send_frame(int fd, std::string_view body);
/// Receives one frame into guarded memory. Errc::io on failure, timeout or
/// an oversized frame; Errc::not_found when the peer closed before sending.
[[nodiscard]] Result<Secret> recv_frame(int fd);
/// Receives one frame into `buffer`, reused when the frame fits (its size is
/// the capacity) and replaced by a larger one otherwise; returns the frame's
/// length. For a server that receives many frames: the caller wipes the
/// bytes it got once done with them.
[[nodiscard]] Result<std::size_t> recv_frame_into(int fd, Secret& buffer);

/// Send and receive timeouts on a connected socket.
void set_timeouts(int fd, std::chrono::milliseconds t);

/// The uid of the peer of a connected Unix socket, or -1.
[[nodiscard]] long peer_uid(int fd);
/// The pid of the peer, or 0.
[[nodiscard]] long peer_pid(int fd);

/// A Unix stream socket address; Errc::usage when the path does not fit.
[[nodiscard]] Status fill_address(const std::filesystem::path& socket, void* sockaddr_un_out);

/// A file descriptor closed on destruction.
class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) : m_fd(fd) {}
    Fd(Fd&& o) noexcept : m_fd(o.release()) {}
    Fd& operator=(Fd&& o) noexcept;
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd();
    [[nodiscard]] int get() const { return m_fd; }
    int release() noexcept
    {
        int fd = m_fd;
        m_fd = -1;
        return fd;
    }

private:
    int m_fd = -1;
};

} // namespace pitool::agent::detail
