// Concurrency (16 pitool processes on one vault with a sandbox; a lock that
// cannot be had) and hostile filesystems (RLIMIT_FSIZE, a full tmpfs, a
// read-only directory, the vault deleted or replaced while a command waits).
#include "robust_support.hpp"
#include "support/vault_snapshot.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <array>
#include <functional>
#include <set>
#include <iostream>
#include <thread>

namespace pitool::robust {
namespace {

using ::testing::HasSubstr;

class Robust : public ::testing::Test {
protected:
    void SetUp() override
    {
        pt.vault = tmp.path() / "v" / "vault";
        pt.ok({"init", "--kdf", "interactive"});
        pitool::test::write_file(pt.vault, cheapen_vault(*slurp(pt.vault), pt.passphrase));
    }
    json payload() const { return *decrypt_vault(*slurp(pt.vault), pt.passphrase, pt.vault); }
    static const json& integration(const json& p, const std::string& name)
    {
        for (const auto& i : p["integrations"])
            if (i["name"] == name) return i;
        throw std::runtime_error("no integration " + name);
    }
    pitool::test::TempDir tmp;
    Pitool pt;
    std::mt19937_64 rng{std::random_device{}()};
};

TEST_F(Robust, SixteenProcessesLoseNoUpdateAndSpendEachRefreshTokenOnce)
{
    Sandbox sb;
    auto app = sb.new_app();
    pt.ok({"create", "app", "--provider", "leadconnector", "--kind", "oauth-app", "--client-id",
           app["client_id"].get<std::string>(), "--base-url", sb.url(), "--token-stdin"},
          app["client_secret"].get<std::string>());
    for (int i = 0; i < 3; ++i)
        pt.ok({"exchange-code", "--provider", "leadconnector", "--app", "app", "--name", "o" + std::to_string(i),
               "--code-stdin"},
              sb.new_code(app["client_id"]));
    std::map<std::string, std::string> tok;
    for (int i = 0; i < 6; ++i) {
        auto pit = sb.admin("POST", "/pits",
                            {{"level", "location"}, {"location_id", "LOC1"}, {"scopes", {"locations.readonly"}}});
        const auto name = "p" + std::to_string(i);
        tok[name] = pit["token"];
        pt.ok({"create", name, "--provider", "leadconnector", "--location", "LOC1", "--base-url", sb.url(),
               "--token-stdin"},
              tok[name]);
    }
    // p4, p5 have a window open, to be cancelled concurrently.
    for (const std::string name : {"p4", "p5"}) pt.ok({"rotate", name, "--token-stdin"}, random_pit(rng));
    const auto events_before = payload()["history"].size();

    struct Job {
        std::string what;
        std::vector<std::string> args;
        std::string in;
    };
    std::vector<Job> jobs;
    std::map<std::string, std::string> new_tok;
    for (int i = 0; i < 4; ++i) {
        const auto name = "c" + std::to_string(i);
        new_tok[name] = random_pit(rng);
        jobs.push_back({"create",
                        {"create", name, "--provider", "leadconnector", "--location", "LOC1", "--token-stdin"},
                        new_tok[name]});
    }
    for (const std::string name : {"p0", "p1", "p2"}) {
        new_tok[name] = random_pit(rng);
        jobs.push_back({"rotate", {"rotate", name, "--token-stdin"}, new_tok[name]});
    }
    for (const std::string name : {"p4", "p5"}) jobs.push_back({"cancel", {"cancel-rotation", name}, {}});
    for (const std::string name : {"o0", "o0", "o1", "o2"}) jobs.push_back({"refresh", {"refresh", name}, {}});
    for (const std::string name : {"p3", "o1", "o2"}) jobs.push_back({"test-call", {"test-call", name}, {}});
    ASSERT_EQ(jobs.size(), 16u);

    std::vector<Proc> res(jobs.size());
    std::vector<std::thread> threads;
    for (std::size_t k = 0; k < jobs.size(); ++k)
        threads.emplace_back([&, k] {
            auto s = pt.spec(jobs[k].args, jobs[k].in);
            s.env["PITOOL_LOCK_TIMEOUT"] = "120";
            s.timeout_s = 180;
            res[k] = spawn(s);
        });
    for (auto& t : threads) t.join();
    for (std::size_t k = 0; k < jobs.size(); ++k)
        EXPECT_EQ(res[k].exit_code, 0) << jobs[k].what << ": " << describe(res[k]);

    const auto p = payload();
    for (int i = 0; i < 4; ++i) {
        const auto name = "c" + std::to_string(i);
        EXPECT_EQ(integration(p, name)["token"]["secret"], new_tok[name]) << "lost create " << name;
    }
    for (const std::string name : {"p0", "p1", "p2"}) {
        EXPECT_EQ(integration(p, name)["token"]["secret"], new_tok[name]) << "lost rotate " << name;
        EXPECT_EQ(integration(p, name)["rotation"]["old"]["secret"], tok[name]);
    }
    for (const std::string name : {"p4", "p5"}) {
        EXPECT_EQ(integration(p, name)["token"]["secret"], tok[name]) << "lost cancel " << name;
        EXPECT_FALSE(integration(p, name).contains("rotation"));
    }
    EXPECT_TRUE(integration(p, "p3").contains("last_check")) << "lost test-call result";
    // Every refresh token issued was presented exactly once, except the live ones (0).
    std::set<std::string> live;
    for (const std::string name : {"o0", "o1", "o2"}) {
        const auto rt = integration(p, name)["oauth"]["refresh_token"].get<std::string>();
        auto view = sb.inspect(rt);
        EXPECT_EQ(view["state"], "active") << name << " holds a spent refresh token";
        EXPECT_EQ(view["presented"], 0) << name;
        live.insert(view["id"].get<std::string>());
    }
    int spent = 0;
    const auto counters = sb.admin("GET", "/counters");
    ASSERT_TRUE(counters.contains("refresh_tokens")) << counters.dump().substr(0, 2000);
    for (const auto& rt : counters["refresh_tokens"]) {
        if (live.contains(rt["id"].get<std::string>())) continue;
        ++spent;
        EXPECT_EQ(rt["presented"], 1) << rt.dump();
        EXPECT_EQ(rt["state"], "used") << rt.dump();
    }
    EXPECT_EQ(spent, 4) << "four refreshes ran: o0 twice, o1, o2";
    int refresh_events = 0;
    for (const auto& e : p["history"]) refresh_events += e["action"] == "refresh" ? 1 : 0;
    EXPECT_EQ(refresh_events, 4);
    EXPECT_EQ(p["history"].size(), events_before + 4 + 3 + 2 + 4) << "creates, rotates, cancels, refreshes";
    auto h = json::parse(pt.ok({"history", "--json"}).out);
    EXPECT_EQ(h["chain_intact"], true);
    std::cout << "[concurrency] 16 processes raced: 4 create, 3 rotate, 2 cancel-rotation, 4 refresh, 3 test-call; "
              << spent << " refresh tokens spent, each presented once" << std::endl;
}

/// Runs pitool with `env` while this test holds the vault's lock; calls
/// `on_lock_open` once pitool opens the lock file. pitool opens that file only
/// to take the lock, after it has read the vault and derived the key: that
/// open is the moment its wait begins, whatever the key derivation cost.
Proc run_against_held_lock(const Pitool& pt, const std::vector<std::string>& args, const std::string& in,
                           const std::map<std::string, std::string>& env, const std::function<void()>& on_lock_open)
{
    const std::string lock_file = pt.vault.string() + ".lock";
    int ino = ::inotify_init1(IN_CLOEXEC);
    EXPECT_GE(::inotify_add_watch(ino, lock_file.c_str(), IN_OPEN), 0);
    Proc p;
    std::thread t([&] { p = pt.run(args, in, env); });
    pollfd w{ino, POLLIN, 0};
    EXPECT_EQ(::poll(&w, 1, 30'000), 1) << "pitool never tried the lock"; // a loose guard only
    ::close(ino);
    on_lock_open();
    t.join();
    return p;
}

/// Runs pitool while this test holds the lock, changes the vault file, releases.
Proc while_waiting(const Pitool& pt, const std::vector<std::string>& args, const std::string& in,
                   const std::function<void()>& meddle)
{
    const std::string lock_file = pt.vault.string() + ".lock";
    int fd = ::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    ::flock(fd, LOCK_EX);
    return run_against_held_lock(pt, args, in, {{"PITOOL_LOCK_TIMEOUT", "60"}}, [&] {
        meddle();
        ::close(fd);
    });
}

TEST_F(Robust, HeldLockEndsInExitTenQuickly)
{
    Sandbox sb;
    auto app = sb.new_app();
    pt.ok({"create", "app", "--provider", "leadconnector", "--kind", "oauth-app", "--client-id",
           app["client_id"].get<std::string>(), "--base-url", sb.url(), "--token-stdin"},
          app["client_secret"].get<std::string>());
    pt.ok({"exchange-code", "--provider", "leadconnector", "--app", "app", "--name", "o", "--code-stdin"},
          sb.new_code(app["client_id"]));
    pt.ok({"create", "a", "--provider", "leadconnector", "--location", "L", "--token-stdin"}, random_pit(rng));
    const pitool::test::VaultSnapshot before(pt.vault.parent_path());
    const auto requests_before = sb.admin("GET", "/requests")["requests"].size();
    int fd = ::open((pt.vault.string() + ".lock").c_str(), O_RDWR | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::flock(fd, LOCK_EX), 0);
    const std::map<std::string, std::string> env{
        {"PITOOL_LOCK_TIMEOUT", "0.2"}, {"PITOOL_HTTP_TIMEOUT", "1"}, {"PITOOL_NEW_PASSPHRASE", "new-pass-1234"}};
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"create", "b", "--provider", "leadconnector", "--location", "L", "--token-stdin"},
             {"rotate", "a", "--token-stdin"},
             {"delete", "a", "--yes"},
             {"passwd"},
             {"refresh", "o"},
             {"exchange-code", "--provider", "leadconnector", "--app", "app", "--name", "o2", "--code-stdin"}}) {
        const auto in = args[0] == "exchange-code" ? sb.new_code(app["client_id"]) : random_pit(rng);
        std::chrono::steady_clock::time_point opened;
        auto p = run_against_held_lock(pt, args, in, env, [&] { opened = std::chrono::steady_clock::now(); });
        const auto waited_ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - opened).count();
        EXPECT_EQ(p.exit_code, k_io) << args[0] << describe(p);
        EXPECT_TRUE(one_line(p.err)) << describe(p);
        EXPECT_THAT(p.err, HasSubstr("locked by another pitool process"));
        // Timed from pitool's open of the lock file to its exit, so the key
        // derivation before it (slow under ASan on a loaded machine) does not
        // count. refresh/exchange-code wait lock + 2 x HTTP timeout
        // (docs/cli.md): 2.2 s here, the others 0.2 s. A pitool that ignored
        // PITOOL_LOCK_TIMEOUT would sleep the 10 s default (12 s) before it
        // could exit, so a bound under 10 s tells the two apart whatever the
        // load; the lower bound shows the given wait was not skipped.
        const bool waits_for_http = args[0] == "refresh" || args[0] == "exchange-code";
        EXPECT_GE(waited_ms, waits_for_http ? 1500 : 100) << args[0];
        EXPECT_LT(waited_ms, 9500) << args[0];
    }
    ::close(fd);
    EXPECT_TRUE(before.unchanged());
    EXPECT_EQ(sb.admin("GET", "/requests")["requests"].size(), requests_before) << "nothing was sent without the lock";
}

TEST_F(Robust, VaultDeletedOrReplacedWhileWaitingForTheLock)
{
    pt.ok({"create", "a", "--provider", "leadconnector", "--location", "L", "--token-stdin"}, random_pit(rng));
    const auto original = *slurp(pt.vault);
    const auto tok = random_pit(rng);
    // Deleted: a clear error, nothing recreated from memory.
    auto p = while_waiting(pt, {"rotate", "a", "--token-stdin"}, tok, [&] { std::filesystem::remove(pt.vault); });
    EXPECT_EQ(p.exit_code, k_not_found) << describe(p);
    EXPECT_TRUE(one_line(p.err)) << describe(p);
    EXPECT_FALSE(std::filesystem::exists(pt.vault)) << "a deleted vault came back from a stale copy";
    // Replaced by garbage: damage, the garbage left alone.
    pitool::test::write_file(pt.vault, original);
    std::optional<pitool::test::VaultSnapshot> meddled;
    p = while_waiting(pt, {"rotate", "a", "--token-stdin"}, tok, [&] {
        pitool::test::write_file(pt.vault, "not a vault at all");
        meddled.emplace(pt.vault.parent_path());
    });
    EXPECT_EQ(p.exit_code, k_damaged) << describe(p);
    EXPECT_EQ(*slurp(pt.vault), "not a vault at all");
    ASSERT_TRUE(meddled.has_value());
    EXPECT_TRUE(meddled->unchanged()) << "the damaged vault's directory was written";
    // Replaced by another vault under another passphrase: refused, untouched.
    Pitool other;
    other.vault = tmp.path() / "o" / "vault";
    other.passphrase = "a-different-passphrase-77";
    other.ok({"init", "--kdf", "interactive"});
    const auto other_bytes = cheapen_vault(*slurp(other.vault), other.passphrase);
    pitool::test::write_file(pt.vault, original);
    meddled.reset();
    p = while_waiting(pt, {"rotate", "a", "--token-stdin"}, tok, [&] {
        pitool::test::write_file(pt.vault, other_bytes);
        meddled.emplace(pt.vault.parent_path());
    });
    EXPECT_EQ(p.exit_code, k_wrong_pass) << describe(p);
    EXPECT_EQ(*slurp(pt.vault), other_bytes);
    ASSERT_TRUE(meddled.has_value());
    EXPECT_TRUE(meddled->unchanged()) << "the replaced vault's directory was written";
    // Replaced by an older generation of the same vault (a rollback): the
    // re-read under the lock sees a generation older than one this machine
    // has seen, and refuses, writing nothing (before generations, the change
    // applied to the old copy, so what the newer generations had replaced
    // came back). Neither b from the stale read nor the rotation is written.
    pitool::test::write_file(pt.vault, original);
    pt.ok({"create", "b", "--provider", "leadconnector", "--location", "L", "--token-stdin"}, random_pit(rng));
    meddled.reset();
    p = while_waiting(pt, {"rotate", "a", "--token-stdin"}, tok, [&] {
        pitool::test::write_file(pt.vault, original);
        meddled.emplace(pt.vault.parent_path());
    });
    EXPECT_EQ(p.exit_code, k_damaged) << describe(p);
    EXPECT_TRUE(one_line(p.err)) << describe(p);
    EXPECT_THAT(p.err, HasSubstr("may have been rolled back"));
    EXPECT_THAT(p.err, HasSubstr(" restore ")); // "pitool [--vault V] restore BACKUP"
    EXPECT_EQ(*slurp(pt.vault), original);
    ASSERT_TRUE(meddled.has_value());
    EXPECT_TRUE(meddled->unchanged()) << "the rolled-back vault's directory was written";
    const auto now = payload();
    EXPECT_EQ(now["integrations"].size(), 1u) << "b came back from the waiting process's stale read";
    EXPECT_NE(integration(now, "a")["token"]["secret"], tok);
}

TEST_F(Robust, FileSizeLimitIsAnIoErrorAndChangesNothing)
{
    pt.ok({"create", "a", "--provider", "leadconnector", "--location", "L", "--token-stdin"}, random_pit(rng));
    const auto before = *slurp(pt.vault);
    const pitool::test::VaultSnapshot dir_before(pt.vault.parent_path());
    auto s = pt.spec({"create", "big", "--provider", "leadconnector", "--location", "L", "--description",
                      std::string(1000, 'd'), "--token-stdin"},
                     random_pit(rng));
    s.fsize_limit = before.size() + 100; // smaller than the new vault
    const auto p = spawn(s);
    EXPECT_EQ(p.exit_code, k_io) << describe(p);
    EXPECT_TRUE(one_line(p.err)) << describe(p);
    EXPECT_EQ(*slurp(pt.vault), before);
    EXPECT_TRUE(dir_before.unchanged()) << "a failed write must truncate the data file back";
    EXPECT_EQ(stray_temp_files(pt.vault.parent_path()), 0) << "the failed temp file was not removed";
    pt.ok({"list"});
}

/// Runs a shell script in a private mount namespace (root only).
Proc in_namespace(const std::string& script, const std::map<std::string, std::string>& env)
{
    Spawn s;
    s.argv = {"/usr/bin/unshare", "-m", "--propagation", "private", "/bin/sh", "-c", script};
    s.env = env;
    s.timeout_s = 30;
    return spawn(s);
}

TEST_F(Robust, FullTmpfsIsAnIoErrorAndChangesNothing)
{
    if (!can_unshare_mounts()) GTEST_SKIP() << "needs root and mount namespaces (unshare -m) for a 64 KiB tmpfs";
    for (int i = 0; i < 8; ++i)
        pt.ok({"create", "n" + std::to_string(i), "--provider", "leadconnector", "--location", "L", "--description",
               std::string(900, 'x'), "--token-stdin"},
              random_pit(rng));
    const auto before = *slurp(pt.vault);
    std::string data_before;
    for (const auto& e : std::filesystem::directory_iterator(pt.vault.parent_path()))
        if (e.path().filename().string().rfind("vault.data-", 0) == 0) data_before += *slurp(e.path());
    ASSERT_FALSE(data_before.empty());
    const auto out = tmp.path() / "after";
    // Copy the vault (and its data file) into a 64 KiB tmpfs, fill the rest,
    // run a write, copy the result out.
    const std::string script =
        "set -e; d=\"$DIR\"; mount -t tmpfs -o size=64k,mode=0700 tmpfs \"$d\"; cp -p \"$SRC\" \"$d/vault\"; "
        "for f in \"$SRC\".data-*; do cp -p \"$f\" \"$d/vault.${f##*.}\"; done; "
        ": > \"$d/vault.lock\"; dd if=/dev/zero of=\"$d/fill\" bs=1024 2>/dev/null || true; "
        "cp -a \"$d\" \"$OUT.before\"; "
        "set +e; printf %s \"$TOK\" | \"$PITOOL\" --vault \"$d/vault\" create full --provider leadconnector "
        "--location L --token-stdin 2>\"$OUT.err\"; rc=$?; cp -a \"$d\" \"$OUT.after\"; cp -p \"$d/vault\" \"$OUT\"; "
        "cat \"$d\"/vault.data-* > \"$OUT.data\"; "
        "ls -a \"$d\" > \"$OUT.ls\"; exit $rc";
    std::filesystem::create_directory(tmp.path() / "mnt");
    const auto p = in_namespace(script, {{"DIR", (tmp.path() / "mnt").string()},
                                         {"SRC", pt.vault.string()},
                                         {"OUT", out.string()},
                                         {"PITOOL", PITOOL_BIN},
                                         {"TOK", random_pit(rng)},
                                         {"PITOOL_PASSPHRASE", pt.passphrase}});
    const auto err = slurp(out.string() + ".err").value_or("");
    EXPECT_EQ(p.exit_code, k_io) << describe(p) << err;
    EXPECT_TRUE(one_line(err)) << err;
    EXPECT_EQ(slurp(out), before) << "the vault in the full tmpfs changed";
    EXPECT_EQ(slurp(out.string() + ".data"), data_before) << "the data file kept what a failed write appended";
    EXPECT_TRUE(pitool::test::VaultSnapshot(out.string() + ".before")
                    .same_as(pitool::test::VaultSnapshot(out.string() + ".after")));
    EXPECT_THAT(slurp(out.string() + ".ls").value_or(""), ::testing::Not(HasSubstr(".vault.tmp.")))
        << "temp file left in the full filesystem";
}

TEST_F(Robust, ImmutableDirectoryIsAnIoErrorAndChangesNothing)
{
    pt.ok({"create", "a", "--provider", "leadconnector", "--location", "L", "--token-stdin"}, random_pit(rng));
    const auto before = *slurp(pt.vault);
    const auto dir = pt.vault.parent_path();
    const pitool::test::VaultSnapshot dir_before(dir);
    // chattr +i on the directory (root cannot create or rename entries in it).
    Spawn ch;
    ch.argv = {"/usr/bin/chattr", "+i", dir.string()};
    const auto set = spawn(ch);
    if (set.exit_code != 0)
        GTEST_SKIP() << "chattr +i is not supported on this filesystem (" << set.err.substr(0, 200)
                     << "); the read-only bind mount test covers the property";
    auto p = pt.run({"rotate", "a", "--token-stdin"}, random_pit(rng));
    ch.argv = {"/usr/bin/chattr", "-i", dir.string()};
    spawn(ch);
    EXPECT_EQ(p.exit_code, k_io) << describe(p);
    EXPECT_TRUE(one_line(p.err)) << describe(p);
    EXPECT_EQ(*slurp(pt.vault), before);
    EXPECT_TRUE(dir_before.unchanged());
}

TEST_F(Robust, ReadOnlyDirectoryIsAnIoErrorAndChangesNothing)
{
    pt.ok({"create", "a", "--provider", "leadconnector", "--location", "L", "--token-stdin"}, random_pit(rng));
    const auto before = *slurp(pt.vault);
    const auto dir = pt.vault.parent_path();
    const pitool::test::VaultSnapshot dir_before(dir);
    // A read-only bind mount in a private mount namespace.
    if (!can_unshare_mounts()) GTEST_SKIP() << "needs root and mount namespaces for a read-only bind mount";
    const std::string script = "set -e; mount --bind \"$D\" \"$D\"; mount -o remount,bind,ro \"$D\"; set +e; "
                               "printf %s \"$TOK\" | \"$PITOOL\" --vault \"$D/vault\" rotate a --token-stdin";
    auto p = in_namespace(
        script,
        {{"D", dir.string()}, {"PITOOL", PITOOL_BIN}, {"TOK", random_pit(rng)}, {"PITOOL_PASSPHRASE", pt.passphrase}});
    EXPECT_EQ(p.exit_code, k_io) << describe(p);
    EXPECT_TRUE(one_line(p.err)) << describe(p);
    EXPECT_EQ(*slurp(pt.vault), before);
    EXPECT_TRUE(dir_before.unchanged());
}

} // namespace
} // namespace pitool::robust
