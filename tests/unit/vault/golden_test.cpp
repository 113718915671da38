// The golden vault: tests/data/golden-v1.vault was written once by the
// generator below and committed. Opening it with today's code must keep
// working; a change to the format or the payload schema that breaks old
// vaults fails here.
//
// Regenerate only for a deliberate new golden file (never to make this pass):
//   PITOOL_WRITE_GOLDEN=1 ./pitool_unit_tests --gtest_filter='GoldenVault.Write'

#include "pitool/core/lifecycle.hpp"
#include "pitool/vault/vault.hpp"

#include "support/process.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace pitool::vault {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const fs::path k_golden = fs::path(PITOOL_TEST_DATA) / "golden-v1.vault";
const fs::path k_golden_v2 = fs::path(PITOOL_TEST_DATA) / "golden-v2.vault";
/// Version 3 is two files: the vault and its data file
/// (golden-v3.vault.data-<id>).
const fs::path k_golden_v3 = fs::path(PITOOL_TEST_DATA) / "golden-v3.vault";
/// Version 4 too (golden-v4.vault.data-<id>).
const fs::path k_golden_v4 = fs::path(PITOOL_TEST_DATA) / "golden-v4.vault";

/// Copies a golden vault to `to`, with its data files (renamed to match).
void install_golden(const fs::path& golden, const fs::path& to)
{
    test::write_file(to, test::read_file(golden)); // 0600: the repo copy may be 0644
    const std::string prefix = golden.filename().string() + ".data-";
    for (const auto& e : fs::directory_iterator(golden.parent_path())) {
        const std::string name = e.path().filename().string();
        if (name.rfind(prefix, 0) == 0)
            test::write_file(to.string() + ".data-" + name.substr(prefix.size()), test::read_file(e.path()));
    }
}
constexpr std::string_view k_passphrase = "golden-passphrase";

Timestamp ts(const char* text)
{
    return parse_rfc3339(text).value();
}

core::Payload golden_payload()
{
    core::Payload p;

    core::Integration pit;
    pit.name = "acme-prod";
    pit.provider = core::Provider::leadconnector;
    pit.kind = core::Kind::pit;
    pit.description = "Acme production sub-account";
    pit.level = core::Level::location;
    pit.account_id = "ve9EPM428h8vShlRW1KT";
    pit.scopes = {"contacts.readonly", "contacts.write", "locations.readonly"};
    pit.base_url = "https://services.leadconnectorhq.com";
    pit.created_at = ts("2026-01-05T09:00:00Z");
    pit.token = core::make_token(Secret::from("pit-golden-old-0000-1111"), ts("2026-01-05T09:00:00Z"));
    pit.last_check = core::LastCheck{ts("2026-02-01T10:00:00Z"), 200, true, "GET /locations/ve9EPM428h8vShlRW1KT 200"};
    (void)core::rotate_later(pit,
                             core::make_token(Secret::from("pit-golden-new-2222-3333"), ts("2026-03-01T12:00:00Z")),
                             ts("2026-03-01T12:00:00Z"));
    p.integrations.push_back(std::move(pit));

    core::Integration hint;
    hint.name = "hint-clinic";
    hint.provider = core::Provider::hint;
    hint.kind = core::Kind::practice_key;
    hint.description = "Clinic practice key";
    hint.account_id = "pra-42";
    hint.base_url = "https://api.hint.com";
    hint.created_at = ts("2026-02-10T08:30:00Z");
    hint.token = core::make_token(Secret::from("hint-golden-practice-key-4444"), ts("2026-02-10T08:30:00Z"));
    hint.extra = {{"integration_id", "int-7"}, {"practice_name", "Golden Clinic"}};
    p.integrations.push_back(std::move(hint));

    auto event = [&](const char* at, const char* action, const char* name, const std::string& fp, const char* detail) {
        core::Event e;
        e.at = ts(at);
        e.action = action;
        e.name = name;
        e.fingerprint = fp;
        e.actor = "golden@host";
        e.detail = detail;
        p.record(std::move(e));
    };
    event("2026-01-05T08:59:00Z", "init", "", "", "kdf interactive");
    event("2026-01-05T09:00:00Z", "create", "acme-prod", p.integrations[0].rotation->old.fingerprint, "");
    event("2026-02-10T08:30:00Z", "create", "hint-clinic", p.integrations[1].token.fingerprint, "");
    event("2026-03-01T12:00:00Z", "rotate", "acme-prod", p.integrations[0].token.fingerprint, "expire later");
    return p;
}

// Literal expectations (not golden_payload()) so that a change to the
// generator or to make_token/fingerprint cannot silently move both sides.
void expect_golden_content(const core::Payload& p)
{
    ASSERT_EQ(p.integrations.size(), 2u);
    const auto& a = p.integrations[0];
    EXPECT_EQ(a.name, "acme-prod");
    EXPECT_EQ(a.provider, core::Provider::leadconnector);
    EXPECT_EQ(a.kind, core::Kind::pit);
    EXPECT_EQ(a.description, "Acme production sub-account");
    EXPECT_EQ(a.level, core::Level::location);
    EXPECT_EQ(a.account_id, "ve9EPM428h8vShlRW1KT");
    EXPECT_EQ(a.scopes, (std::vector<std::string>{"contacts.readonly", "contacts.write", "locations.readonly"}));
    EXPECT_EQ(a.base_url, "https://services.leadconnectorhq.com");
    EXPECT_TRUE(a.client_id.empty());
    EXPECT_EQ(format_rfc3339(a.created_at), "2026-01-05T09:00:00Z");
    EXPECT_TRUE(a.token.value.equals(std::string_view("pit-golden-new-2222-3333")));
    EXPECT_EQ(format_rfc3339(a.token.issued_at), "2026-03-01T12:00:00Z");
    EXPECT_EQ(a.token.fingerprint.substr(0, 5), "3333:");
    ASSERT_TRUE(a.rotation.has_value());
    EXPECT_TRUE(a.rotation->old.value.equals(std::string_view("pit-golden-old-0000-1111")));
    EXPECT_EQ(format_rfc3339(a.rotation->old.issued_at), "2026-01-05T09:00:00Z");
    EXPECT_EQ(a.rotation->old.fingerprint.substr(0, 5), "1111:");
    EXPECT_EQ(format_rfc3339(a.rotation->started_at), "2026-03-01T12:00:00Z");
    EXPECT_EQ(format_rfc3339(a.rotation->old_expires_at), "2026-03-08T12:00:00Z");
    EXPECT_FALSE(a.oauth.has_value());
    EXPECT_FALSE(a.last_check.has_value()) << "rotate_later clears the last check";
    EXPECT_TRUE(a.extra.empty());

    const auto& h = p.integrations[1];
    EXPECT_EQ(h.name, "hint-clinic");
    EXPECT_EQ(h.provider, core::Provider::hint);
    EXPECT_EQ(h.kind, core::Kind::practice_key);
    EXPECT_EQ(h.description, "Clinic practice key");
    EXPECT_EQ(h.level, core::Level::none);
    EXPECT_EQ(h.account_id, "pra-42");
    EXPECT_TRUE(h.scopes.empty());
    EXPECT_EQ(h.base_url, "https://api.hint.com");
    EXPECT_EQ(format_rfc3339(h.created_at), "2026-02-10T08:30:00Z");
    EXPECT_TRUE(h.token.value.equals(std::string_view("hint-golden-practice-key-4444")));
    EXPECT_EQ(format_rfc3339(h.token.issued_at), "2026-02-10T08:30:00Z");
    EXPECT_FALSE(h.rotation.has_value());
    EXPECT_FALSE(h.oauth.has_value());
    EXPECT_FALSE(h.last_check.has_value());
    EXPECT_EQ(h.extra, (std::vector<std::pair<std::string, std::string>>{{"integration_id", "int-7"},
                                                                         {"practice_name", "Golden Clinic"}}));

    ASSERT_EQ(p.history.size(), 4u);
    EXPECT_EQ(p.first_broken_event(), -1);
    const char* actions[] = {"init", "create", "create", "rotate"};
    const char* names[] = {"", "acme-prod", "hint-clinic", "acme-prod"};
    const char* times[] = {"2026-01-05T08:59:00Z", "2026-01-05T09:00:00Z", "2026-02-10T08:30:00Z",
                           "2026-03-01T12:00:00Z"};
    for (std::size_t i = 0; i < 4; ++i) {
        SCOPED_TRACE(i);
        EXPECT_EQ(p.history[i].action, actions[i]);
        EXPECT_EQ(p.history[i].name, names[i]);
        EXPECT_EQ(format_rfc3339(p.history[i].at), times[i]);
        EXPECT_EQ(p.history[i].actor, "golden@host");
        EXPECT_EQ(p.history[i].hash.size(), 64u);
    }
    EXPECT_EQ(p.history[0].detail, "kdf interactive");
    EXPECT_EQ(p.history[3].detail, "expire later");
    EXPECT_EQ(p.history[1].fingerprint, a.rotation->old.fingerprint);
    EXPECT_EQ(p.history[2].fingerprint, h.token.fingerprint);
    EXPECT_EQ(p.history[3].fingerprint, a.token.fingerprint);
}

TEST(GoldenVault, Write)
{
    const char* flag = std::getenv("PITOOL_WRITE_GOLDEN");
    if (flag == nullptr || std::string(flag) != "1") GTEST_SKIP() << "set PITOOL_WRITE_GOLDEN=1 to regenerate";
    ASSERT_TRUE(crypto::init());
    test::TempDir dir;
    FileStorage storage(dir / "golden.vault");
    auto v = Vault::create(storage, Secret::from(k_passphrase), crypto::params_for(crypto::KdfLevel::interactive),
                           golden_payload());
    ASSERT_TRUE(v) << v.error().message;
    // Today's code writes version 4: the v1, v2 and v3 files are kept as
    // they were committed.
    fs::copy_file(storage.path(), k_golden_v4, fs::copy_options::overwrite_existing);
    for (const auto& e : fs::directory_iterator(dir.path())) {
        const std::string name = e.path().filename().string();
        if (name.rfind("golden.vault.data-", 0) == 0)
            fs::copy_file(e.path(), k_golden_v4.string() + name.substr(std::string("golden.vault").size()),
                          fs::copy_options::overwrite_existing);
    }
}

TEST(GoldenVault, OpensAndHoldsEveryField)
{
    ASSERT_TRUE(crypto::init());
    ASSERT_TRUE(fs::exists(k_golden)) << k_golden;
    const std::string raw = test::read_file(k_golden);
    const std::vector<std::uint8_t> image(raw.begin(), raw.end());

    auto parsed = parse(image);
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(parsed->header.version, 1);
    ASSERT_EQ(parsed->header.recipients.size(), 1u);
    EXPECT_EQ(crypto::level_of(parsed->header.recipients[0].params), crypto::KdfLevel::interactive);

    auto wrong = decrypt_image(image, Secret::from("golden-passphrasE"));
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error().code, Errc::wrong_passphrase);

    auto opened = decrypt_image(image, Secret::from(k_passphrase));
    ASSERT_TRUE(opened) << opened.error().message;
    const core::Payload& p = opened.value();

    expect_golden_content(p);
    const auto& a = p.integrations[0];

    // The golden content is also what the generator would produce today.
    auto expected = golden_payload();
    EXPECT_EQ(p.history[3].hash, expected.history[3].hash);
    EXPECT_EQ(a.token.fingerprint, expected.integrations[0].token.fingerprint);
}

TEST(GoldenVault, OpensThroughFileStorage)
{
    ASSERT_TRUE(crypto::init());
    test::TempDir dir;
    test::write_file(dir / "vault", test::read_file(k_golden)); // 0600: the repo copy may be 0644
    FileStorage storage(dir / "vault");
    auto v = Vault::open(storage, Secret::from(k_passphrase));
    ASSERT_TRUE(v) << v.error().message;
    EXPECT_EQ(v->payload().integrations.size(), 2u);
    // A save by today's code still opens (old vaults stay writable).
    ASSERT_TRUE(v->save());
    EXPECT_TRUE(Vault::open(storage, Secret::from(k_passphrase)));
}

std::vector<std::uint8_t> golden_file_bytes(const fs::path& p)
{
    const std::string raw = test::read_file(p);
    return {raw.begin(), raw.end()};
}

TEST(GoldenVault, VersionTwoOpensAndHoldsEveryField)
{
    ASSERT_TRUE(crypto::init());
    ASSERT_TRUE(fs::exists(k_golden_v2)) << k_golden_v2;
    auto image = golden_file_bytes(k_golden_v2);
    auto parsed = parse(image);
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(parsed->header.version, 2);
    auto opened = decrypt_image(image, Secret::from(k_passphrase));
    ASSERT_TRUE(opened) << opened.error().message;
    expect_golden_content(opened.value());
}

/// A golden vault with a data file (v3 and later), installed in a fresh
/// directory, opens with the passphrase and holds every field.
void expect_golden_opens_from_storage(const fs::path& golden)
{
    test::TempDir dir;
    install_golden(golden, dir / "vault");
    FileStorage storage(dir / "vault");
    auto opened = decrypt_storage(storage, Secret::from(k_passphrase));
    ASSERT_TRUE(opened) << opened.error().message;
    expect_golden_content(opened.value());
}

TEST(GoldenVault, VersionThreeOpensAndHoldsEveryField)
{
    ASSERT_TRUE(crypto::init());
    ASSERT_TRUE(fs::exists(k_golden_v3)) << k_golden_v3;
    EXPECT_EQ(parse(golden_file_bytes(k_golden_v3))->header.version, 3);
    expect_golden_opens_from_storage(k_golden_v3);
}

TEST(GoldenVault, VersionFourOpensAndHoldsEveryField)
{
    ASSERT_TRUE(crypto::init());
    ASSERT_TRUE(fs::exists(k_golden_v4)) << k_golden_v4;
    auto parsed = parse(golden_file_bytes(k_golden_v4));
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(parsed->header.version, 4);
    EXPECT_TRUE(has_vault_id(parsed->header));
    EXPECT_EQ(parsed->header.generation, 1u);
    expect_golden_opens_from_storage(k_golden_v4);
}

/// The golden vault of format `version` (1 to 4).
fs::path golden_of_version(int version)
{
    switch (version) {
    case 1:
        return k_golden;
    case 2:
        return k_golden_v2;
    case 3:
        return k_golden_v3;
    default:
        return k_golden_v4;
    }
}

class GoldenMigration : public ::testing::TestWithParam<int> {};

TEST_P(GoldenMigration, IsMigratedToVersionFourAtTheFirstWrite)
{
    const fs::path golden = golden_of_version(GetParam());
    ASSERT_TRUE(crypto::init());
    test::TempDir dir;
    install_golden(golden, dir / "vault");
    FileStorage storage(dir / "vault");
    auto v = Vault::open(storage, Secret::from(k_passphrase));
    ASSERT_TRUE(v) << v.error().message;
    EXPECT_EQ(v->file_version(), GetParam());
    EXPECT_FALSE(v->has_id()) << "no id until the first version 4 write";
    EXPECT_EQ(v->generation(), 0u);
    ASSERT_TRUE(v->save());
    EXPECT_EQ(v->file_version(), 4);
    EXPECT_TRUE(v->has_id()) << "a fresh id";
    EXPECT_EQ(v->generation(), 1u);

    auto header = parse(golden_file_bytes(storage.path()))->header;
    EXPECT_EQ(header.version, 4);
    EXPECT_EQ(header.vault_id, v->id());
    EXPECT_EQ(header.generation, 1u);
    auto opened = decrypt_storage(storage, Secret::from(k_passphrase));
    ASSERT_TRUE(opened) << opened.error().message;
    expect_golden_content(opened.value());
    // The old generation is the backup, byte for byte, and still opens.
    EXPECT_EQ(test::read_file(storage.backup_path()), test::read_file(golden));
    FileStorage previous(storage.backup_path(), storage.path());
    auto old = decrypt_storage(previous, Secret::from(k_passphrase));
    ASSERT_TRUE(old) << old.error().message;
    expect_golden_content(old.value());

    // And the migrated vault opens lazily: index first, records on demand.
    auto lazy = Vault::open(storage, Secret::from(k_passphrase));
    ASSERT_TRUE(lazy);
    EXPECT_TRUE(lazy->payload().integrations.empty());
    EXPECT_EQ(lazy->names().value(), (std::vector<std::string>{"acme-prod", "hint-clinic"}));
    ASSERT_TRUE(lazy->load("hint-clinic", /*secrets=*/false));
    ASSERT_EQ(lazy->payload().integrations.size(), 1u);
    EXPECT_TRUE(lazy->payload().integrations[0].sealed);
    EXPECT_TRUE(lazy->payload().integrations[0].token.value.empty());
}

INSTANTIATE_TEST_SUITE_P(FromVersions, GoldenMigration, ::testing::Values(1, 2, 3));

class GoldenRekey : public ::testing::TestWithParam<int> {};

TEST_P(GoldenRekey, ChangePassphraseResealsEveryVersionUnderANewKey)
{
    // passwd on a vault of any version: a version 4 generation under a new
    // data key, every field and event as it was; the old key opens none of it.
    const fs::path golden = golden_of_version(GetParam());
    ASSERT_TRUE(crypto::init());
    test::TempDir dir;
    install_golden(golden, dir / "vault");
    FileStorage storage(dir / "vault");
    auto v = Vault::open(storage, Secret::from(k_passphrase));
    ASSERT_TRUE(v) << v.error().message;
    const Secret old_key = v->data_key().clone();
    ASSERT_TRUE(
        v->change_passphrase(Secret::from("golden-rekeyed"), crypto::params_for(crypto::KdfLevel::interactive)));
    EXPECT_EQ(v->file_version(), 4);
    EXPECT_FALSE(v->data_key().equals(old_key));

    auto opened = decrypt_storage(storage, Secret::from("golden-rekeyed"));
    ASSERT_TRUE(opened) << opened.error().message;
    expect_golden_content(opened.value());
    auto stale = Vault::open_with_key(storage, old_key);
    ASSERT_FALSE(stale);
    EXPECT_EQ(stale.error().code, Errc::wrong_passphrase);
    // The backup is the golden generation, under the old passphrase.
    FileStorage previous(storage.backup_path(), storage.path());
    auto old = decrypt_storage(previous, Secret::from(k_passphrase));
    ASSERT_TRUE(old) << old.error().message;
    expect_golden_content(old.value());
}

INSTANTIATE_TEST_SUITE_P(FromVersions, GoldenRekey, ::testing::Values(1, 2, 3, 4));

} // namespace
} // namespace pitool::vault
