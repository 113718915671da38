#pragma once
// An independent reader of pitool vaults, written from docs/vault-format.md
// alone: libsodium and nlohmann-json, no pitool header, no code shared with
// src/. The tests use it as their oracle: a bug in the vault code cannot
// agree with itself, because what pitool wrote is read back by a second
// implementation of the documented format.
//
// Reads versions 1 (one sealed JSON payload), 2 (an index and a data region
// after it), 3 (a top index, parts and boxes in the data file beside the
// vault) and 4 (version 3 with the vault's id and generation in the header).
// Checks what the document promises a reader can check (magic, version,
// flags, checksum, lengths, KDF caps, tags pinned by the index, parts sorted
// and matching the top index, entries sorted and unique, the secret slots
// agreeing with the metadata) and refuses anything else.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace pitool::oracle {

/// What a vault holds, in the version 1 payload shape (docs/vault-format.md,
/// "Version 1 payload"), whatever the version it was read from:
/// {"schema": 1, "integrations": [...], "history": [...]}, integrations in
/// name order. Besides the documented v1 fields, each integration carries
/// "token": {"secret", "issued_at", "fingerprint"} and, in a rotation,
/// "rotation": {"old": {"secret", "issued_at", "fingerprint"}, ...}
/// (fingerprints are absent when read from version 1). Holds plaintext
/// tokens: for tests only.
/// A box the reader opened (v2, v3): where it lies in the data region
/// (v3: the data file) and the associated data it opened with, so that a
/// test can try another key on it.
struct OpenedBox {
    std::uint64_t off = 0;
    std::uint32_t len = 0;
    std::string ad;
};

struct Contents {
    int version = 0;              ///< the file's format version (1 to 4)
    std::uint64_t data_id = 0;    ///< v3, v4: the data file's id
    std::string vault_id;         ///< v4: the vault's id, 32 hex digits (else empty)
    std::uint64_t generation = 0; ///< v4: the generation (else 0)
    nlohmann::json payload;
    /// The data key the passphrase unwrapped (32 bytes): secret, for tests
    /// that compare keys across a passphrase change.
    std::string data_key;
    /// v2, v3: every box opened (index parts, metadata, secrets, history
    /// chunks), in the order read.
    std::vector<OpenedBox> boxes;
    /// The data region the boxes lie in (v3: the data file's bytes).
    std::string data;
};

/// Reads `bytes` (the `vault` file) with `passphrase`; a version 3 or 4 vault's
/// boxes are read from `vault_path.data-<id>`. nullopt on any failure, with
/// the reason in `why`: "wrong passphrase" when no recipient opens, anything
/// else is damage or an unsupported file. Derived keys are cached per
/// (passphrase, salt, limits), so repeated reads of one vault are cheap.
std::optional<Contents> read_vault(const std::string& bytes, const std::string& passphrase,
                                   const std::filesystem::path& vault_path, std::string* why = nullptr);

/// Reads the file at `vault_path` (and its data file).
std::optional<Contents> read_vault_file(const std::filesystem::path& vault_path, const std::string& passphrase,
                                        std::string* why = nullptr);

} // namespace pitool::oracle
