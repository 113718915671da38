#include "pitool/vault/vault.hpp"

#include "pitool/core/codec.hpp"

#include <algorithm>

namespace pitool::vault {
namespace {

Result<Recipient> wrap_key(const Secret& data_key, const Secret& passphrase, const crypto::KdfParams& params)
{
    Recipient r;
    r.params = params;
    crypto::random_bytes(r.salt);
    crypto::random_bytes(r.wrap_nonce);
    auto kek = crypto::derive_key(passphrase, r.salt, params);
    if (!kek) return std::move(kek).error();
    auto ad = recipient_ad(r);
    auto sealed = crypto::seal({data_key.data(), data_key.size()}, r.wrap_nonce, ad, kek.value());
    std::copy(sealed.begin(), sealed.end(), r.wrapped_key.begin());
    return r;
}

Result<Secret> unwrap_key(const Header& h, const Secret& passphrase)
{
    for (const auto& r : h.recipients) {
        auto kek = crypto::derive_key(passphrase, r.salt, r.params);
        if (!kek) return std::move(kek).error();
        auto ad = recipient_ad(r);
        if (auto key = crypto::open(r.wrapped_key, r.wrap_nonce, ad, kek.value());
            key && key->size() == crypto::k_key_bytes)
            return std::move(*key);
    }
    return make_error(Errc::wrong_passphrase, "wrong passphrase");
}

bool same_recipients(const Header& a, const Header& b)
{
    auto ea = encode_header(Header{a.version, a.recipients, {}, 0});
    auto eb = encode_header(Header{b.version, b.recipients, {}, 0});
    return ea == eb;
}

Result<core::Payload> open_payload(const Parsed& parsed, const Secret& key)
{
    auto plain = crypto::open(parsed.ciphertext, parsed.header.payload_nonce, parsed.header_bytes, key);
    if (!plain) return make_error(Errc::damaged, "vault payload is corrupted (authentication failed)");
    return core::decode_payload(plain->view());
}

} // namespace

Vault::Vault(Storage& storage, Secret key, Header header, core::Payload payload)
    : m_storage(&storage), m_key(std::move(key)), m_header(std::move(header)), m_payload(std::move(payload))
{
}

Result<Vault> Vault::create(Storage& storage, const Secret& passphrase, const crypto::KdfParams& params,
                            core::Payload initial)
{
    auto existing = storage.read();
    if (existing) return make_error(Errc::conflict, "a vault already exists at " + storage.describe());
    if (existing.error().code != Errc::not_found) return std::move(existing).error();
    PITOOL_TRY(crypto::check_params(params));
    Secret key = crypto::random_key();
    auto r = wrap_key(key, passphrase, params);
    if (!r) return std::move(r).error();
    Header h;
    h.recipients.push_back(r.value());
    Vault v(storage, std::move(key), std::move(h), std::move(initial));
    PITOOL_TRY(v.save());
    return v;
}

Result<Vault> Vault::open(Storage& storage, const Secret& passphrase, const Vault* known)
{
    auto bytes = storage.read();
    if (!bytes) return std::move(bytes).error();
    auto parsed = parse(bytes.value());
    if (!parsed) return std::move(parsed).error();
    Secret key;
    if (known != nullptr && same_recipients(known->m_header, parsed->header)) {
        key = known->m_key.clone();
    } else {
        auto k = unwrap_key(parsed->header, passphrase);
        if (!k) return std::move(k).error();
        key = std::move(k).value();
    }
    auto payload = open_payload(parsed.value(), key);
    if (!payload) return std::move(payload).error();
    return Vault(storage, std::move(key), parsed->header, std::move(payload).value());
}

Result<Vault> Vault::open_with_key(Storage& storage, const Secret& key)
{
    auto bytes = storage.read();
    if (!bytes) return std::move(bytes).error();
    auto parsed = parse(bytes.value());
    if (!parsed) return std::move(parsed).error();
    auto plain = crypto::open(parsed->ciphertext, parsed->header.payload_nonce, parsed->header_bytes, key);
    if (!plain) return make_error(Errc::wrong_passphrase, "the unlocked key does not open this vault");
    auto payload = core::decode_payload(plain->view());
    if (!payload) return std::move(payload).error();
    return Vault(storage, key.clone(), parsed->header, std::move(payload).value());
}

Status Vault::save()
{
    SecureString text = core::encode_payload(m_payload);
    crypto::random_bytes(m_header.payload_nonce);
    m_header.payload_len = text.size() + crypto::k_tag_bytes;
    auto header = encode_header(m_header);
    auto sealed = crypto::seal({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()},
                               m_header.payload_nonce, header, m_key);
    secure_clear(text);
    header.insert(header.end(), sealed.begin(), sealed.end());
    return m_storage->write(header);
}

Status Vault::change_passphrase(const Secret& passphrase, const crypto::KdfParams& params)
{
    PITOOL_TRY(crypto::check_params(params));
    auto r = wrap_key(m_key, passphrase, params);
    if (!r) return std::move(r).error();
    Header saved = m_header;
    m_header.recipients.assign(1, r.value());
    auto st = save();
    if (!st) m_header = std::move(saved);
    return st;
}

Result<core::Payload> decrypt_image(std::span<const std::uint8_t> file, const Secret& passphrase)
{
    auto parsed = parse(file);
    if (!parsed) return std::move(parsed).error();
    auto key = unwrap_key(parsed->header, passphrase);
    if (!key) return std::move(key).error();
    return open_payload(parsed.value(), key.value());
}

} // namespace pitool::vault
