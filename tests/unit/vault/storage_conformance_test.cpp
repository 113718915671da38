// The contract of vault::Storage (include/pitool/vault/storage.hpp), run
// against every implementation: the file store and the in-memory one. A new
// store (etcd) is added to StoreTypes and must pass the same cases.

#include "pitool/core/lifecycle.hpp"
#include "pitool/vault/storage.hpp"
#include "pitool/vault/vault.hpp"

#include "support/process.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <atomic>
#include <thread>

namespace pitool::vault {
namespace {

using namespace std::chrono_literals;

struct FileStore {
    test::TempDir dir;
    FileStorage storage{dir / "vault"};
};

struct MemoryStore {
    MemoryStorage storage;
};

template <typename T> class StorageConformance : public ::testing::Test {
protected:
    T m_store;
    Storage& s() { return m_store.storage; }
};

using StoreTypes = ::testing::Types<FileStore, MemoryStore>;
class StoreNames {
public:
    template <typename T> static std::string GetName(int) { return std::is_same_v<T, FileStore> ? "File" : "Memory"; }
};
TYPED_TEST_SUITE(StorageConformance, StoreTypes, StoreNames);

std::vector<std::uint8_t> bytes(std::string_view s)
{
    return {s.begin(), s.end()};
}

std::vector<std::uint8_t> read_all(const Snapshot& snap)
{
    std::vector<std::uint8_t> out(static_cast<std::size_t>(snap.size()));
    EXPECT_TRUE(snap.read(0, out));
    return out;
}

std::vector<std::uint8_t> read_all(const BoxLog& log)
{
    std::vector<std::uint8_t> out(static_cast<std::size_t>(log.size()));
    EXPECT_TRUE(log.read(0, out));
    return out;
}

TYPED_TEST(StorageConformance, NoHeadIsNotFound)
{
    auto head = this->s().read_head();
    ASSERT_FALSE(head);
    EXPECT_EQ(head.error().code, Errc::not_found);
    ASSERT_FALSE(this->s().read());
    EXPECT_EQ(this->s().read().error().code, Errc::not_found);
}

TYPED_TEST(StorageConformance, TheFirstHeadIsCreatedOnlyIfAbsent)
{
    auto v1 = this->s().swap_head(HeadVersion{}, bytes("first"));
    ASSERT_TRUE(v1) << v1.error().message;
    EXPECT_FALSE(v1->absent());
    auto again = this->s().swap_head(HeadVersion{}, bytes("second"));
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, Errc::conflict);
    auto head = this->s().read_head();
    ASSERT_TRUE(head);
    EXPECT_EQ(read_all(*head->bytes), bytes("first"));
    EXPECT_EQ(head->version, v1.value());
}

TYPED_TEST(StorageConformance, SwapComparesTheVersionReadAndEveryVersionIsNew)
{
    auto v1 = this->s().swap_head(HeadVersion{}, bytes("one"));
    ASSERT_TRUE(v1);
    auto v2 = this->s().swap_head(v1.value(), bytes("one")); // same bytes, new generation
    ASSERT_TRUE(v2) << v2.error().message;
    EXPECT_NE(v2.value(), v1.value());
    auto stale = this->s().swap_head(v1.value(), bytes("lost update"));
    ASSERT_FALSE(stale);
    EXPECT_EQ(stale.error().code, Errc::conflict);
    auto head = this->s().read_head();
    ASSERT_TRUE(head);
    EXPECT_EQ(read_all(*head->bytes), bytes("one"));
    EXPECT_EQ(head->version, v2.value());
    auto v3 = this->s().swap_head(head->version, bytes("three"));
    ASSERT_TRUE(v3);
    EXPECT_EQ(this->s().read().value(), bytes("three"));
}

TYPED_TEST(StorageConformance, AHeadReadIsOneGenerationWhateverIsSwappedLater)
{
    auto v1 = this->s().swap_head(HeadVersion{}, bytes("generation one"));
    ASSERT_TRUE(v1);
    auto head = this->s().read_head();
    ASSERT_TRUE(head);
    ASSERT_TRUE(this->s().swap_head(v1.value(), bytes("generation two, longer")));
    EXPECT_EQ(read_all(*head->bytes), bytes("generation one"));
    std::vector<std::uint8_t> past(4);
    auto st = head->bytes->read(head->bytes->size() - 2, past);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, Errc::damaged);
}

TYPED_TEST(StorageConformance, TheBackupIsTheGenerationBeforeTheLastSwap)
{
    auto none = this->s().read_backup();
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().code, Errc::not_found);
    auto v1 = this->s().swap_head(HeadVersion{}, bytes("one"));
    ASSERT_TRUE(v1);
    auto v2 = this->s().swap_head(v1.value(), bytes("two"));
    ASSERT_TRUE(v2);
    auto bak = this->s().read_backup();
    ASSERT_TRUE(bak) << bak.error().message;
    EXPECT_EQ(read_all(*bak->bytes), bytes("one"));
    ASSERT_TRUE(this->s().swap_head(v2.value(), bytes("three")));
    EXPECT_EQ(read_all(*this->s().read_backup()->bytes), bytes("two"));
    EXPECT_EQ(read_all(*bak->bytes), bytes("one")) << "a backup read is one generation";
}

TYPED_TEST(StorageConformance, WipeZeroesInPlaceAndAppendsNothing)
{
    auto log = this->s().boxes(9, BoxMode::create);
    ASSERT_TRUE(log);
    ASSERT_TRUE((*log)->put(bytes("keep|dead-box|keep")));
    ASSERT_TRUE((*log)->sync());
    ASSERT_TRUE((*log)->wipe(5, 8)) << "a box in the middle";
    ASSERT_TRUE((*log)->sync());
    auto expected = bytes("keep|dead-box|keep");
    std::fill_n(expected.begin() + 5, 8, std::uint8_t{0});
    EXPECT_EQ((*log)->size(), expected.size());
    EXPECT_EQ(read_all(**log), expected);
    // Reopened for appending (the file store's O_APPEND): still in place,
    // and a later put still goes at the end.
    auto again = this->s().boxes(9, BoxMode::append);
    ASSERT_TRUE(again);
    ASSERT_TRUE((*again)->wipe(0, 4));
    ASSERT_TRUE((*again)->put(bytes("|new")));
    std::fill_n(expected.begin(), 4, std::uint8_t{0});
    for (char c : std::string_view("|new")) expected.push_back(static_cast<std::uint8_t>(c));
    auto reader = this->s().boxes(9, BoxMode::read);
    ASSERT_TRUE(reader);
    EXPECT_EQ(read_all(**reader), expected);
    auto past = (*again)->wipe(expected.size() - 2, 4);
    ASSERT_FALSE(past);
    EXPECT_EQ(past.error().code, Errc::damaged);
    EXPECT_EQ(read_all(**reader), expected) << "a refused wipe changes nothing";
}

TYPED_TEST(StorageConformance, BoxesArePutAtTheEndAndReadBack)
{
    auto log = this->s().boxes(7, BoxMode::create);
    ASSERT_TRUE(log) << log.error().message;
    EXPECT_EQ((*log)->size(), 0u);
    ASSERT_TRUE((*log)->put(bytes("box-a|")));
    ASSERT_TRUE((*log)->put(bytes("box-b|")));
    ASSERT_TRUE((*log)->sync());
    EXPECT_EQ((*log)->size(), 12u);
    std::vector<std::uint8_t> b(5);
    ASSERT_TRUE((*log)->read(6, b));
    EXPECT_EQ(b, bytes("box-b"));
    auto reader = this->s().boxes(7, BoxMode::read);
    ASSERT_TRUE(reader);
    EXPECT_EQ(read_all(**reader), bytes("box-a|box-b|"));
    std::vector<std::uint8_t> past(2);
    auto st = (*reader)->read(11, past);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, Errc::damaged);
    // Appending later continues at the end.
    auto appender = this->s().boxes(7, BoxMode::append);
    ASSERT_TRUE(appender);
    EXPECT_EQ((*appender)->size(), 12u);
    ASSERT_TRUE((*appender)->put(bytes("box-c|")));
    ASSERT_TRUE((*appender)->sync());
    auto again = this->s().boxes(7, BoxMode::read);
    ASSERT_TRUE(again);
    EXPECT_EQ(read_all(**again), bytes("box-a|box-b|box-c|"));
}

TYPED_TEST(StorageConformance, ALogIsCreatedOnceAndAMissingOneIsNotFound)
{
    ASSERT_TRUE(this->s().boxes(1, BoxMode::create));
    auto twice = this->s().boxes(1, BoxMode::create);
    ASSERT_FALSE(twice);
    EXPECT_EQ(twice.error().code, Errc::conflict);
    for (auto mode : {BoxMode::read, BoxMode::append}) {
        auto missing = this->s().boxes(2, mode);
        ASSERT_FALSE(missing);
        EXPECT_EQ(missing.error().code, Errc::not_found);
    }
}

TYPED_TEST(StorageConformance, AReadOnlyLogRefusesPuts)
{
    ASSERT_TRUE(this->s().boxes(3, BoxMode::create));
    auto reader = this->s().boxes(3, BoxMode::read);
    ASSERT_TRUE(reader);
    EXPECT_FALSE((*reader)->put(bytes("x")));
    EXPECT_EQ((*reader)->size(), 0u);
}

TYPED_TEST(StorageConformance, DiscardForgetsTheBatchesOfAFailedWrite)
{
    auto log = this->s().boxes(9, BoxMode::create);
    ASSERT_TRUE(log);
    ASSERT_TRUE((*log)->put(bytes("named|")));
    ASSERT_TRUE((*log)->sync());
    const auto named = (*log)->size();
    ASSERT_TRUE((*log)->put(bytes("never named")));
    ASSERT_TRUE((*log)->discard_from(named));
    EXPECT_EQ((*log)->size(), named);
    auto reader = this->s().boxes(9, BoxMode::read);
    ASSERT_TRUE(reader);
    EXPECT_EQ(read_all(**reader), bytes("named|"));
}

TYPED_TEST(StorageConformance, CollectRemovesTheLogsNoHeadNames)
{
    for (std::uint64_t id : {11u, 12u, 13u}) {
        auto log = this->s().boxes(id, BoxMode::create);
        ASSERT_TRUE(log);
        ASSERT_TRUE((*log)->put(bytes("b")));
        ASSERT_TRUE((*log)->sync());
    }
    const std::uint64_t named[] = {12, 13};
    this->s().collect_boxes(named);
    auto gone = this->s().boxes(11, BoxMode::read);
    ASSERT_FALSE(gone);
    EXPECT_EQ(gone.error().code, Errc::not_found);
    EXPECT_TRUE(this->s().boxes(12, BoxMode::read));
    EXPECT_TRUE(this->s().boxes(13, BoxMode::read));
}

TYPED_TEST(StorageConformance, ALockIsExclusiveUntilReleasedAndNamed)
{
    auto held = this->s().lock(k_writer_lock, 5s);
    ASSERT_TRUE(held) << held.error().message;
    auto second = this->s().lock(k_writer_lock, 50ms);
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code, Errc::io);
    auto other = this->s().lock("another", 50ms); // another name: independent
    ASSERT_TRUE(other) << other.error().message;
    held = make_error(Errc::internal, "released");
    EXPECT_TRUE(this->s().lock(k_writer_lock, 50ms));
}

TYPED_TEST(StorageConformance, AWaitingWriterGetsTheLockWhenItIsReleased)
{
    auto held = this->s().lock(5s);
    ASSERT_TRUE(held);
    std::atomic<bool> got{false};
    std::atomic<bool> waiting{false};
    std::thread waiter([&] {
        waiting = true;
        auto l = this->s().lock(30s); // a loose guard: released below
        got = l.ok();
    });
    while (!waiting) std::this_thread::yield();
    EXPECT_FALSE(got);
    held = make_error(Errc::internal, "released");
    waiter.join();
    EXPECT_TRUE(got);
}

TYPED_TEST(StorageConformance, AVaultRoundTripsThroughTheStore)
{
    const crypto::KdfParams fast{crypto_pwhash_OPSLIMIT_MIN, 8192};
    core::Payload p;
    core::Integration in;
    in.name = "acme";
    in.base_url = "https://services.leadconnectorhq.com";
    in.token = core::make_token(Secret::from("pit-conformance-0001"), Timestamp{Seconds{1'767'225'600}});
    p.integrations.push_back(std::move(in));
    {
        auto lock = this->s().lock(5s);
        ASSERT_TRUE(lock);
        auto v = Vault::create(this->s(), Secret::from("pw"), fast, std::move(p));
        ASSERT_TRUE(v) << v.error().message;
    }
    for (int i = 0; i < 3; ++i) {
        auto lock = this->s().lock(5s);
        ASSERT_TRUE(lock);
        auto v = Vault::open(this->s(), Secret::from("pw"));
        ASSERT_TRUE(v) << v.error().message;
        ASSERT_TRUE(v->load("acme"));
        v->payload().find("acme")->description = "save " + std::to_string(i);
        ASSERT_TRUE(v->save());
    }
    auto all = decrypt_storage(this->s(), Secret::from("pw"));
    ASSERT_TRUE(all) << all.error().message;
    EXPECT_EQ(all->find("acme")->description, "save 2");
    EXPECT_TRUE(all->find("acme")->token.value.equals(std::string_view("pit-conformance-0001")));
}

TYPED_TEST(StorageConformance, AVaultSavedFromAStaleHeadIsRefused)
{
    const crypto::KdfParams fast{crypto_pwhash_OPSLIMIT_MIN, 8192};
    ASSERT_TRUE(Vault::create(this->s(), Secret::from("pw"), fast));
    auto a = Vault::open(this->s(), Secret::from("pw"));
    auto b = Vault::open(this->s(), Secret::from("pw"));
    ASSERT_TRUE(a);
    ASSERT_TRUE(b);
    ASSERT_TRUE(a->save());
    const auto after_a = this->s().read().value();
    auto st = b->save(); // read before a's save: a lost update
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, Errc::conflict);
    EXPECT_EQ(this->s().read().value(), after_a);
}

} // namespace
} // namespace pitool::vault
