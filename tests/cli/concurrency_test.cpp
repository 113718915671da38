// Concurrent pitool processes on one vault lose no update; a held lock ends
// in a bounded wait with exit 10.
#include "cli/cli_fixture.hpp"
#include "support/vault_snapshot.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <thread>

namespace pitool::test {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

constexpr int k_workers = 8;

std::string worker_token(int i, int generation)
{
    return "pit-" + std::to_string(10000000 + i) + "-000" + std::to_string(generation) + "-4000-8000-00000000000" +
           std::to_string(i);
}

class Concurrency : public CliTest {};

TEST_F(Concurrency, EightWritersLoseNothing)
{
    init_vault();
    std::array<RunResult, k_workers> created, rotated;
    std::vector<std::thread> threads;
    for (int i = 0; i < k_workers; ++i) {
        threads.emplace_back([&, i] {
            const auto name = "w" + std::to_string(i);
            const Call lock{.env = {{"PITOOL_LOCK_TIMEOUT", "60"}}, .timeout_seconds = 90};
            Call c = lock;
            c.stdin_data = worker_token(i, 1);
            created[static_cast<std::size_t>(i)] = pitool(
                {"--json", "create", name, "--provider", "leadconnector", "--location", "l", "--token-stdin"}, c);
            c.stdin_data = worker_token(i, 2);
            rotated[static_cast<std::size_t>(i)] = pitool({"--json", "rotate", name, "--token-stdin"}, c);
        });
    }
    for (auto& t : threads) t.join();

    std::map<std::string, std::pair<std::string, std::string>> expected; // name -> (old fp, new fp)
    for (std::size_t i = 0; i < k_workers; ++i) {
        ASSERT_EQ(created[i].exit_code, 0) << describe(created[i]);
        ASSERT_EQ(rotated[i].exit_code, 0) << describe(rotated[i]);
        auto c = json::parse(created[i].out);
        auto r = json::parse(rotated[i].out);
        expected[c["name"]] = {c["token"]["fingerprint"], r["token"]["fingerprint"]};
    }
    auto list = ok_json({"list", "--json"});
    ASSERT_EQ(list.size(), static_cast<std::size_t>(k_workers)) << list.dump(1);
    for (const auto& in : list) {
        const auto& [old_fp, new_fp] = expected.at(in["name"]);
        EXPECT_EQ(in["token"]["fingerprint"], new_fp) << in.dump();
        ASSERT_TRUE(in["rotation"].is_object()) << in.dump();
        EXPECT_EQ(in["rotation"]["old_fingerprint"], old_fp) << in.dump();
    }
    for (int i = 0; i < k_workers; ++i) {
        EXPECT_EQ(ok({"get", "w" + std::to_string(i)}).out, worker_token(i, 2) + "\n");
        EXPECT_EQ(ok({"get", "w" + std::to_string(i), "--old"}).out, worker_token(i, 1) + "\n");
    }
    auto history = ok_json({"history", "--json"});
    const auto& ev = history["events"];
    EXPECT_EQ(ev.size(), 1u + 2u * k_workers) << ev.dump(1);
    int creates = 0, rotates = 0;
    for (const auto& e : ev) {
        creates += e["action"] == "create" ? 1 : 0;
        rotates += e["action"] == "rotate" ? 1 : 0;
    }
    EXPECT_EQ(creates, k_workers);
    EXPECT_EQ(rotates, k_workers);
    EXPECT_EQ(history["chain_intact"], true);
}

TEST_F(Concurrency, RacingRotationsOfOneIntegrationOneWins)
{
    init_vault();
    create_pit("shared", k_token);
    std::array<RunResult, k_workers> results;
    std::vector<std::thread> threads;
    for (int i = 0; i < k_workers; ++i)
        threads.emplace_back([&, i] {
            results[static_cast<std::size_t>(i)] = pitool(
                {"rotate", "shared", "--token-stdin"},
                {.stdin_data = worker_token(i, 3), .env = {{"PITOOL_LOCK_TIMEOUT", "60"}}, .timeout_seconds = 90});
        });
    for (auto& t : threads) t.join();
    int winners = 0, conflicts = 0;
    std::string winner_token;
    for (int i = 0; i < k_workers; ++i) {
        const auto& r = results[static_cast<std::size_t>(i)];
        if (r.exit_code == 0) {
            ++winners;
            winner_token = worker_token(i, 3);
        } else {
            EXPECT_EQ(r.exit_code, 4) << describe(r);
            ++conflicts;
        }
    }
    EXPECT_EQ(winners, 1);
    EXPECT_EQ(conflicts, k_workers - 1);
    EXPECT_EQ(ok({"get", "shared"}).out, winner_token + "\n");
    EXPECT_EQ(ok({"get", "shared", "--old"}).out, std::string(k_token) + "\n");
}

TEST_F(Concurrency, RacingInitsCreateOneVault)
{
    std::array<RunResult, 4> results;
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < results.size(); ++i)
        threads.emplace_back([&, i] {
            results[i] = pitool({"init", "--kdf", "interactive"},
                                {.env = {{"PITOOL_PASSPHRASE", "racer-passphrase-" + std::to_string(i)}}});
        });
    for (auto& t : threads) t.join();
    std::size_t winner = results.size();
    for (std::size_t i = 0; i < results.size(); ++i) {
        if (results[i].exit_code == 0) {
            EXPECT_EQ(winner, results.size()) << "two inits both claim to have created the vault";
            winner = i;
        } else {
            EXPECT_EQ(results[i].exit_code, 4) << describe(results[i]);
        }
    }
    ASSERT_LT(winner, results.size());
    auto r = pitool({"list"}, {.env = {{"PITOOL_PASSPHRASE", "racer-passphrase-" + std::to_string(winner)}}});
    EXPECT_EQ(r.exit_code, 0) << "the vault belongs to the init that succeeded: " << describe(r);
}

TEST_F(Concurrency, HeldLockTimesOutWithTen)
{
    init_vault();
    create_pit("a", k_token);
    int fd = ::open((m_vault.string() + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::flock(fd, LOCK_EX), 0);
    const VaultSnapshot before(m_dir);
    const Call half{
        .stdin_data = std::string(k_token2), .env = {{"PITOOL_LOCK_TIMEOUT", "0.5"}}, .timeout_seconds = 20};
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"rotate", "a", "--token-stdin"}, {"delete", "a", "--yes"}, {"passwd"}}) {
        Call call = half;
        call.env["PITOOL_NEW_PASSPHRASE"] = "new-passphrase-0000";
        auto start = std::chrono::steady_clock::now();
        auto r = pitool(args, call);
        auto elapsed = std::chrono::steady_clock::now() - start;
        EXPECT_EQ(r.exit_code, 10) << args[0] << " " << describe(r);
        EXPECT_TRUE(one_line(r.err)) << describe(r);
        EXPECT_THAT(r.err, HasSubstr("lock"));
        EXPECT_GE(elapsed, std::chrono::milliseconds(450)) << args[0];
        EXPECT_LT(elapsed, std::chrono::seconds(8)) << "bounded wait: " << args[0];
        EXPECT_TRUE(before.unchanged()) << args[0];
    }
    auto json_err = pitool({"--json", "expire-old", "a"}, half);
    EXPECT_EQ(json_err.exit_code, 10) << describe(json_err);
    EXPECT_EQ(json::parse(json_err.out)["error"]["kind"], "io");
    EXPECT_TRUE(before.unchanged()) << "expire-old";
    ::flock(fd, LOCK_UN);
    ::close(fd);
    // Released: the same command now succeeds.
    rotate("a", k_token2);
}

} // namespace
} // namespace pitool::test
