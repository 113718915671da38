#include "pitool/vault/format.hpp"

#include <algorithm>
#include <cstring>

namespace pitool::vault {
namespace {

class Writer {
public:
    explicit Writer(std::vector<std::uint8_t>& out) : m_out(out) {}
    void bytes(std::span<const std::uint8_t> b) { m_out.insert(m_out.end(), b.begin(), b.end()); }
    void u8(std::uint8_t v) { m_out.push_back(v); }
    void u16(std::uint16_t v) { le(v, 2); }
    void u64(std::uint64_t v) { le(v, 8); }
    void zeros(std::size_t n) { m_out.insert(m_out.end(), n, 0); }

private:
    void le(std::uint64_t v, int n)
    {
        for (int i = 0; i < n; ++i) m_out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    }
    std::vector<std::uint8_t>& m_out;
};

class Reader {
public:
    explicit Reader(std::span<const std::uint8_t> in) : m_in(in) {}
    bool has(std::size_t n) const { return m_in.size() - m_pos >= n; }
    std::uint64_t le(int n)
    {
        std::uint64_t v = 0;
        for (int i = 0; i < n; ++i) v |= static_cast<std::uint64_t>(m_in[m_pos++]) << (8 * i);
        return v;
    }
    template <std::size_t N> void copy(std::array<std::uint8_t, N>& out)
    {
        std::memcpy(out.data(), m_in.data() + m_pos, N);
        m_pos += N;
    }
    void skip(std::size_t n) { m_pos += n; }
    std::size_t pos() const { return m_pos; }

private:
    std::span<const std::uint8_t> m_in;
    std::size_t m_pos = 0;
};

void write_prefix(Writer& w, std::uint16_t version, std::size_t recipients)
{
    w.bytes(k_magic);
    w.u16(version);
    w.u16(0); // flags
    w.u8(static_cast<std::uint8_t>(recipients));
    w.zeros(3);
}

void write_recipient_head(Writer& w, const Recipient& r)
{
    w.u8(static_cast<std::uint8_t>(r.type));
    w.u8(r.kdf);
    w.zeros(6);
    w.u64(r.params.opslimit);
    w.u64(r.params.memlimit);
    w.bytes(r.salt);
    w.bytes(r.wrap_nonce);
}

Error damaged(const std::string& why)
{
    return make_error(Errc::damaged, why);
}

} // namespace

bool has_vault_id(const Header& h) noexcept
{
    return h.version >= 4 && std::any_of(h.vault_id.begin(), h.vault_id.end(), [](std::uint8_t b) { return b != 0; });
}

std::vector<std::uint8_t> encode_header(const Header& h)
{
    std::vector<std::uint8_t> out;
    out.reserve(header_size(h.recipients.size(), h.version));
    Writer w(out);
    write_prefix(w, h.version, h.recipients.size());
    for (const auto& r : h.recipients) {
        write_recipient_head(w, r);
        w.bytes(r.wrapped_key);
    }
    if (h.version >= 3) w.u64(h.data_id);
    if (h.version >= 4) {
        w.bytes(h.vault_id);
        w.u64(h.generation);
    }
    w.bytes(h.payload_nonce);
    w.u64(h.payload_len);
    std::array<std::uint8_t, k_checksum_bytes> sum{};
    crypto::hash(out, sum);
    w.bytes(sum);
    return out;
}

std::vector<std::uint8_t> recipient_ad(const Recipient& r)
{
    std::vector<std::uint8_t> out;
    Writer w(out);
    w.bytes(k_magic);
    w.u16(k_recipient_ad_version);
    write_recipient_head(w, r);
    return out;
}

Result<std::size_t> header_size_of(std::span<const std::uint8_t> prefix)
{
    if (prefix.size() < k_magic.size() || !std::equal(k_magic.begin(), k_magic.end(), prefix.begin()))
        return damaged("not a pitool vault (bad magic)");
    if (prefix.size() < k_prefix_bytes) return damaged("vault is truncated (incomplete header)");
    Reader r(prefix);
    r.skip(k_magic.size());
    auto version = r.le(2);
    if (version < k_format_v1 || version > k_format_version)
        return damaged("vault format version " + std::to_string(version) +
                       " is not supported by this pitool (it reads versions 1 to " + std::to_string(k_format_version) +
                       ")");
    r.skip(2);
    auto count = static_cast<std::size_t>(r.le(1));
    if (count == 0 || count > k_max_recipients) return damaged("vault header has an invalid recipient count");
    return header_size(count, static_cast<std::uint16_t>(version));
}

Result<Header> parse_header(std::span<const std::uint8_t> file, std::uint64_t file_size)
{
    PITOOL_TRY_ASSIGN(auto size, header_size_of(file));
    std::size_t hsize = size;
    if (file.size() < hsize || file_size < hsize) return damaged("vault is truncated (incomplete header)");
    Reader r(file);
    r.skip(k_magic.size());
    Header h;
    h.version = static_cast<std::uint16_t>(r.le(2));
    auto flags = r.le(2);
    auto count = static_cast<std::size_t>(r.le(1));
    auto reserved = r.le(3);
    if (flags != 0) return damaged("vault header has unknown flags");

    std::array<std::uint8_t, k_checksum_bytes> sum{};
    crypto::hash(file.first(hsize - k_checksum_bytes), sum);
    if (!std::equal(sum.begin(), sum.end(), file.begin() + static_cast<std::ptrdiff_t>(hsize - k_checksum_bytes)))
        return damaged("vault header is corrupted (checksum mismatch)");
    // Checked after the checksum, so that a flipped bit reads as corruption.
    if (reserved != 0) return damaged("vault header has non-zero reserved bytes");

    // Opening tries every recipient with a wrong passphrase, so bound the
    // total work, not only each recipient's: all of them together may cost
    // at most what one recipient at the cap costs.
    // Costs in opslimit x KiB: within the caps a product fits easily in 64 bits.
    std::uint64_t total_cost = 0;
    constexpr std::uint64_t max_cost = crypto::k_max_opslimit * (crypto::k_max_memlimit / 1024);
    for (std::size_t i = 0; i < count; ++i) {
        Recipient rc;
        auto type = r.le(1);
        rc.kdf = static_cast<std::uint8_t>(r.le(1));
        auto rc_reserved = r.le(6);
        rc.params.opslimit = r.le(8);
        rc.params.memlimit = r.le(8);
        r.copy(rc.salt);
        r.copy(rc.wrap_nonce);
        r.copy(rc.wrapped_key);
        if (type != static_cast<std::uint64_t>(RecipientType::passphrase))
            return damaged("vault has a recipient of an unknown type");
        if (rc.kdf != k_kdf_argon2id13) return damaged("vault uses an unknown key derivation algorithm");
        if (rc_reserved != 0) return damaged("vault recipient has non-zero reserved bytes");
        PITOOL_TRY(crypto::check_params(rc.params));
        total_cost += rc.params.opslimit * (rc.params.memlimit / 1024);
        if (total_cost > max_cost) return damaged("vault recipients ask for more key derivation work than accepted");
        h.recipients.push_back(rc);
    }
    if (h.version >= 3) {
        h.data_id = r.le(8);
        if (h.data_id == 0) return damaged("vault header names no data file");
    }
    if (h.version >= 4) {
        r.copy(h.vault_id);
        h.generation = r.le(8);
        if (!has_vault_id(h)) return damaged("vault header has no vault id");
        if (h.generation == 0) return damaged("vault header has generation 0");
    }
    r.copy(h.payload_nonce);
    h.payload_len = r.le(8);
    if (h.payload_len < crypto::k_tag_bytes || h.payload_len > k_max_payload_bytes)
        return damaged("vault header has an invalid payload length");
    std::uint64_t rest = file_size - hsize;
    if (rest < h.payload_len) return damaged("vault is truncated (payload shorter than its header says)");
    // Version 2 keeps its boxes after the index; the index says how many bytes.
    if (h.version != k_format_v2 && rest > h.payload_len) return damaged("vault has trailing bytes after the payload");
    return h;
}

Result<Parsed> parse(std::span<const std::uint8_t> file)
{
    PITOOL_TRY_ASSIGN(auto h, parse_header(file, file.size()));
    std::size_t hsize = header_size(h.recipients.size(), h.version);
    Parsed p;
    p.header = std::move(h);
    p.header_bytes = file.first(hsize);
    p.ciphertext = file.subspan(hsize, static_cast<std::size_t>(p.header.payload_len));
    p.data = file.subspan(hsize + p.ciphertext.size());
    return p;
}

} // namespace pitool::vault
