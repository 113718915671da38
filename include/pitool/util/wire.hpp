#pragma once
/// Little-endian binary encoding used inside the vault: fixed-width integers,
/// LEB128 lengths and length-prefixed byte strings.
///
/// `WireReader` never reads past its input: every getter returns false once
/// the input is exhausted or malformed, and the reader stays failed, so a
/// decoder can read a whole record and check `ok()` once at the end.

#include <bit>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pitool {

/// Appends to a byte vector (any allocator, so secret text can go to a
/// wiping one).
template <typename Vec> class WireWriter {
public:
    explicit WireWriter(Vec& out) : m_out(out) {}
    void u8(std::uint8_t v) { m_out.push_back(v); }
    void u32(std::uint32_t v) { le(v, 4); }
    void u64(std::uint64_t v) { le(v, 8); }
    void i64(std::int64_t v) { le(static_cast<std::uint64_t>(v), 8); }
    void varint(std::uint64_t v)
    {
        while (v >= 0x80) {
            m_out.push_back(static_cast<std::uint8_t>(v | 0x80));
            v >>= 7;
        }
        m_out.push_back(static_cast<std::uint8_t>(v));
    }
    void raw(std::span<const std::uint8_t> b) { m_out.insert(m_out.end(), b.begin(), b.end()); }
    void str(std::string_view s)
    {
        varint(s.size());
        const auto* p = reinterpret_cast<const std::uint8_t*>(s.data());
        m_out.insert(m_out.end(), p, p + s.size());
    }

private:
    void le(std::uint64_t v, int n)
    {
        for (int i = 0; i < n; ++i) m_out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    }
    Vec& m_out;
};

class WireReader {
public:
    explicit WireReader(std::span<const std::uint8_t> in) : m_in(in) {}

    [[nodiscard]] bool ok() const noexcept { return m_ok; }
    [[nodiscard]] bool at_end() const noexcept { return m_ok && m_pos == m_in.size(); }
    [[nodiscard]] std::size_t pos() const noexcept { return m_pos; }
    /// Marks the input malformed (for semantic checks by the caller).
    void fail() noexcept { m_ok = false; }

    bool u8(std::uint8_t& v) noexcept
    {
        std::uint64_t x = 0;
        if (!le(x, 1)) return false;
        v = static_cast<std::uint8_t>(x);
        return true;
    }
    bool u32(std::uint32_t& v) noexcept
    {
        std::uint64_t x = 0;
        if (!le(x, 4)) return false;
        v = static_cast<std::uint32_t>(x);
        return true;
    }
    bool u64(std::uint64_t& v) noexcept { return le(v, 8); }
    bool i64(std::int64_t& v) noexcept
    {
        std::uint64_t x = 0;
        if (!le(x, 8)) return false;
        v = static_cast<std::int64_t>(x);
        return true;
    }
    bool varint(std::uint64_t& v) noexcept
    {
        v = 0;
        for (int shift = 0; shift < 64 && m_ok; shift += 7) {
            if (m_pos >= m_in.size()) break;
            std::uint8_t b = m_in[m_pos++];
            v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
            if ((b & 0x80) == 0) return true;
        }
        m_ok = false;
        return false;
    }
    /// A length-prefixed byte string of at most `max` bytes, as a view into
    /// the input.
    bool bytes(std::span<const std::uint8_t>& out, std::size_t max) noexcept
    {
        std::uint64_t n = 0;
        if (!varint(n)) return false;
        if (n > max || n > m_in.size() - m_pos) {
            m_ok = false;
            return false;
        }
        out = m_in.subspan(m_pos, static_cast<std::size_t>(n));
        m_pos += static_cast<std::size_t>(n);
        return true;
    }
    bool view(std::string_view& out, std::size_t max) noexcept
    {
        std::span<const std::uint8_t> b;
        if (!bytes(b, max)) return false;
        out = std::string_view(reinterpret_cast<const char*>(b.data()), b.size());
        return true;
    }
    bool str(std::string& out, std::size_t max)
    {
        std::string_view v;
        if (!view(v, max)) return false;
        out.assign(v);
        return true;
    }
    /// `n` raw bytes as a view.
    bool raw(std::span<const std::uint8_t>& out, std::size_t n) noexcept
    {
        if (!m_ok || n > m_in.size() - m_pos) {
            m_ok = false;
            return false;
        }
        out = m_in.subspan(m_pos, n);
        m_pos += n;
        return true;
    }

private:
    bool le(std::uint64_t& v, int n) noexcept
    {
        if (!m_ok || m_in.size() - m_pos < static_cast<std::size_t>(n)) {
            m_ok = false;
            return false;
        }
        // Little-endian hosts only (x86-64, arm64): one load, no byte loop.
        static_assert(std::endian::native == std::endian::little);
        v = 0;
        std::memcpy(&v, m_in.data() + m_pos, static_cast<std::size_t>(n));
        m_pos += static_cast<std::size_t>(n);
        return true;
    }
    std::span<const std::uint8_t> m_in;
    std::size_t m_pos = 0;
    bool m_ok = true;
};

} // namespace pitool
