#include "pitool/vault/vault.hpp"

#include "pitool/core/lifecycle.hpp"
#include "support/process.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <set>
#include <string>

namespace pitool::vault {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using pitool::test::read_file;
using pitool::test::TempDir;
using pitool::test::write_file;

// The cheapest Argon2id parameters check_params accepts: vault tests stay fast.
constexpr crypto::KdfParams k_vault_fast{crypto_pwhash_OPSLIMIT_MIN, 8192};
const Timestamp k_vault_t0 = Timestamp{Seconds{1'767'225'600}};

Secret pw(std::string_view s)
{
    return Secret::from(s);
}

core::Payload sample()
{
    core::Payload p;
    core::Integration in;
    in.name = "acme";
    in.base_url = "https://services.leadconnectorhq.com";
    in.created_at = k_vault_t0;
    in.token = core::make_token(Secret::from("pit-sample-token-0001"), k_vault_t0);
    p.integrations.push_back(std::move(in));
    core::Event e;
    e.at = k_vault_t0;
    e.action = "create";
    e.name = "acme";
    e.actor = "alice@host";
    p.record(e);
    return p;
}

mode_t vault_mode_of(const fs::path& p)
{
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return st.st_mode & 07777;
}

std::vector<std::uint8_t> bytes_of(const fs::path& p)
{
    auto s = read_file(p);
    return {s.begin(), s.end()};
}

void put_bytes(const fs::path& p, const std::vector<std::uint8_t>& b)
{
    write_file(p, std::string(b.begin(), b.end()));
}

/// The data files beside a vault, by name.
std::vector<fs::path> data_files(const fs::path& vault)
{
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(vault.parent_path()))
        if (e.path().filename().string().rfind(vault.filename().string() + ".data-", 0) == 0) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

/// Decodes vault.bak (whose data files are named after the vault).
Result<core::Payload> decrypt_backup(const FileStorage& storage, const Secret& pass)
{
    FileStorage previous(storage.backup_path(), storage.path());
    return decrypt_storage(previous, pass);
}

// Opens and decodes everything, so that damage anywhere shows.
Result<Vault> open_full(Storage& storage, const Secret& pass, const Vault* known = nullptr)
{
    auto v = Vault::open(storage, pass, known);
    if (!v) return v;
    PITOOL_TRY(v->load_all(/*secrets=*/true));
    PITOOL_TRY(v->load_history());
    return v;
}

class VaultTest : public testing::Test {
protected:
    void SetUp() override { ASSERT_TRUE(crypto::init()); }

    Vault make(core::Payload initial = sample())
    {
        auto v = Vault::create(storage, pw("right passphrase"), k_vault_fast, std::move(initial));
        EXPECT_TRUE(v) << v.error().message;
        return std::move(v).value();
    }

    // Opening must fail with `code` and leave the file exactly as it was.
    void expect_open_fails(Errc code, std::string_view pass = "right passphrase")
    {
        auto before = read_file(path);
        auto r = open_full(storage, pw(pass));
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, code) << r.error().message;
        EXPECT_EQ(read_file(path), before);
        EXPECT_FALSE(fs::exists(storage.backup_path())) << "a failed open must not write";
    }

    TempDir dir;
    fs::path path = dir / "vault";
    FileStorage storage{path};
};

TEST_F(VaultTest, CreateWritesPrivateFileAndDirectory)
{
    FileStorage nested(dir / "cfg" / "pitool" / "vault");
    auto v = Vault::create(nested, pw("pass"), k_vault_fast, sample());
    ASSERT_TRUE(v) << v.error().message;
    EXPECT_EQ(vault_mode_of(nested.path()), 0600u);
    EXPECT_EQ(vault_mode_of(dir / "cfg"), 0700u);
    EXPECT_EQ(vault_mode_of(dir / "cfg" / "pitool"), 0700u);
    EXPECT_FALSE(fs::exists(nested.backup_path())) << "no previous generation yet";
    auto file = bytes_of(nested.path());
    EXPECT_EQ(std::string(file.begin(), file.begin() + 8), "PITVAULT");
    EXPECT_EQ(std::string(file.begin(), file.end()).find("pit-sample-token"), std::string::npos)
        << "token in clear text";
    ASSERT_EQ(v->header().recipients.size(), 1u);
    EXPECT_EQ(v->header().recipients[0].params.opslimit, k_vault_fast.opslimit);
    EXPECT_EQ(v->header().recipients[0].params.memlimit, k_vault_fast.memlimit);
}

TEST_F(VaultTest, CreateRefusesToOverwrite)
{
    make();
    auto before = read_file(path);
    auto again = Vault::create(storage, pw("other"), k_vault_fast, {});
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, Errc::conflict);
    EXPECT_EQ(read_file(path), before);
    // Even a file that is not a vault is not overwritten.
    FileStorage junk(dir / "junk");
    write_file(junk.path(), "not a vault");
    auto over = Vault::create(junk, pw("p"), k_vault_fast, {});
    ASSERT_FALSE(over);
    EXPECT_EQ(over.error().code, Errc::conflict);
    EXPECT_EQ(read_file(junk.path()), "not a vault");
}

TEST_F(VaultTest, CreateRefusesHostileParamsWithoutWriting)
{
    auto v = Vault::create(storage, pw("p"), crypto::KdfParams{1, 1ULL << 40}, {});
    ASSERT_FALSE(v);
    EXPECT_EQ(v.error().code, Errc::damaged);
    EXPECT_FALSE(fs::exists(path));
}

TEST_F(VaultTest, OpenWithRightPassphrase)
{
    make();
    auto v = open_full(storage, pw("right passphrase"));
    ASSERT_TRUE(v) << v.error().message;
    const auto& p = v->payload();
    ASSERT_EQ(p.integrations.size(), 1u);
    EXPECT_EQ(p.integrations[0].name, "acme");
    EXPECT_TRUE(p.integrations[0].token.value.equals(std::string_view("pit-sample-token-0001")));
    ASSERT_EQ(p.history.size(), 1u);
    EXPECT_EQ(p.first_broken_event(), -1);
}

TEST_F(VaultTest, OpenMissingIsNotFound)
{
    auto r = open_full(storage, pw("x"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::not_found);
    EXPECT_FALSE(fs::exists(path));
}

TEST_F(VaultTest, WrongPassphrase)
{
    make();
    expect_open_fails(Errc::wrong_passphrase, "wrong passphrase");
    expect_open_fails(Errc::wrong_passphrase, "right passphras");
    expect_open_fails(Errc::wrong_passphrase, "right passphrase ");
    expect_open_fails(Errc::wrong_passphrase, "");
}

TEST_F(VaultTest, FlippedBitInCiphertextIsDamaged)
{
    make();
    const auto good = bytes_of(path);
    const std::size_t hsize = header_size(1);
    ASSERT_GT(good.size(), hsize + crypto::k_tag_bytes);
    for (std::size_t i = hsize; i < good.size(); i += 13) {
        auto bad = good;
        bad[i] = static_cast<std::uint8_t>(bad[i] ^ 0x40);
        put_bytes(path, bad);
        SCOPED_TRACE("byte " + std::to_string(i));
        expect_open_fails(Errc::damaged);
    }
    auto last = good;
    last.back() = static_cast<std::uint8_t>(last.back() ^ 0x01); // inside the tag
    put_bytes(path, last);
    expect_open_fails(Errc::damaged);
    put_bytes(path, good);
    EXPECT_TRUE(open_full(storage, pw("right passphrase")));
}

TEST_F(VaultTest, FlippedBitInTheDataFileIsDamaged)
{
    make();
    auto files = data_files(path);
    ASSERT_EQ(files.size(), 1u);
    const auto good = bytes_of(files[0]);
    for (std::size_t i = 0; i < good.size(); i += 7) {
        auto bad = good;
        bad[i] = static_cast<std::uint8_t>(bad[i] ^ 0x10);
        put_bytes(files[0], bad);
        SCOPED_TRACE("byte " + std::to_string(i));
        expect_open_fails(Errc::damaged);
    }
    put_bytes(files[0], std::vector<std::uint8_t>(good.begin(), good.end() - 1));
    expect_open_fails(Errc::damaged);
    fs::remove(files[0]);
    expect_open_fails(Errc::damaged);
    put_bytes(files[0], good);
    EXPECT_TRUE(open_full(storage, pw("right passphrase")));
}

TEST_F(VaultTest, FlippedBitInHeaderIsDamaged)
{
    make();
    const auto good = bytes_of(path);
    for (std::size_t i : {std::size_t{13}, std::size_t{40}, std::size_t{70}, std::size_t{120}, header_size(1) - 30,
                          header_size(1) - 1}) {
        auto bad = good;
        bad[i] = static_cast<std::uint8_t>(bad[i] ^ 0x02);
        put_bytes(path, bad);
        SCOPED_TRACE("byte " + std::to_string(i));
        expect_open_fails(Errc::damaged);
    }
}

TEST_F(VaultTest, HeaderIsBoundToPayload)
{
    // A header re-encoded with a valid checksum but a different payload nonce
    // passes parse() and then fails authentication of the payload.
    make();
    auto good = bytes_of(path);
    auto parsed = parse(good);
    ASSERT_TRUE(parsed);
    Header h = parsed->header;
    h.payload_nonce[0] = static_cast<std::uint8_t>(h.payload_nonce[0] ^ 1);
    auto forged = encode_header(h);
    forged.insert(forged.end(), parsed->ciphertext.begin(), parsed->ciphertext.end());
    ASSERT_TRUE(parse(forged));
    put_bytes(path, forged);
    expect_open_fails(Errc::damaged);
}

TEST_F(VaultTest, TruncatedFileIsDamaged)
{
    make();
    const auto good = bytes_of(path);
    for (std::size_t len : {std::size_t{0}, std::size_t{5}, std::size_t{8}, std::size_t{20}, header_size(1) - 1,
                            header_size(1), header_size(1) + 10, good.size() - 1}) {
        put_bytes(path, std::vector<std::uint8_t>(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(len)));
        SCOPED_TRACE("length " + std::to_string(len));
        expect_open_fails(Errc::damaged);
    }
}

TEST_F(VaultTest, NotAVaultIsDamaged)
{
    write_file(path, "{\"schema\":1,\"integrations\":[],\"history\":[]}");
    expect_open_fails(Errc::damaged);
    auto r = open_full(storage, pw("p"));
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("not a pitool vault"), std::string::npos) << r.error().message;
}

TEST_F(VaultTest, GroupReadableVaultIsRefused)
{
    make();
    ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
    auto r = open_full(storage, pw("right passphrase"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::io);
}

TEST_F(VaultTest, SaveKeepsPreviousGenerationAsBackup)
{
    auto v = make();
    const auto gen1 = read_file(path);
    v.payload().integrations[0].description = "second generation";
    ASSERT_TRUE(v.save());
    const auto gen2 = read_file(path);
    EXPECT_NE(gen2, gen1);
    EXPECT_EQ(read_file(storage.backup_path()), gen1);
    EXPECT_EQ(vault_mode_of(storage.backup_path()), 0600u);

    v.payload().integrations[0].description = "third";
    ASSERT_TRUE(v.save());
    EXPECT_EQ(read_file(storage.backup_path()), gen2);

    auto old = decrypt_backup(storage, pw("right passphrase"));
    ASSERT_TRUE(old) << old.error().message;
    EXPECT_EQ(old->integrations[0].description, "second generation");
    auto now = open_full(storage, pw("right passphrase"));
    ASSERT_TRUE(now);
    EXPECT_EQ(now->payload().integrations[0].description, "third");

    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator(dir.path())) names.insert(e.path().filename().string());
    ASSERT_EQ(data_files(path).size(), 1u) << "small writes append to one data file";
    EXPECT_EQ(names, (std::set<std::string>{"vault", "vault.bak", data_files(path)[0].filename().string()}))
        << "no temp files left behind";
}

TEST_F(VaultTest, EverySaveIsTheNextGenerationOfTheSameVault)
{
    auto v = make();
    ASSERT_TRUE(v.has_id());
    const VaultId id = v.id();
    EXPECT_EQ(v.generation(), 1u) << "a new vault is generation 1";
    ASSERT_TRUE(v.save());
    EXPECT_EQ(v.generation(), 2u);
    EXPECT_EQ(v.id(), id) << "the id is stable";
    // What was written says so too, and the backup is the one before.
    auto again = Vault::open(storage, pw("right passphrase"));
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(again->id(), id);
    EXPECT_EQ(again->generation(), 2u);
    FileStorage previous(storage.backup_path(), storage.path());
    auto old = Vault::open(previous, pw("right passphrase"));
    ASSERT_TRUE(old) << old.error().message;
    EXPECT_EQ(old->id(), id);
    EXPECT_EQ(old->generation(), 1u);
    // A passphrase change and a compaction keep counting.
    ASSERT_TRUE(again->change_passphrase(pw("other passphrase"), k_vault_fast));
    EXPECT_EQ(again->generation(), 3u);
    EXPECT_EQ(again->id(), id);
    // supersede() jumps over a generation seen elsewhere, once.
    again->supersede(40);
    ASSERT_TRUE(again->save());
    EXPECT_EQ(again->generation(), 41u);
    ASSERT_TRUE(again->save());
    EXPECT_EQ(again->generation(), 42u);
    // Another vault has another id.
    TempDir other_dir;
    FileStorage other(other_dir / "vault");
    auto w = Vault::create(other, pw("right passphrase"), k_vault_fast, sample());
    ASSERT_TRUE(w) << w.error().message;
    EXPECT_NE(w->id(), id);
}

TEST_F(VaultTest, TheGenerationIsBoundToTheIndex)
{
    make();
    // A generation edited in the header (checksum recomputed) no longer
    // opens the index: it is authenticated as the index's associated data.
    auto image = bytes_of(path);
    auto parsed = parse(image);
    ASSERT_TRUE(parsed) << parsed.error().message;
    Header h = parsed->header;
    h.generation += 10;
    auto header = encode_header(h);
    std::copy(header.begin(), header.end(), image.begin());
    put_bytes(path, image);
    ASSERT_TRUE(parse(image)) << "the header itself is well formed";
    auto r = Vault::open(storage, pw("right passphrase"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::damaged) << r.error().message;
}

TEST_F(VaultTest, SaveUsesAFreshNonceEachTime)
{
    auto v = make();
    auto n1 = v.header().payload_nonce;
    const auto a = read_file(path);
    ASSERT_TRUE(v.save());
    EXPECT_NE(v.header().payload_nonce, n1);
    EXPECT_NE(read_file(path), a) << "same payload, but a new nonce";
}

TEST_F(VaultTest, ChangePassphrase)
{
    auto v = make();
    const auto key_wrap_before = v.header().recipients[0].wrapped_key;
    const Secret key_before = v.data_key().clone();
    const auto data_before = data_files(path);
    const crypto::KdfParams other{2, 16384};
    ASSERT_TRUE(v.change_passphrase(pw("new passphrase"), other));
    EXPECT_NE(v.header().recipients[0].wrapped_key, key_wrap_before);
    // A new data key and a new data file: the old key opens nothing.
    EXPECT_FALSE(v.data_key().equals(key_before));
    EXPECT_EQ(v.data_key().size(), crypto::k_key_bytes);
    auto stale = Vault::open_with_key(storage, key_before);
    ASSERT_FALSE(stale);
    EXPECT_EQ(stale.error().code, Errc::wrong_passphrase);
    auto by_new_key = Vault::open_with_key(storage, v.data_key());
    ASSERT_TRUE(by_new_key) << by_new_key.error().message;
    EXPECT_EQ(data_files(path).size(), 2u) << "the new generation's file and the one vault.bak names";
    EXPECT_NE(data_files(path), data_before);

    auto old = open_full(storage, pw("right passphrase"));
    ASSERT_FALSE(old);
    EXPECT_EQ(old.error().code, Errc::wrong_passphrase);

    auto fresh = open_full(storage, pw("new passphrase"));
    ASSERT_TRUE(fresh) << fresh.error().message;
    ASSERT_EQ(fresh->payload().integrations.size(), 1u);
    EXPECT_TRUE(fresh->payload().integrations[0].token.value.equals(std::string_view("pit-sample-token-0001")));
    EXPECT_EQ(fresh->payload().history.size(), 1u);
    EXPECT_EQ(fresh->header().recipients[0].params.opslimit, 2u);
    EXPECT_EQ(fresh->header().recipients[0].params.memlimit, 16384u);

    // The backup is the generation under the old passphrase.
    auto bak = decrypt_backup(storage, pw("right passphrase"));
    EXPECT_TRUE(bak);
}

TEST_F(VaultTest, ChangePassphraseKeepsLoadedChangesStagedRecordsAndHistory)
{
    // Unsaved changes and staged records go into the rekeyed generation,
    // sealed under the new key like everything stored.
    make();
    auto v = open_full(storage, pw("right passphrase"));
    ASSERT_TRUE(v);
    v->payload().integrations[0].description = "edited before passwd";
    core::Integration staged;
    staged.name = "staged";
    staged.base_url = "https://services.leadconnectorhq.com";
    staged.created_at = k_vault_t0;
    staged.token = core::make_token(Secret::from("pit-staged-token-0002"), k_vault_t0);
    ASSERT_TRUE(v->stage(staged));
    ASSERT_TRUE(v->change_passphrase(pw("new passphrase"), k_vault_fast));
    auto fresh = open_full(storage, pw("new passphrase"));
    ASSERT_TRUE(fresh) << fresh.error().message;
    ASSERT_EQ(fresh->payload().integrations.size(), 2u);
    EXPECT_EQ(fresh->payload().find("acme")->description, "edited before passwd");
    EXPECT_TRUE(fresh->payload().find("staged")->token.value.equals(std::string_view("pit-staged-token-0002")));
    EXPECT_EQ(fresh->payload().history.size(), 1u);
}

TEST_F(VaultTest, ChangePassphraseOfADamagedRecordWritesNothing)
{
    // A box that does not authenticate stops the rekey before the swap:
    // the vault and its key stay as they were.
    auto v = make();
    const auto data = data_files(path);
    ASSERT_EQ(data.size(), 1u);
    auto bytes = bytes_of(data[0]);
    bytes[bytes.size() / 2] ^= 0x01; // inside some box of the one data file
    put_bytes(data[0], bytes);
    auto opened = Vault::open(storage, pw("right passphrase"));
    ASSERT_TRUE(opened) << "the flip must hit a record box, not the index: " << opened.error().message;
    const auto head = read_file(path);
    const Secret key = opened->data_key().clone();
    auto st = opened->change_passphrase(pw("new passphrase"), k_vault_fast);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, Errc::damaged);
    EXPECT_EQ(read_file(path), head);
    EXPECT_EQ(data_files(path), data) << "no new data file is left behind";
    EXPECT_FALSE(fs::exists(storage.backup_path()));
    EXPECT_TRUE(opened->data_key().equals(key));
    EXPECT_TRUE(Vault::open(storage, pw("right passphrase")));
}

TEST_F(VaultTest, ChangePassphraseRefusesHostileParams)
{
    auto v = make();
    const auto before = read_file(path);
    auto st = v.change_passphrase(pw("new"), crypto::KdfParams{1, 1ULL << 40});
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, Errc::damaged);
    EXPECT_EQ(read_file(path), before);
    EXPECT_TRUE(open_full(storage, pw("right passphrase")));
}

TEST_F(VaultTest, OpenWithKnownReusesTheKey)
{
    // Intended fast path: a caller opens once (KDF) without the lock, then
    // again under the lock passing the first Vault as `known`. When the
    // recipients are byte-identical the data key is reused and the passphrase
    // is NOT checked again; it was checked by the first open.
    make();
    auto first = open_full(storage, pw("right passphrase"));
    ASSERT_TRUE(first);
    auto second = open_full(storage, pw("WRONG"), &first.value());
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_EQ(second->payload().integrations[0].name, "acme");
    // A save in between (new payload nonce, same recipients) still reuses it.
    second->payload().integrations[0].description = "edited";
    ASSERT_TRUE(second->save());
    auto third = open_full(storage, pw("WRONG"), &first.value());
    ASSERT_TRUE(third) << third.error().message;
    EXPECT_EQ(third->payload().integrations[0].description, "edited");
}

TEST_F(VaultTest, OpenWithKnownAfterPassphraseChangeDoesNotReuse)
{
    make();
    auto first = open_full(storage, pw("right passphrase"));
    ASSERT_TRUE(first);
    {
        auto writer = open_full(storage, pw("right passphrase"));
        ASSERT_TRUE(writer);
        ASSERT_TRUE(writer->change_passphrase(pw("new passphrase"), k_vault_fast));
    }
    auto stale = open_full(storage, pw("right passphrase"), &first.value());
    ASSERT_FALSE(stale);
    EXPECT_EQ(stale.error().code, Errc::wrong_passphrase);
    auto ok = open_full(storage, pw("new passphrase"), &first.value());
    EXPECT_TRUE(ok) << ok.error().message;
}

TEST_F(VaultTest, OpenWithKnownOfAnotherVaultDoesNotReuse)
{
    FileStorage other_storage(dir / "other");
    auto other = Vault::create(other_storage, pw("right passphrase"), k_vault_fast, sample());
    ASSERT_TRUE(other);
    make();
    auto r = open_full(storage, pw("WRONG"), &other.value());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::wrong_passphrase);
}

TEST_F(VaultTest, DecryptImage)
{
    make();
    auto image = bytes_of(path);
    auto data = bytes_of(data_files(path).at(0));
    EXPECT_FALSE(decrypt_image(image, pw("right passphrase"))) << "a version 3 image needs its data file";
    auto p = decrypt_image(image, pw("right passphrase"), data);
    ASSERT_TRUE(p) << p.error().message;
    EXPECT_EQ(p->integrations.at(0).name, "acme");
    auto wrong = decrypt_image(image, pw("nope"), data);
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error().code, Errc::wrong_passphrase);
    image[header_size(1) + 5] = static_cast<std::uint8_t>(image[header_size(1) + 5] ^ 0x01);
    auto damaged = decrypt_image(image, pw("right passphrase"), data);
    ASSERT_FALSE(damaged);
    EXPECT_EQ(damaged.error().code, Errc::damaged);
    auto empty = decrypt_image({}, pw("right passphrase"));
    ASSERT_FALSE(empty);
    EXPECT_EQ(empty.error().code, Errc::damaged);
}

TEST_F(VaultTest, EmptyPayloadRoundTrips)
{
    make(core::Payload{});
    auto v = open_full(storage, pw("right passphrase"));
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->payload().integrations.empty());
    EXPECT_TRUE(v->payload().history.empty());
}

TEST_F(VaultTest, StorageLockAndPaths)
{
    EXPECT_EQ(storage.backup_path(), dir / "vault.bak");
    EXPECT_EQ(storage.lock_path(), dir / "vault.lock");
    EXPECT_EQ(storage.describe(), path.string());
    auto lock = storage.lock(100ms);
    ASSERT_TRUE(lock) << lock.error().message;
    EXPECT_NE(lock.value(), nullptr);
    EXPECT_TRUE(fs::exists(storage.lock_path()));
    auto v = Vault::create(storage, pw("p"), k_vault_fast, sample()); // the normal way: under the lock
    EXPECT_TRUE(v);
}

// --- version 2: records sealed one by one ----------------------------------

core::Integration pit(const std::string& name, const std::string& token)
{
    core::Integration in;
    in.name = name;
    in.base_url = "https://services.leadconnectorhq.com";
    in.created_at = k_vault_t0;
    in.token = core::make_token(Secret::from(token), k_vault_t0);
    return in;
}

core::Payload three()
{
    core::Payload p;
    p.integrations.push_back(pit("c-three", "pit-token-three-0003"));
    p.integrations.push_back(pit("a-one", "pit-token-one-0001"));
    p.integrations.push_back(pit("b-two", "pit-token-two-0002"));
    return p;
}

TEST_F(VaultTest, OpenReadsOnlyTheIndexAndLoadDecodesOneRecord)
{
    make(three());
    auto v = Vault::open(storage, pw("right passphrase"));
    ASSERT_TRUE(v) << v.error().message;
    EXPECT_TRUE(v->payload().integrations.empty());
    EXPECT_EQ(v->names().value(), (std::vector<std::string>{"a-one", "b-two", "c-three"}));
    EXPECT_TRUE(v->contains("b-two").value());
    EXPECT_FALSE(v->contains("nope").value());
    ASSERT_TRUE(v->load("b-two", /*secrets=*/false));
    ASSERT_EQ(v->payload().integrations.size(), 1u);
    EXPECT_TRUE(v->payload().integrations[0].sealed);
    EXPECT_TRUE(v->payload().integrations[0].token.value.empty());
    ASSERT_TRUE(v->load("b-two", /*secrets=*/true)); // upgrade in place
    ASSERT_EQ(v->payload().integrations.size(), 1u);
    EXPECT_FALSE(v->payload().integrations[0].sealed);
    EXPECT_TRUE(v->payload().integrations[0].token.value.equals(std::string_view("pit-token-two-0002")));
    ASSERT_TRUE(v->load("nope")); // not stored: not an error
    EXPECT_EQ(v->payload().find("nope"), nullptr);
}

TEST_F(VaultTest, SaveResealsLoadedRecordsAndCopiesTheOthers)
{
    make(three());
    {
        auto v = Vault::open(storage, pw("right passphrase"));
        ASSERT_TRUE(v);
        // A metadata-only change: the token is never decrypted, and kept.
        ASSERT_TRUE(v->load("a-one", /*secrets=*/false));
        v->payload().find("a-one")->description = "changed without its token";
        ASSERT_TRUE(v->save());
    }
    auto full = open_full(storage, pw("right passphrase"));
    ASSERT_TRUE(full) << full.error().message;
    const auto& p = full->payload();
    ASSERT_EQ(p.integrations.size(), 3u);
    EXPECT_EQ(p.find("a-one")->description, "changed without its token");
    EXPECT_TRUE(p.find("a-one")->token.value.equals(std::string_view("pit-token-one-0001")));
    EXPECT_TRUE(p.find("b-two")->token.value.equals(std::string_view("pit-token-two-0002")));
    EXPECT_TRUE(p.find("c-three")->token.value.equals(std::string_view("pit-token-three-0003")));
}

TEST_F(VaultTest, ASealedRecordCannotChangeItsSecretSlots)
{
    make(three());
    auto v = Vault::open(storage, pw("right passphrase"));
    ASSERT_TRUE(v);
    ASSERT_TRUE(v->load("a-one", /*secrets=*/false));
    v->payload().find("a-one")->rotation = core::RotationWindow{{}, k_vault_t0, k_vault_t0 + core::k_rotation_window};
    const auto before = read_file(path);
    const auto data_before = read_file(data_files(path).at(0));
    auto st = v->save();
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, Errc::internal);
    EXPECT_EQ(read_file(path), before);
    EXPECT_EQ(read_file(data_files(path).at(0)), data_before) << "a failed save appends nothing";
}

TEST_F(VaultTest, EraseDeletesAndStageAdds)
{
    make(three());
    auto v = Vault::open(storage, pw("right passphrase"));
    ASSERT_TRUE(v);
    ASSERT_TRUE(v->load("b-two", false));
    std::erase_if(v->payload().integrations, [](const core::Integration& i) { return i.name == "b-two"; });
    EXPECT_FALSE(v->contains("b-two").value());
    ASSERT_TRUE(v->stage(pit("d-four", "pit-token-four-0004")));
    auto dup = v->stage(pit("a-one", "pit-token-dup-00001"));
    ASSERT_FALSE(dup);
    EXPECT_EQ(dup.error().code, Errc::conflict);
    EXPECT_TRUE(v->contains("d-four").value());
    EXPECT_EQ(v->names().value().size(), 3u);
    ASSERT_TRUE(v->save());
    auto full = open_full(storage, pw("right passphrase"));
    ASSERT_TRUE(full) << full.error().message;
    EXPECT_EQ(full->names().value(), (std::vector<std::string>{"a-one", "c-three", "d-four"}));
    EXPECT_TRUE(full->payload().find("d-four")->token.value.equals(std::string_view("pit-token-four-0004")));
}

TEST_F(VaultTest, HistoryIsAppendedWithoutLoadingItAndStaysChained)
{
    make(sample());
    for (int i = 0; i < 70; ++i) { // more saves than history chunks kept
        auto v = Vault::open(storage, pw("right passphrase"));
        ASSERT_TRUE(v);
        core::Event e;
        e.at = k_vault_t0 + Seconds{i};
        e.action = "test";
        e.name = "acme";
        v->payload().record(e);
        ASSERT_TRUE(v->save()) << i;
    }
    auto full = open_full(storage, pw("right passphrase"));
    ASSERT_TRUE(full) << full.error().message;
    EXPECT_EQ(full->payload().history.size(), 71u);
    EXPECT_EQ(full->payload().first_broken_event(), -1);
    EXPECT_EQ(full->payload().history.back().at, k_vault_t0 + Seconds{69});
}

TEST_F(VaultTest, ReadRecordDoesNotKeepIt)
{
    make(three());
    auto v = Vault::open(storage, pw("right passphrase"));
    ASSERT_TRUE(v);
    auto r = v->read_record("c-three", true);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(r->token.value.equals(std::string_view("pit-token-three-0003")));
    EXPECT_TRUE(v->payload().integrations.empty());
    EXPECT_EQ(v->read_record("nope", false).error().code, Errc::not_found);
}

// --- version 3: index parts, an append-only data file ---------------------

std::string numbered(int i)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "int-%05d", i);
    return buf;
}

/// A vault of `n` integrations, imported the way `pitool import` does.
void make_many(FileStorage& storage, int n, int step = 1)
{
    auto v = Vault::create(storage, pw("right passphrase"), k_vault_fast);
    ASSERT_TRUE(v) << v.error().message;
    for (int i = 0; i < n; ++i) ASSERT_TRUE(v->stage(pit(numbered(i * step), "pit-token-" + numbered(i * step))));
    ASSERT_TRUE(v->save());
}

TEST_F(VaultTest, AWriteAppendsWhatChangedAndRewritesOnlyTheSmallVaultFile)
{
    make_many(storage, 2000);
    const auto vault_size = fs::file_size(path);
    const auto data = data_files(path);
    ASSERT_EQ(data.size(), 1u);
    const auto data_size = fs::file_size(data[0]);
    EXPECT_LT(vault_size, 4096u) << "the vault file holds the header and a top index of parts";

    auto v = Vault::open(storage, pw("right passphrase"));
    ASSERT_TRUE(v);
    ASSERT_TRUE(v->load(numbered(1234)));
    v->payload().find(numbered(1234))->token = core::make_token(Secret::from("pit-rotated-token-1234"), k_vault_t0);
    ASSERT_TRUE(v->save());
    ASSERT_EQ(data_files(path), data) << "appended to the same data file";
    const auto grown = fs::file_size(data[0]) - data_size;
    EXPECT_GT(grown, 0u);
    EXPECT_LT(grown, data_size / 20) << "one record and one part appended, not the vault";

    // Every record is still there, in order, the changed one changed.
    auto again = Vault::open(storage, pw("right passphrase"));
    ASSERT_TRUE(again);
    int seen = 0;
    ASSERT_TRUE(again->for_each_record(true, [&](const core::Integration& in) -> Status {
        EXPECT_EQ(in.name, numbered(seen));
        const std::string want = seen == 1234 ? "pit-rotated-token-1234" : "pit-token-" + numbered(seen);
        EXPECT_TRUE(in.token.value.equals(std::string_view(want))) << in.name;
        ++seen;
        return {};
    }));
    EXPECT_EQ(seen, 2000);
    // The previous generation still opens: appending kept its boxes.
    auto old = decrypt_backup(storage, pw("right passphrase"));
    ASSERT_TRUE(old) << old.error().message;
    EXPECT_TRUE(old->find(numbered(1234))->token.value.equals(std::string_view("pit-token-" + numbered(1234))));
}

TEST_F(VaultTest, StreamingStopsAtDamageOrAVisitorErrorAnywhere)
{
    make_many(storage, 2000); // 8 parts: the second thread reads ahead
    const auto data = data_files(path).at(0);
    const auto good = bytes_of(data);
    // The visitor's own error stops the pass (and the reader thread).
    {
        auto v = Vault::open(storage, pw("right passphrase"));
        ASSERT_TRUE(v);
        int seen = 0;
        auto st = v->for_each_record(false, [&](const core::Integration&) -> Status {
            if (++seen == 700) return make_error(Errc::io, "stop here");
            return {};
        });
        ASSERT_FALSE(st);
        EXPECT_EQ(st.error().message, "stop here");
        EXPECT_EQ(seen, 700);
    }
    // Every box of this vault is a record or an index part: a flipped byte
    // anywhere after the data file's header is found by a full pass.
    for (std::size_t i = 24; i < good.size(); i += good.size() / 23) {
        auto bad = good;
        bad[i] = static_cast<std::uint8_t>(bad[i] ^ 0x08);
        put_bytes(data, bad);
        SCOPED_TRACE("data byte " + std::to_string(i));
        auto v = Vault::open(storage, pw("right passphrase"));
        ASSERT_TRUE(v) << v.error().message;
        int seen = 0;
        auto st = v->for_each_record(true, [&](const core::Integration&) -> Status {
            ++seen;
            return {};
        });
        ASSERT_FALSE(st);
        EXPECT_EQ(st.error().code, Errc::damaged) << st.error().message;
        EXPECT_LT(seen, 2000);
    }
    put_bytes(data, good);
}

TEST_F(VaultTest, PartsSplitMergeAndRouteNewNames)
{
    make_many(storage, 600, 10); // int-00000, int-00010, ... int-05990
    {
        // 700 names inside one part's range: that part is cut again.
        auto v = Vault::open(storage, pw("right passphrase"));
        ASSERT_TRUE(v);
        for (int i = 0; i < 700; ++i) ASSERT_TRUE(v->stage(pit("int-03000-" + std::to_string(1000 + i), "pit-x")));
        // Before the first and after the last name.
        ASSERT_TRUE(v->stage(pit("aaa-first", "pit-first")));
        ASSERT_TRUE(v->stage(pit("zzz-last", "pit-last")));
        // And a deletion.
        ASSERT_TRUE(v->load(numbered(10)));
        std::erase_if(v->payload().integrations, [](const core::Integration& i) { return i.name == numbered(10); });
        ASSERT_TRUE(v->save());
    }
    auto v = Vault::open(storage, pw("right passphrase"));
    ASSERT_TRUE(v);
    auto names = v->names();
    ASSERT_TRUE(names) << names.error().message;
    EXPECT_EQ(names->size(), 600u + 700u + 2u - 1u);
    EXPECT_TRUE(std::is_sorted(names->begin(), names->end()));
    for (const char* n : {"aaa-first", "zzz-last", "int-03000-1350", "int-05990", "int-00000"}) {
        auto r = v->read_record(n, true);
        EXPECT_TRUE(r) << n;
    }
    EXPECT_FALSE(v->contains(numbered(10)).value());
    std::vector<std::string> streamed;
    ASSERT_TRUE(v->for_each_record(false, [&](const core::Integration& in) -> Status {
        streamed.push_back(in.name);
        return {};
    }));
    EXPECT_EQ(streamed, names.value());
}

TEST_F(VaultTest, ADataFileOfMostlyDeadBoxesIsCompacted)
{
    make(three());
    const auto first = data_files(path);
    ASSERT_EQ(first.size(), 1u);
    // Each save appends a re-sealed record; grow the file past 2x live + 1 MiB.
    const std::string big(60000, 'd');
    int saves = 0;
    while (data_files(path) == first && saves < 200) {
        auto v = Vault::open(storage, pw("right passphrase"));
        ASSERT_TRUE(v);
        ASSERT_TRUE(v->load("a-one"));
        v->payload().find("a-one")->description = big + std::to_string(saves);
        ASSERT_TRUE(v->save());
        ++saves;
    }
    const auto after = data_files(path);
    ASSERT_NE(after, first) << "compacted into a new data file after " << saves << " saves";
    EXPECT_GT(saves, 10);
    // The old file stays while vault.bak names it; both generations open.
    EXPECT_EQ(after.size(), 2u);
    auto full = open_full(storage, pw("right passphrase"));
    ASSERT_TRUE(full) << full.error().message;
    EXPECT_EQ(full->payload().find("a-one")->description, big + std::to_string(saves - 1));
    EXPECT_TRUE(full->payload().find("c-three")->token.value.equals(std::string_view("pit-token-three-0003")));
    EXPECT_TRUE(decrypt_backup(storage, pw("right passphrase")));
    // The new file holds little more than the live boxes.
    std::uintmax_t newest = 0;
    for (const auto& f : after) newest = std::min(newest == 0 ? UINTMAX_MAX : newest, fs::file_size(f));
    EXPECT_LT(newest, 3 * 60000u);
}

} // namespace
} // namespace pitool::vault
