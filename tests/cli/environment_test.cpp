// The test environment itself: every process a test starts gets HOME, the
// XDG directories, TMPDIR, the vault and the agent socket inside the test's
// own directory (support/process.hpp child_env), so that no test can reach
// the real user's vault or agent, even one that forgets --vault or
// PITOOL_AGENT_SOCKET (as a teardown running `pitool lock` once did).
#include "cli/cli_fixture.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

namespace pitool::test {
namespace {

class TestEnvironment : public CliTest {};

bool inside(const std::filesystem::path& p, const std::filesystem::path& dir)
{
    const auto rel = std::filesystem::weakly_canonical(p).lexically_relative(std::filesystem::weakly_canonical(dir));
    return !rel.empty() && *rel.begin() != "..";
}

TEST_F(TestEnvironment, ChildEnvironmentPointsEveryPathIntoTheDirectory)
{
    const auto env = child_env(m_tmp.path());
    for (const char* name : {"HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME",
                             "XDG_RUNTIME_DIR", "TMPDIR", "PITOOL_VAULT", "PITOOL_AGENT_SOCKET"}) {
        ASSERT_EQ(env.count(name), 1u) << name;
        EXPECT_TRUE(inside(env.at(name), m_tmp.path())) << name << "=" << env.at(name);
    }
    EXPECT_TRUE(inside(m_tmp.path(), test_root()));
}

TEST_F(TestEnvironment, PitoolWithoutVaultOrSocketStaysInsideTheDirectory)
{
    // No --vault, PITOOL_VAULT empty: the default vault path comes from the
    // XDG/HOME variables, which must point into the test's directory.
    const auto status = ok_json({"--json", "unlock", "--status"}, {.no_passphrase = true, .no_vault_flag = true});
    ASSERT_TRUE(status.contains("vault")) << status.dump();
    EXPECT_TRUE(inside(status["vault"].get<std::string>(), m_tmp.path())) << status.dump();
    EXPECT_EQ(status["agent_running"], false) << "an agent outside this test answered: " << status.dump();

    // No PITOOL_AGENT_SOCKET given by the test: the agent `unlock` starts
    // listens inside the test's directory, and `lock` reaches that one.
    init_vault();
    ok({"unlock"});
    EXPECT_TRUE(std::filesystem::exists(m_tmp / "agent" / "agent.sock"));
    EXPECT_EQ(ok_json({"--json", "unlock", "--status"}, {.no_passphrase = true})["unlocked"], true);
    ok({"lock"}, {.no_passphrase = true});
    EXPECT_EQ(ok_json({"--json", "unlock", "--status"}, {.no_passphrase = true})["agent_running"], false);
}

} // namespace
} // namespace pitool::test
