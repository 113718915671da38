// Writes the fuzz seeds that need pitool itself to produce them:
//   <vault_dir>/min-kdf-v1.vault   a real vault file (the format of the day; the
//                                  committed one is v1), minimum KDF cost, passphrase
//                                  "fuzz-passphrase" (fuzz_vault_parse decrypts it)
//   <payload_dir>/full-payload.json the same payload as plain JSON text
// Usage: make_vault_seed VAULT_DIR PAYLOAD_DIR
// The committed seeds came from this program; rerun it only to refresh them.

#include "pitool/vault/legacy_payload.hpp"
#include "pitool/crypto/crypto.hpp"
#include "pitool/vault/vault.hpp"

#include <cstdio>
#include <fstream>
#include <string>

using namespace pitool;

namespace {

Timestamp at(std::int64_t s)
{
    return Timestamp{Seconds{s}};
}

core::Payload sample()
{
    core::Payload p;
    core::Integration pit;
    pit.name = "acme-crm";
    pit.description = "Acme sub-account";
    pit.level = core::Level::location;
    pit.account_id = "ve9EPM428h8vShlRW1KT";
    pit.scopes = {"contacts.write", "locations.readonly"};
    pit.base_url = "https://services.leadconnectorhq.com";
    pit.created_at = at(1764306000);
    pit.token.value = Secret::from("pit-0c1f4d2e-5b6a-4c3d-9e8f-7a6b5c4d3e2f");
    pit.token.issued_at = at(1764306000);
    core::RotationWindow w;
    w.old.value = Secret::from("pit-11111111-2222-4333-8444-555555555555");
    w.old.issued_at = at(1764000000);
    w.started_at = at(1764306000);
    w.old_expires_at = at(1764910800);
    pit.rotation = std::move(w);
    pit.last_check = core::LastCheck{at(1764306100), 200, true, "GET /locations/ve9EPM428h8vShlRW1KT 200"};
    p.integrations.push_back(std::move(pit));

    core::Integration oauth;
    oauth.name = "agency-oauth";
    oauth.kind = core::Kind::oauth;
    oauth.level = core::Level::agency;
    oauth.account_id = "5DP4iH6HLkQsiKESj6rh";
    oauth.scopes = {"companies.readonly", "oauth.write"};
    oauth.base_url = "https://services.leadconnectorhq.com";
    oauth.created_at = at(1764306000);
    oauth.token.value = Secret::from("eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl");
    oauth.token.issued_at = at(1764306000);
    core::OAuthSession s;
    s.refresh_token = Secret::from("rt-abcdefghijklmnopqrstuvwxyz012345");
    s.access_expires_at = at(1764392399);
    s.user_type = "Company";
    s.user_id = "usr-1";
    s.app = "my-app";
    oauth.oauth = std::move(s);
    p.integrations.push_back(std::move(oauth));

    core::Integration hint;
    hint.name = "hint-practice";
    hint.provider = core::Provider::hint;
    hint.kind = core::Kind::practice_key;
    hint.account_id = "pra-8Yq2";
    hint.base_url = "https://api.hint.com";
    hint.created_at = at(1764306000);
    hint.token.value = Secret::from("sk_practice_0123456789abcdef");
    hint.token.issued_at = at(1764306000);
    hint.extra = {{"integration_id", "int-42"}, {"practice_name", "Main Street Clinic"}, {"status", "connected"}};
    p.integrations.push_back(std::move(hint));

    p.record(core::Event{at(1764306000), "create", "acme-crm", "3e2f:1a2b3c4d", "ops@host", "", ""});
    p.record(core::Event{at(1764306050), "rotate", "acme-crm", "3e2f:1a2b3c4d", "ops@host", "expire later", ""});
    return p;
}

bool write_file(const std::string& path, const void* data, std::size_t size)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
    return static_cast<bool>(out);
}

} // namespace

int main(int argc, char** argv)
{
    if (argc != 3) {
        std::fprintf(stderr, "usage: make_vault_seed VAULT_DIR PAYLOAD_DIR\n");
        return 2;
    }
    if (!crypto::init()) return 1;
    const crypto::KdfParams minimum{1, 8192}; // crypto_pwhash's minimums
    vault::MemoryStorage storage;
    auto v = vault::Vault::create(storage, Secret::from("fuzz-passphrase"), minimum, sample());
    if (!v) {
        std::fprintf(stderr, "make_vault_seed: %s\n", v.error().message.c_str());
        return 1;
    }
    SecureString text = vault::legacy::encode_payload(v->payload());
    bool ok = write_file(std::string(argv[1]) + "/min-kdf-v1.vault", storage.bytes().data(), storage.bytes().size()) &&
              write_file(std::string(argv[2]) + "/full-payload.json", text.data(), text.size());
    return ok ? 0 : 1;
}
