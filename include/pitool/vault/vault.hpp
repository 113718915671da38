#pragma once
/// An unlocked vault: the decrypted payload plus the data key that seals it.

#include "pitool/core/model.hpp"
#include "pitool/crypto/crypto.hpp"
#include "pitool/vault/format.hpp"
#include "pitool/vault/storage.hpp"

namespace pitool::vault {

class Vault {
public:
    /// Makes a new vault in `storage` with a fresh random data key wrapped by
    /// `passphrase` (secret) under `params`, holding `initial`. Errc::conflict
    /// if a vault exists. The caller holds storage.lock().
    [[nodiscard]] static Result<Vault> create(Storage& storage, const Secret& passphrase,
                                              const crypto::KdfParams& params, core::Payload initial = {});

    /// Reads and decrypts the vault. Errc::not_found (no vault),
    /// Errc::wrong_passphrase, Errc::damaged (not a vault, unsupported,
    /// corrupted), Errc::io. Never writes. If `known` is an open vault whose
    /// recipients are byte-identical to the file's, its data key is reused and
    /// the (slow) key derivation skipped: open once without the lock, then
    /// again under it.
    [[nodiscard]] static Result<Vault> open(Storage& storage, const Secret& passphrase, const Vault* known = nullptr);

    /// Opens with an already unwrapped data key (secret), e.g. one held by the
    /// agent, skipping key derivation. Errc::wrong_passphrase if `key` does
    /// not open this vault; otherwise the errors of open().
    [[nodiscard]] static Result<Vault> open_with_key(Storage& storage, const Secret& key);

    /// The data key (secret): for handing to the agent only.
    [[nodiscard]] const Secret& data_key() const noexcept { return m_key; }

    [[nodiscard]] core::Payload& payload() noexcept { return m_payload; }
    [[nodiscard]] const core::Payload& payload() const noexcept { return m_payload; }
    [[nodiscard]] const Header& header() const noexcept { return m_header; }

    /// Seals the payload under a fresh nonce and replaces the stored vault
    /// atomically. The caller holds storage.lock().
    [[nodiscard]] Status save();

    /// Re-wraps the data key under a new passphrase (and KDF parameters) and
    /// saves. The payload is re-sealed under the same data key.
    [[nodiscard]] Status change_passphrase(const Secret& passphrase, const crypto::KdfParams& params);

private:
    Vault(Storage& storage, Secret key, Header header, core::Payload payload);
    Storage* m_storage;
    Secret m_key; ///< secret: the data key
    Header m_header;
    core::Payload m_payload;
};

/// Decrypts a vault image with a passphrase without any storage (tests,
/// fuzzers, verify). Same errors as Vault::open.
[[nodiscard]] Result<core::Payload> decrypt_image(std::span<const std::uint8_t> file, const Secret& passphrase);

} // namespace pitool::vault
