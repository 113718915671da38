#include "pitool/util/fs.hpp"

#include "support/process.hpp"

#include <gtest/gtest.h>

#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <optional>
#include <thread>
#include <set>
#include <string>
#include <vector>

namespace pitool::util {
namespace {

namespace fs = std::filesystem;
using pitool::test::read_file;
using pitool::test::TempDir;
using pitool::test::write_file;
using namespace std::chrono_literals;

std::vector<std::uint8_t> bytes(std::string_view s)
{
    return {s.begin(), s.end()};
}

mode_t mode_of(const fs::path& p)
{
    struct stat st {};
    EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
    return st.st_mode & 07777;
}

std::set<std::string> names_in(const fs::path& dir)
{
    std::set<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) out.insert(e.path().filename().string());
    return out;
}

TEST(AtomicReplace, CreatesPrivateFile)
{
    TempDir dir;
    auto p = dir / "vault";
    mode_t old_mask = ::umask(0); // even with a permissive umask
    auto st = atomic_replace(p, bytes("hello"));
    ::umask(old_mask);
    ASSERT_TRUE(st) << st.error().message;
    EXPECT_EQ(read_file(p), "hello");
    EXPECT_EQ(mode_of(p), 0600u);
    EXPECT_EQ(names_in(dir.path()), (std::set<std::string>{"vault"}));
}

TEST(AtomicReplace, ReplacesAndKeepsBackupOfPreviousGeneration)
{
    TempDir dir;
    auto p = dir / "vault";
    auto bak = dir / "vault.bak";
    ASSERT_TRUE(atomic_replace(p, bytes("gen1"), &bak));
    EXPECT_FALSE(fs::exists(bak)); // nothing to back up on first write
    ASSERT_TRUE(atomic_replace(p, bytes("gen2"), &bak));
    EXPECT_EQ(read_file(p), "gen2");
    EXPECT_EQ(read_file(bak), "gen1");
    ASSERT_TRUE(atomic_replace(p, bytes("gen3-longer"), &bak));
    EXPECT_EQ(read_file(p), "gen3-longer");
    EXPECT_EQ(read_file(bak), "gen2");
    EXPECT_EQ(mode_of(p), 0600u);
    EXPECT_EQ(mode_of(bak), 0600u);
    // The backup is the old inode itself (a hard link), not a copy.
    EXPECT_FALSE(fs::equivalent(p, bak));
    EXPECT_EQ(names_in(dir.path()), (std::set<std::string>{"vault", "vault.bak"}));
}

TEST(AtomicReplace, WithoutBackupLeavesNoBackup)
{
    TempDir dir;
    auto p = dir / "f";
    ASSERT_TRUE(atomic_replace(p, bytes("a")));
    ASSERT_TRUE(atomic_replace(p, bytes("b")));
    EXPECT_EQ(read_file(p), "b");
    EXPECT_EQ(names_in(dir.path()), (std::set<std::string>{"f"}));
}

TEST(AtomicReplace, EmptyData)
{
    TempDir dir;
    auto p = dir / "f";
    ASSERT_TRUE(atomic_replace(p, {}));
    EXPECT_EQ(read_file(p), "");
}

TEST(AtomicReplace, FailsCleanlyWhenParentIsAFile)
{
    TempDir dir;
    write_file(dir / "notadir", "x");
    auto st = atomic_replace(dir / "notadir" / "vault", bytes("data"));
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, Errc::io);
    EXPECT_EQ(read_file(dir / "notadir"), "x");
    EXPECT_EQ(names_in(dir.path()), (std::set<std::string>{"notadir"}));
}

TEST(AtomicReplace, FailureLeavesOldFileAndNoTempFiles)
{
    TempDir dir;
    auto p = dir / "vault";
    ASSERT_TRUE(atomic_replace(p, bytes("old")));
    // A backup path that is a directory cannot be replaced by the link.
    auto bak = dir / "vault.bak";
    fs::create_directory(bak);
    write_file(bak / "keep", "k");
    auto st = atomic_replace(p, bytes("new"), &bak);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, Errc::io);
    EXPECT_EQ(read_file(p), "old");
    EXPECT_EQ(names_in(dir.path()), (std::set<std::string>{"vault", "vault.bak"}));
}

TEST(AtomicReplace, FailsInReadOnlyDirectory)
{
    TempDir dir;
    auto sub = dir / "ro";
    fs::create_directory(sub);
    write_file(sub / "vault", "old");
    if (::geteuid() != 0) {
        fs::permissions(sub, fs::perms::owner_read | fs::perms::owner_exec);
        auto st = atomic_replace(sub / "vault", bytes("new"));
        fs::permissions(sub, fs::perms::owner_all);
        ASSERT_FALSE(st);
        EXPECT_EQ(st.error().code, Errc::io);
    } else {
        // Root ignores permission bits, not a read-only mount: in a forked
        // child's private mount namespace, bind the directory read-only over
        // itself (nothing outside the child sees the mount).
        // Exit codes: 0 failed with Errc::io as it should, 80-83 no mount
        // namespace here, 84 it succeeded, 85 another error.
        const std::string path = sub.string();
        int status = pitool::test::Child::fork([&] {
                         if (::unshare(CLONE_NEWNS) != 0) return 80;
                         if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return 81;
                         if (::mount(path.c_str(), path.c_str(), nullptr, MS_BIND, nullptr) != 0) return 82;
                         if (::mount(nullptr, path.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) != 0)
                             return 83;
                         auto st = atomic_replace(fs::path(path) / "vault", bytes("new"));
                         if (st) return 84;
                         return st.error().code == Errc::io ? 0 : 85;
                     }).wait();
        ASSERT_TRUE(WIFEXITED(status));
        const int rc = WEXITSTATUS(status);
        if (rc >= 80 && rc <= 83)
            GTEST_SKIP() << "root, but no private mount namespace for a read-only bind mount (step " << rc - 80
                         << " failed); the property is untested here";
        EXPECT_EQ(rc, 0) << "84: the replace succeeded in a read-only directory, 85: not an io error";
    }
    EXPECT_EQ(read_file(sub / "vault"), "old");
    EXPECT_EQ(names_in(sub), (std::set<std::string>{"vault"}));
}

TEST(AtomicCreate, CreatesPrivateFileAndNeverReplaces)
{
    TempDir dir;
    auto p = dir / "identity";
    mode_t old_mask = ::umask(0);
    auto st = atomic_create(p, bytes("first"));
    ::umask(old_mask);
    ASSERT_TRUE(st) << st.error().message;
    EXPECT_EQ(mode_of(p), 0600u);
    auto again = atomic_create(p, bytes("second"));
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, Errc::conflict);
    EXPECT_EQ(read_file(p), "first");
    EXPECT_EQ(names_in(dir.path()), (std::set<std::string>{"identity"})); // no temp file left
}

TEST(AtomicCreate, OfManyConcurrentCreatorsExactlyOneWins)
{
    TempDir dir;
    auto p = dir / "identity";
    constexpr int k_creators = 8;
    std::atomic<int> wins{0};
    std::atomic<int> conflicts{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < k_creators; ++i)
        threads.emplace_back([&, i] {
            auto st = atomic_create(p, bytes("creator " + std::to_string(i)));
            if (st)
                ++wins;
            else if (st.error().code == Errc::conflict)
                ++conflicts;
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(wins.load(), 1);
    EXPECT_EQ(conflicts.load(), k_creators - 1);
    EXPECT_EQ(read_file(p).rfind("creator ", 0), 0u);
    EXPECT_EQ(names_in(dir.path()), (std::set<std::string>{"identity"}));
}

TEST(ReadPrivateFile, ReadsPrivateFile)
{
    TempDir dir;
    write_file(dir / "f", std::string("a\0b", 3));
    auto r = read_private_file(dir / "f", 100);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r.value(), (std::vector<std::uint8_t>{'a', 0, 'b'}));
}

TEST(ReadPrivateFile, MissingIsNotFound)
{
    TempDir dir;
    auto r = read_private_file(dir / "nope", 100);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::not_found);
}

TEST(ReadPrivateFile, RefusesSymlinkEvenToPrivateFile)
{
    TempDir dir;
    write_file(dir / "target", "secret");
    fs::create_symlink(dir / "target", dir / "link");
    auto r = read_private_file(dir / "link", 100);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::io);
    EXPECT_NE(r.error().message.find("symbolic link"), std::string::npos);
}

TEST(ReadPrivateFile, RefusesDirectory)
{
    TempDir dir;
    fs::create_directory(dir / "d");
    auto r = read_private_file(dir / "d", 100);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::io);
}

TEST(ReadPrivateFile, RefusesFifo)
{
    TempDir dir;
    ASSERT_EQ(::mkfifo((dir / "p").c_str(), 0600), 0);
    auto r = read_private_file(dir / "p", 100); // must not block
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::io);
}

TEST(ReadPrivateFile, RefusesGroupOrWorldAccess)
{
    TempDir dir;
    auto p = dir / "f";
    write_file(p, "data");
    for (mode_t m : {0644u, 0640u, 0604u, 0620u, 0602u, 0610u}) {
        ASSERT_EQ(::chmod(p.c_str(), m), 0);
        auto r = read_private_file(p, 100);
        ASSERT_FALSE(r) << std::oct << m;
        EXPECT_EQ(r.error().code, Errc::io) << std::oct << m;
        EXPECT_NE(r.error().message.find("chmod 600"), std::string::npos);
    }
    ASSERT_EQ(::chmod(p.c_str(), 0400), 0);
    EXPECT_TRUE(read_private_file(p, 100));
}

TEST(ReadPrivateFile, RefusesFileOfAnotherUser)
{
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a file away";
    TempDir dir;
    auto p = dir / "f";
    write_file(p, "data");
    ASSERT_EQ(::chown(p.c_str(), 12345, 12345), 0);
    auto r = read_private_file(p, 100);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::io);
}

TEST(ReadPrivateFile, SizeLimitIsInclusive)
{
    TempDir dir;
    write_file(dir / "f", std::string(10, 'x'));
    EXPECT_TRUE(read_private_file(dir / "f", 10));
    auto r = read_private_file(dir / "f", 9);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::damaged);
}

TEST(EnsurePrivateDir, CreatesMissingParentsWith0700)
{
    TempDir dir;
    auto deep = dir / "a" / "b" / "c";
    ASSERT_TRUE(ensure_private_dir(deep));
    EXPECT_TRUE(fs::is_directory(deep));
    EXPECT_EQ(mode_of(dir / "a"), 0700u);
    EXPECT_EQ(mode_of(deep), 0700u);
    EXPECT_TRUE(ensure_private_dir(deep)); // idempotent
}

TEST(EnsurePrivateDir, LeavesExistingDirectoryModeAlone)
{
    TempDir dir;
    auto d = dir / "shared";
    fs::create_directory(d);
    ASSERT_EQ(::chmod(d.c_str(), 0755), 0);
    ASSERT_TRUE(ensure_private_dir(d));
    EXPECT_EQ(mode_of(d), 0755u);
}

TEST(EnsurePrivateDir, RefusesFileInTheWay)
{
    TempDir dir;
    write_file(dir / "f", "x");
    auto st = ensure_private_dir(dir / "f");
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, Errc::io);
    auto nested = ensure_private_dir(dir / "f" / "sub");
    ASSERT_FALSE(nested);
    EXPECT_EQ(nested.error().code, Errc::io);
}

// Runs `fn` in a forked child and returns its exit status (0..255), or -1.
template <typename Fn> int in_child(Fn fn)
{
    int status = pitool::test::Child::fork(fn).wait();
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(FileLock, OtherProcessTimesOutWhileHeldAndSucceedsAfterRelease)
{
    TempDir dir;
    auto path = dir / "vault.lock";
    {
        auto held = FileLock::acquire(path, 1000ms);
        ASSERT_TRUE(held) << held.error().message;
        EXPECT_EQ(mode_of(path), 0600u);

        // Exit codes: 0 timed out as expected, 1 got the lock, 2 wrong error,
        // 3 returned too early, 4 waited far too long.
        int rc = in_child([&] {
            auto start = std::chrono::steady_clock::now();
            auto r = FileLock::acquire(path, 200ms);
            auto took = std::chrono::steady_clock::now() - start;
            if (r) return 1;
            if (r.error().code != Errc::io) return 2;
            if (took < 200ms) return 3;
            if (took > 5s) return 4;
            return 0;
        });
        EXPECT_EQ(rc, 0);
    }
    int rc = in_child([&] {
        auto r = FileLock::acquire(path, 200ms);
        return r ? 0 : 1;
    });
    EXPECT_EQ(rc, 0);
}

TEST(FileLock, WaitsForReleaseWithinTimeout)
{
    TempDir dir;
    auto path = dir / "l";
    int ready[2], release[2];
    ASSERT_EQ(::pipe(ready), 0);
    ASSERT_EQ(::pipe(release), 0);
    // The child takes the lock and holds it until told to let go (events, not time).
    auto holder = pitool::test::Child::fork([&] {
        ::close(ready[0]);
        ::close(release[1]);
        auto l = FileLock::acquire(path, 1000ms);
        char c = l ? 'y' : 'n';
        (void)!::write(ready[1], &c, 1);
        (void)!::read(release[0], &c, 1); // hold until the parent says so (or dies)
        return 0;                         // exiting releases
    });
    ::close(ready[1]);
    ::close(release[0]);
    char c = 0;
    ASSERT_EQ(::read(ready[0], &c, 1), 1);
    ::close(ready[0]);
    ASSERT_EQ(c, 'y');

    std::atomic<bool> started{false};
    std::optional<std::chrono::steady_clock::time_point> got_at;
    Result<FileLock> mine = make_error(Errc::internal, "not run");
    std::thread waiter([&] {
        started = true;
        mine = FileLock::acquire(path, 10s);
        got_at = std::chrono::steady_clock::now();
    });
    while (!started) std::this_thread::yield();
    // The lock is still held by the child at this point: our own attempt fails.
    EXPECT_FALSE(FileLock::acquire(path, 0ms));
    const auto released_at = std::chrono::steady_clock::now();
    ::close(release[1]); // the child reads EOF, exits, and the lock is released
    waiter.join();
    EXPECT_EQ(holder.wait(), 0);
    ASSERT_TRUE(mine) << mine.error().message;
    // Order, not duration: the waiting acquire began while the lock was held
    // and returned only after it was released.
    ASSERT_TRUE(got_at);
    EXPECT_GE(*got_at, released_at);
    EXPECT_LT(*got_at - released_at, 5s); // loose guard only
}

TEST(FileLock, MoveTransfersOwnership)
{
    TempDir dir;
    auto path = dir / "l";
    auto a = FileLock::acquire(path, 100ms);
    ASSERT_TRUE(a);
    FileLock moved = std::move(a).value();
    FileLock other;
    other = std::move(moved);
    EXPECT_EQ(in_child([&] { return FileLock::acquire(path, 50ms) ? 1 : 0; }), 0);
    other = FileLock(); // releases
    EXPECT_EQ(in_child([&] { return FileLock::acquire(path, 50ms) ? 0 : 1; }), 0);
}

TEST(FileLock, RefusesSymlinkedLockFile)
{
    TempDir dir;
    write_file(dir / "target", "");
    fs::create_symlink(dir / "target", dir / "l");
    auto r = FileLock::acquire(dir / "l", 50ms);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::io);
}

} // namespace
} // namespace pitool::util
