#include "vault/boxes.hpp"

#include "pitool/core/record_codec.hpp"
#include "pitool/vault/vault.hpp"

#include <algorithm>
#include <string>

namespace pitool::vault::detail {

std::vector<std::uint8_t> data_header(std::uint64_t id)
{
    std::vector<std::uint8_t> out(k_data_magic.begin(), k_data_magic.end());
    out.push_back(1);
    out.resize(k_data_header_bytes - 8, 0);
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(id >> (8 * i)));
    return out;
}

void box_ad_into(std::vector<std::uint8_t>& ad, BoxKind kind, std::string_view name)
{
    static constexpr char k_domain[] = "pitool/v2/box";
    ad.assign(k_domain, k_domain + sizeof k_domain);
    ad.push_back(static_cast<std::uint8_t>(kind));
    ad.insert(ad.end(), name.begin(), name.end());
}

std::vector<std::uint8_t> box_ad(BoxKind kind, std::string_view name)
{
    std::vector<std::uint8_t> ad;
    box_ad_into(ad, kind, name);
    return ad;
}

std::vector<std::uint8_t> chunk_ad(std::size_t i)
{
    return box_ad(BoxKind::history, std::to_string(i));
}

Tag tag_of(std::span<const std::uint8_t> box)
{
    Tag t{};
    std::copy(box.end() - static_cast<std::ptrdiff_t>(t.size()), box.end(), t.begin());
    return t;
}

BoxRef append_sealed(std::vector<std::uint8_t>& data, std::span<const std::uint8_t> plain,
                     std::span<const std::uint8_t> ad, const Secret& key)
{
    BoxRef b;
    b.off = data.size();
    crypto::seal_box(plain, ad, key, data);
    b.len = static_cast<std::uint32_t>(data.size() - b.off);
    b.tag = tag_of({data.data() + b.off, b.len});
    return b;
}

BoxRef append_copy(std::vector<std::uint8_t>& data, const std::uint8_t* from, const BoxRef& ref)
{
    BoxRef b = ref;
    b.off = data.size();
    data.insert(data.end(), from + ref.off, from + ref.off + ref.len);
    return b;
}

Error damaged_record(std::string_view name)
{
    return make_error(Errc::damaged, "vault record '" + std::string(name) + "' is corrupted (authentication failed)");
}

Error wiped_record(std::string_view name)
{
    return make_error(Errc::damaged, "the tokens of vault record '" + std::string(name) + "' " +
                                         std::string(k_wiped_phrase) +
                                         " (this generation is older than the vault's backup; or the vault changed "
                                         "twice while this command read it: run it again)");
}

Result<std::vector<std::uint8_t>> open_plain(std::span<const std::uint8_t> box, const Tag& tag,
                                             std::span<const std::uint8_t> ad, const Secret& key)
{
    std::vector<std::uint8_t> plain(box.size() >= crypto::k_box_overhead ? box.size() - crypto::k_box_overhead : 0);
    if (box.size() < crypto::k_box_overhead || tag_of(box) != tag || !crypto::open_box(box, ad, key, plain))
        return make_error(Errc::damaged, "");
    return plain;
}

bool open_meta_box(std::span<const std::uint8_t> box, const IndexEntry& e, const Secret& key,
                   std::vector<std::uint8_t>& ad, std::vector<std::uint8_t>& out)
{
    if (box.size() < crypto::k_box_overhead || tag_of(box) != e.meta.tag) return false;
    box_ad_into(ad, BoxKind::meta, e.name);
    const std::size_t at = out.size();
    out.resize(at + box.size() - crypto::k_box_overhead);
    return crypto::open_box(box, ad, key, std::span<std::uint8_t>(out).subspan(at));
}

Status decode_checked(std::span<const std::uint8_t> plain, const IndexEntry& e, core::Integration& out)
{
    PITOOL_TRY(core::decode_meta_into(plain, out));
    if (out.name != e.name || out.rotation.has_value() != ((e.flags & entry_rotation) != 0) ||
        (out.oauth && out.oauth->refresh_token.has_value()) != ((e.flags & entry_refresh) != 0))
        return make_error(Errc::damaged, "vault record '" + e.name + "' does not match the index");
    return {};
}

Status decode_meta_into(std::span<const std::uint8_t> box, const IndexEntry& e, const Secret& key,
                        core::Integration& out)
{
    // Metadata is not secret: one buffer each for the plaintext and the
    // associated data serves every record a pass over 100,000 decodes.
    thread_local std::vector<std::uint8_t> ad;
    thread_local std::vector<std::uint8_t> plain;
    plain.clear();
    if (!open_meta_box(box, e, key, ad, plain)) return damaged_record(e.name);
    return decode_checked(plain, e, out);
}

Status decode_secrets_into(std::span<const std::uint8_t> box, const IndexEntry& e, const Secret& key,
                           core::Integration& in)
{
    if (!box.empty() && std::all_of(box.begin(), box.end(), [](std::uint8_t b) { return b == 0; }))
        return wiped_record(e.name);
    if (box.size() < crypto::k_box_overhead || tag_of(box) != e.secrets.tag) return damaged_record(e.name);
    Secret plain(box.size() - crypto::k_box_overhead);
    if (!crypto::open_box(box, box_ad(BoxKind::secrets, e.name), key, {plain.data(), plain.size()}))
        return damaged_record(e.name);
    return core::decode_secrets(std::move(plain), in);
}

std::uint8_t entry_flags(const core::Integration& in)
{
    return static_cast<std::uint8_t>((in.rotation ? entry_rotation : 0) |
                                     (in.oauth && in.oauth->refresh_token ? entry_refresh : 0));
}

IndexEntry entry_of(const core::Integration& in)
{
    IndexEntry e;
    e.name = in.name;
    e.flags = entry_flags(in);
    e.window_end = in.rotation ? epoch(in.rotation->old_expires_at) : 0;
    return e;
}

void summarise(std::span<const IndexEntry> entries, std::uint64_t& bytes, std::int64_t& window_end)
{
    bytes = 0;
    window_end = 0;
    for (const auto& e : entries) {
        bytes += std::uint64_t{e.meta.len} + e.secrets.len;
        if (e.window_end != 0 && (window_end == 0 || e.window_end < window_end)) window_end = e.window_end;
    }
}

Result<std::vector<std::uint8_t>> open_index(const Snapshot& head, const Header& header,
                                             std::span<const std::uint8_t> header_bytes, const Secret& key)
{
    std::vector<std::uint8_t> plain(static_cast<std::size_t>(header.payload_len));
    PITOOL_TRY(head.read(header_bytes.size(), plain));
    // The index holds no secret: a plain buffer, not guarded memory.
    // It is decrypted in place (libsodium's stream XOR allows out == in), so
    // a large index costs one buffer, not two.
    const std::size_t sealed_len = plain.size();
    if (!crypto::open_into(std::span<const std::uint8_t>(plain), header.payload_nonce, header_bytes, key,
                           std::span<std::uint8_t>(plain.data(), sealed_len - crypto::k_tag_bytes)))
        return make_error(Errc::wrong_passphrase, "the key does not open this vault");
    plain.resize(sealed_len - crypto::k_tag_bytes);
    return plain;
}

} // namespace pitool::vault::detail
