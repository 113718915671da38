// A planted token, client secret and passphrase must never show up anywhere
// but in `get`'s stdout: not in other outputs (errors and -v included), not
// in clear in any file of the vault directory, not in pitool's argv.
#include "cli/cli_fixture.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

namespace pitool::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string k_wrong_passphrase = "WrongPassphrase-NARWHAL-91c3";
const std::string k_new_passphrase = "NewPassphrase-OCELOT-44aa12";
const std::string k_rotated = "pit-5ec12e75-0000-4c0d-9e7f-0defacedbee5";
const std::string k_odd = "OddToken-MARMOT-71b2c9d0e1f2";

std::vector<std::string> all_secrets()
{
    return {std::string(k_token),
            std::string(k_token2),
            std::string(k_client_secret),
            std::string(k_passphrase),
            k_wrong_passphrase,
            k_new_passphrase,
            k_rotated,
            k_odd};
}

class Secrets : public CliTest {
protected:
    /// Runs pitool, expecting exit `code`, and checks that no secret except
    /// `allowed` (may be empty) appears in its stdout, and none in its stderr.
    RunResult checked(int code, const std::vector<std::string>& args, const Call& call = {},
                      const std::string& allowed = {})
    {
        auto r = pitool(args, call);
        std::string cmd;
        for (const auto& a : args) cmd += " " + a;
        EXPECT_EQ(r.exit_code, code) << cmd << " " << describe(r);
        for (const auto& s : all_secrets()) {
            EXPECT_THAT(r.err, Not(HasSubstr(s))) << "stderr of" << cmd;
            if (s != allowed) {
                EXPECT_THAT(r.out, Not(HasSubstr(s))) << "stdout of" << cmd;
            }
            // A prefix long enough to identify the secret must not leak either.
            EXPECT_THAT(r.err, Not(HasSubstr(s.substr(0, 16)))) << "stderr of" << cmd;
            if (s != allowed) {
                EXPECT_THAT(r.out, Not(HasSubstr(s.substr(0, 16)))) << "stdout of" << cmd;
            }
        }
        ++m_runs;
        return r;
    }

    void expect_files_clean() const
    {
        int files = 0;
        for (const auto& entry : std::filesystem::recursive_directory_iterator(m_dir)) {
            if (!entry.is_regular_file()) continue;
            ++files;
            auto bytes = read_file(entry.path());
            for (const auto& s : all_secrets())
                EXPECT_EQ(bytes.find(s), std::string::npos) << s << " in clear in " << entry.path();
        }
        EXPECT_GE(files, 2) << "the vault and its backup at least";
    }

    void run_everything(const std::string& verbosity);

    int m_runs = 0;
};

/// Runs every command, succeeding and failing, with `verbosity` ("" or "-v").
void Secrets::run_everything(const std::string& v)
{
    const std::string tok(k_token);
    const std::string tok2(k_token2);
    const std::string cs(k_client_secret);
    auto token_file = m_tmp / "token-file";
    write_file(token_file, tok2 + "\n");
    const Call wrong{.env = {{"PITOOL_PASSPHRASE", k_wrong_passphrase}}};

    auto pre = [&](std::vector<std::string> args) {
        if (!v.empty()) args.insert(args.begin(), v);
        return args;
    };
    checked(0, pre({"init", "--kdf", "interactive"}));
    checked(0,
            pre({"create", "a", "--provider", "leadconnector", "--location", "loc-1", "--scope", "bogus.scope",
                 "--token-stdin"}),
            {.stdin_data = tok});
    checked(0,
            pre({"--json", "create", "app", "--provider", "leadconnector", "--kind", "oauth-app", "--client-id",
                 "cid-1", "--token-stdin"}),
            {.stdin_data = cs});
    checked(0, pre({"create", "h", "--provider", "hint", "--token-file", token_file.string()}));
    // The warning about a token that does not look like a PIT must not quote it.
    auto odd = checked(0, pre({"create", "odd", "--provider", "leadconnector", "--location", "l", "--token-stdin"}),
                       {.stdin_data = k_odd});
    EXPECT_THAT(odd.err, HasSubstr("does not look like"));
    checked(0, pre({"delete", "odd", "--yes"}));
    checked(0, pre({"rotate", "a", "--token-stdin"}), {.stdin_data = tok2});
    checked(4, pre({"--json", "rotate", "a", "--token-stdin"}), {.stdin_data = k_rotated});       // window open: 4
    checked(4, pre({"rotate", "h", "--token-stdin"}), {.stdin_data = tok2});                      // same token: 4
    checked(4, pre({"create", "a", "--provider", "hint", "--token-stdin"}), {.stdin_data = tok}); // exists: 4
    checked(2, pre({"create", "BAD NAME", "--provider", "hint", "--token-stdin"}), {.stdin_data = tok});
    checked(2, pre({"create", "x", "--provider", "hint", "--token-stdin"}), {.stdin_data = tok + " trailing"});
    checked(0, pre({"list"}));
    checked(0, pre({"--json", "list"}));
    checked(0, pre({"show", "a"}));
    checked(0, pre({"--json", "show", "app"}));
    checked(0, pre({"history"}));
    checked(0, pre({"--json", "history"}));
    checked(0, pre({"audit"}));
    checked(0, pre({"--json", "audit"}));
    EXPECT_EQ(checked(0, pre({"get", "a"}), {}, tok2).out, tok2 + "\n");
    EXPECT_THAT(checked(0, pre({"--json", "get", "a", "--old"}), {}, tok).out, HasSubstr(tok));
    EXPECT_EQ(checked(0, pre({"get", "app"}), {}, cs).out, cs + "\n");
    checked(5, pre({"get", "a"}), wrong);
    checked(5, pre({"--json", "get", "a"}), wrong);
    checked(5, pre({"create", "y", "--provider", "hint", "--token-stdin"}), {.stdin_data = tok, .env = wrong.env});
    checked(0, pre({"exec", "a", "--", "/bin/true"}));
    checked(3, pre({"exec", "a", "--", "/no/such/program"}));
    checked(4, pre({"expire-old", "h"}));
    checked(0, pre({"cancel-rotation", "a"}));
    checked(5, pre({"passwd"}),
            {.env = {{"PITOOL_PASSPHRASE", k_wrong_passphrase}, {"PITOOL_NEW_PASSPHRASE", k_new_passphrase}}});
    checked(0, pre({"passwd"}), {.env = {{"PITOOL_NEW_PASSPHRASE", k_new_passphrase}}});
    checked(5, pre({"list"})); // old passphrase: 5
    checked(0, pre({"--json", "list"}), {.env = {{"PITOOL_PASSPHRASE", k_new_passphrase}}});
    expect_files_clean();
    EXPECT_GT(m_runs, 30);

    // By construction no test passes a secret in argv; check the record.
    for (const auto& argv : argv_log())
        for (const auto& arg : argv)
            for (const auto& s : all_secrets()) EXPECT_EQ(arg.find(s), std::string::npos) << arg;
}

TEST_F(Secrets, NoCommandPrintsASecretExceptGet)
{
    run_everything("");
}

TEST_F(Secrets, NoVerboseCommandPrintsASecretExceptGet)
{
    run_everything("-v");
}

TEST_F(Secrets, TokenNeverInClearOnDisk)
{
    init_vault();
    create_pit("a", k_token);
    rotate("a", k_token2);
    ok({"create", "app", "--provider", "leadconnector", "--kind", "oauth-app", "--client-id", "cid-1", "--token-stdin"},
       {.stdin_data = std::string(k_client_secret)});
    expect_files_clean();
    // Also base64/hex-free check: not even the token's distinctive middle part.
    auto bytes = vault_bytes();
    EXPECT_EQ(bytes.find("0defacedcafe"), std::string::npos);
    EXPECT_EQ(bytes.find("leadconnector"), std::string::npos) << "metadata is encrypted too";
}

/// Pids of this process's children that run `exe`.
std::vector<int> children_running(const std::filesystem::path& exe)
{
    std::vector<int> out;
    auto canonical = std::filesystem::canonical(exe);
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
        const auto name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream stat(entry.path() / "stat");
        std::string line;
        std::getline(stat, line);
        auto close = line.rfind(')');
        if (close == std::string::npos) continue;
        std::istringstream rest(line.substr(close + 2));
        char state = 0;
        int ppid = 0;
        rest >> state >> ppid;
        if (ppid != ::getpid()) continue;
        std::error_code ec;
        if (std::filesystem::read_symlink(entry.path() / "exe", ec) == canonical) out.push_back(std::stoi(name));
    }
    return out;
}

TEST_F(Secrets, TokenNotInArgvOfRunningProcess)
{
    init_vault();
    create_pit("a", k_token);
    // Hold the writer lock so `rotate` blocks after reading its token, then
    // look at its command line while it waits.
    int fd = ::open((m_vault.string() + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::flock(fd, LOCK_EX), 0);
    RunResult result;
    std::thread t([&] {
        result = pitool({"rotate", "a", "--token-stdin"},
                        {.stdin_data = std::string(k_token2), .env = {{"PITOOL_LOCK_TIMEOUT", "20"}}});
    });
    std::vector<int> pids;
    for (int i = 0; i < 200 && pids.empty(); ++i) {
        pids = children_running(PITOOL_BIN);
        if (pids.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::string cmdline;
    if (!pids.empty()) {
        // Give it time to read stdin and reach the lock wait.
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        cmdline = read_file(std::filesystem::path("/proc") / std::to_string(pids[0]) / "cmdline");
    }
    ::flock(fd, LOCK_UN);
    ::close(fd);
    t.join();
    ASSERT_FALSE(pids.empty()) << "never saw the pitool process";
    EXPECT_THAT(cmdline, HasSubstr("rotate"));
    EXPECT_THAT(cmdline, Not(HasSubstr(k_token2)));
    EXPECT_THAT(cmdline, Not(HasSubstr(k_passphrase)));
    EXPECT_EQ(result.exit_code, 0) << "rotate proceeds once the lock is free: " << describe(result);
    EXPECT_EQ(ok({"get", "a"}).out, std::string(k_token2) + "\n");
}

} // namespace
} // namespace pitool::test
