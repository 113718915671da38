#include "vault/legacy_reader.hpp"

#include "pitool/vault/legacy_payload.hpp"
#include "vault/boxes.hpp"

#include <algorithm>

namespace pitool::vault::detail {
namespace {

/// A version 2 file's boxes (the bytes after its index, offsets from
/// there), then boxes made in memory: read only.
class LegacyBoxLog final : public BoxLog {
public:
    LegacyBoxLog(std::unique_ptr<Snapshot> file, std::uint64_t at, std::uint64_t len, std::vector<std::uint8_t> tail)
        : m_file(std::move(file)), m_at(at), m_len(len), m_tail(std::move(tail))
    {
    }
    [[nodiscard]] std::uint64_t size() const override { return m_len + m_tail.size(); }
    [[nodiscard]] Status read(std::uint64_t offset, std::span<std::uint8_t> out) const override
    {
        if (offset > size() || out.size() > size() - offset) return make_error(Errc::damaged, "vault is truncated");
        if (offset >= m_len) {
            std::copy_n(m_tail.begin() + static_cast<std::ptrdiff_t>(offset - m_len), out.size(), out.begin());
            return {};
        }
        const auto in_file = std::min<std::uint64_t>(out.size(), m_len - offset);
        PITOOL_TRY(m_file->read(m_at + offset, out.first(static_cast<std::size_t>(in_file))));
        std::copy_n(m_tail.begin(), out.size() - in_file, out.begin() + static_cast<std::ptrdiff_t>(in_file));
        return {};
    }
    [[nodiscard]] Status put(std::span<const std::uint8_t>) override
    {
        return make_error(Errc::internal, "a version 2 vault is not appended to");
    }
    [[nodiscard]] Status sync() override { return {}; }
    [[nodiscard]] Status discard_from(std::uint64_t) override { return {}; }
    [[nodiscard]] Status wipe(std::uint64_t, std::uint64_t) override
    {
        return make_error(Errc::internal, "a version 2 vault is not wiped in place");
    }

private:
    std::unique_ptr<Snapshot> m_file;
    std::uint64_t m_at;
    std::uint64_t m_len;
    std::vector<std::uint8_t> m_tail;
};

/// Version 1: one JSON payload holding every token.
Result<Converted> read_v1(Header& header, std::span<const std::uint8_t> header_bytes, const Snapshot& snap,
                          const Secret& key)
{
    std::vector<std::uint8_t> sealed(static_cast<std::size_t>(header.payload_len));
    PITOOL_TRY(snap.read(header_bytes.size(), sealed));
    auto plain = crypto::open(sealed, header.payload_nonce, header_bytes, key);
    // The first recipient that unwraps a key decides; a key that does not
    // open the payload is a wrong (agent) key, or a damaged file.
    if (!plain) return make_error(Errc::wrong_passphrase, "the key does not open this vault");
    PITOOL_TRY_ASSIGN(auto payload, legacy::decode_payload(plain->view()));
    header.version = k_format_version;
    Converted c;
    c.payload = std::move(payload);
    return c;
}

/// Version 2: an index of every entry, the boxes after it in the file.
Result<Converted> read_v2(const Header& header, std::span<const std::uint8_t> header_bytes,
                          std::unique_ptr<Snapshot> snap, const Secret& key)
{
    PITOOL_TRY_ASSIGN(auto plain, open_index(*snap, header, header_bytes, key));
    PITOOL_TRY_ASSIGN(auto index, decode_index(plain));
    const std::uint64_t data_at = header_bytes.size() + header.payload_len;
    if (snap->size() - data_at != index.data_len)
        return make_error(Errc::damaged, "vault is truncated or has trailing bytes (size does not match its index)");
    // Every entry in one part, sealed in memory after the file's boxes.
    std::vector<std::uint8_t> tail;
    auto top = std::make_unique<Index>(std::move(index));
    if (!top->entries.empty()) {
        Part p;
        p.first = top->entries.front().name;
        p.count = static_cast<std::uint32_t>(top->entries.size());
        summarise(top->entries, p.bytes, p.window_end);
        p.box = append_sealed(tail, encode_part(top->entries), box_ad(BoxKind::index, ""), key);
        p.box.off += top->data_len;
        top->parts.push_back(std::move(p));
    }
    top->entries.clear();
    Converted c;
    c.boxes = std::make_unique<LegacyBoxLog>(std::move(snap), data_at, top->data_len, std::move(tail));
    top->data_len = c.boxes->size();
    c.index = std::move(top);
    return c;
}

} // namespace

Result<Converted> read_legacy(Header& header, std::span<const std::uint8_t> header_bytes,
                              std::unique_ptr<Snapshot> snap, const Secret& key)
{
    if (header.version == k_format_v1) return read_v1(header, header_bytes, *snap, key);
    if (header.version == k_format_v2) return read_v2(header, header_bytes, std::move(snap), key);
    return make_error(Errc::damaged, "unsupported vault format version " + std::to_string(header.version));
}

} // namespace pitool::vault::detail
