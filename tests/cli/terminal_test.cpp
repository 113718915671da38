// The passphrase prompt on a real terminal (a pseudo-terminal this test
// owns, made pitool's controlling terminal): three tries for a typed
// passphrase, a wrong one says where it came from, init asks again when the
// two entries differ or the passphrase is short, and a ^C at the prompt
// leaves the terminal's echo on (a parent such as dash does not restore it).
#include "cli/cli_fixture.hpp"
#include "support/process.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <csignal>

namespace pitool::test {
namespace {

using ::testing::HasSubstr;

/// pitool running on a pseudo-terminal: its stdin and /dev/tty are the pty,
/// stdout and stderr go to files.
class OnTerminal {
public:
    OnTerminal(const std::filesystem::path& dir, const std::vector<std::string>& args,
               const std::map<std::string, std::string>& env)
        : m_out(dir / "tty.out"), m_err(dir / "tty.err")
    {
        m_master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (m_master < 0 || ::grantpt(m_master) != 0 || ::unlockpt(m_master) != 0)
            throw std::runtime_error("no pseudo-terminal");
        const int slave = ::open(::ptsname(m_master), O_RDWR | O_NOCTTY | O_CLOEXEC);
        const int out = ::open(m_out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        const int err = ::open(m_err.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        Child::Spec spec;
        spec.argv = {PITOOL_BIN};
        spec.argv.insert(spec.argv.end(), args.begin(), args.end());
        spec.env = env;
        spec.stdio = {slave, out, err};
        // After setsid(): the pty (now fd 0) becomes the controlling terminal,
        // with pitool's group in the foreground (so ^C signals it).
        spec.in_child = [] { ::ioctl(0, TIOCSCTTY, 0); };
        m_child = Child::start(spec);
        ::close(slave);
        ::close(out);
        ::close(err);
    }
    ~OnTerminal()
    {
        if (m_master >= 0) ::close(m_master);
    }
    OnTerminal(const OnTerminal&) = delete;
    OnTerminal& operator=(const OnTerminal&) = delete;

    /// Reads what pitool wrote to the terminal until it holds `text` (counted
    /// from the start) or 20 s pass. True when it was seen.
    bool wait_for(const std::string& text, int occurrences = 1)
    {
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (count(text) < occurrences) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
            if (left.count() <= 0) return false;
            pollfd p{m_master, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
            char buf[512];
            const ssize_t n = ::read(m_master, buf, sizeof buf);
            if (n <= 0) return count(text) >= occurrences; // the slave side closed
            m_seen.append(buf, static_cast<std::size_t>(n));
        }
        return true;
    }
    void type(const std::string& keys) const
    {
        ASSERT_EQ(::write(m_master, keys.data(), keys.size()), static_cast<ssize_t>(keys.size()));
    }
    int exit_code() { return exit_code_of(m_child.wait()); }
    /// The terminal's local flags as pitool left them.
    tcflag_t local_flags() const
    {
        termios t{};
        ::tcgetattr(m_master, &t);
        return t.c_lflag;
    }
    [[nodiscard]] std::string err() const { return read_file(m_err); }
    [[nodiscard]] std::string out() const { return read_file(m_out); }
    [[nodiscard]] const std::string& seen() const { return m_seen; }

private:
    int count(const std::string& text) const
    {
        int n = 0;
        for (auto at = m_seen.find(text); at != std::string::npos; at = m_seen.find(text, at + text.size())) ++n;
        return n;
    }
    std::filesystem::path m_out, m_err;
    int m_master = -1;
    Child m_child;
    std::string m_seen;
};

class Terminal : public CliTest {
protected:
    /// The fixture's environment without a passphrase: pitool must ask.
    std::map<std::string, std::string> env() const
    {
        return child_env(m_tmp.path(), {{"PITOOL_VAULT", m_vault.string()}, {"PITOOL_NO_AGENT", "1"}});
    }
};

TEST_F(Terminal, ATypedPassphraseGetsThreeTriesAndAWrongOneSaysWhereItCameFrom)
{
    init_vault();
    create_pit("a", k_token);
    {
        OnTerminal t(m_tmp.path(), {"list"}, env());
        ASSERT_TRUE(t.wait_for("Vault passphrase: ")) << t.seen();
        t.type("not-the-passphrase-1\n");
        ASSERT_TRUE(t.wait_for("Vault passphrase: ", 2)) << t.seen();
        t.type(std::string(k_passphrase) + "\n");
        EXPECT_EQ(t.exit_code(), 0) << t.err();
        EXPECT_THAT(t.out(), HasSubstr("a "));
        EXPECT_EQ(t.err(), "pitool: warning: wrong passphrase: try again\n");
        EXPECT_THAT(t.seen(), testing::Not(HasSubstr(std::string(k_passphrase)))) << "the passphrase was echoed";
    }
    OnTerminal t(m_tmp.path(), {"list"}, env());
    for (int i = 1; i <= 3; ++i) {
        ASSERT_TRUE(t.wait_for("Vault passphrase: ", i)) << t.seen();
        t.type("not-the-passphrase-" + std::to_string(i) + "\n");
    }
    EXPECT_EQ(t.exit_code(), 5);
    EXPECT_THAT(t.err(), HasSubstr("pitool: error: wrong passphrase (from the terminal, three tries)\n"));

    auto from_env = pitool({"list"}, {.env = {{"PITOOL_PASSPHRASE", "not-the-passphrase"}}});
    EXPECT_EQ(from_env.exit_code, 5);
    EXPECT_EQ(from_env.err, "pitool: error: wrong passphrase (from $PITOOL_PASSPHRASE)\n");
}

TEST_F(Terminal, InitAsksAgainWhenEntriesDifferOrAreShort)
{
    std::filesystem::remove_all(m_dir);
    OnTerminal t(m_tmp.path(), {"init", "--kdf", "interactive"}, env());
    ASSERT_TRUE(t.wait_for("New vault passphrase: ")) << t.seen();
    t.type("short\n");
    ASSERT_TRUE(t.wait_for("New vault passphrase: ", 2)) << t.seen();
    t.type("a-long-enough-passphrase\n");
    ASSERT_TRUE(t.wait_for("Repeat the passphrase: ")) << t.seen();
    t.type("a-long-enough-passphrasX\n");
    ASSERT_TRUE(t.wait_for("New vault passphrase: ", 3)) << t.seen();
    t.type("a-long-enough-passphrase\n");
    ASSERT_TRUE(t.wait_for("Repeat the passphrase: ", 2)) << t.seen();
    t.type("a-long-enough-passphrase\n");
    EXPECT_EQ(t.exit_code(), 0) << t.err();
    EXPECT_THAT(t.err(), HasSubstr("a passphrase needs at least 12 characters: try again"));
    EXPECT_THAT(t.err(), HasSubstr("the passphrases do not match: try again"));
    EXPECT_EQ(pitool({"list"}, {.env = {{"PITOOL_PASSPHRASE", "a-long-enough-passphrase"}}}).exit_code, 0);

    // A short one from a variable is taken, with a warning.
    std::filesystem::remove_all(m_dir);
    auto r = pitool({"init", "--kdf", "interactive"}, {.env = {{"PITOOL_PASSPHRASE", "shortpass"}}});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("shorter than 12 characters"));
}

TEST_F(Terminal, AnIdentityAsksForItsOwnPassphrase)
{
    OnTerminal made(m_tmp.path(), {"identity", "new", "--kdf", "interactive"}, env());
    ASSERT_TRUE(made.wait_for("New identity passphrase: ")) << made.seen();
    made.type("an-identity-passphrase\n");
    ASSERT_TRUE(made.wait_for("Repeat the passphrase: ")) << made.seen();
    made.type("an-identity-passphrase\n");
    EXPECT_EQ(made.exit_code(), 0) << made.err();
    EXPECT_THAT(made.out(), testing::StartsWith("pitool-recipient1-"));

    OnTerminal t(m_tmp.path(), {"identity", "show", "--check"}, env());
    ASSERT_TRUE(t.wait_for("Identity passphrase: ")) << t.seen();
    t.type("not-the-passphrase-1\n");
    ASSERT_TRUE(t.wait_for("Identity passphrase: ", 2)) << t.seen();
    t.type("an-identity-passphrase\n");
    EXPECT_EQ(t.exit_code(), 0) << t.err();
    EXPECT_EQ(t.out(), made.out());
    EXPECT_EQ(t.err(), "pitool: warning: wrong passphrase: try again\n");
    EXPECT_THAT(t.seen(), testing::Not(HasSubstr("an-identity-passphrase"))) << "the passphrase was echoed";

    OnTerminal wrong(m_tmp.path(), {"identity", "show", "--check"}, env());
    for (int i = 1; i <= 3; ++i) {
        ASSERT_TRUE(wrong.wait_for("Identity passphrase: ", i)) << wrong.seen();
        wrong.type("not-the-passphrase-" + std::to_string(i) + "\n");
    }
    EXPECT_EQ(wrong.exit_code(), 5);
    EXPECT_THAT(wrong.err(), HasSubstr("(passphrase from the terminal, three tries)\n"));
}

TEST_F(Terminal, InterruptAtThePromptLeavesEchoOn)
{
    init_vault();
    OnTerminal t(m_tmp.path(), {"list"}, env());
    ASSERT_TRUE(t.wait_for("Vault passphrase: ")) << t.seen();
    ASSERT_EQ(t.local_flags() & ECHO, 0u) << "echo is not off while asking";
    t.type("\x03"); // ^C: SIGINT to pitool, the terminal's foreground group
    EXPECT_EQ(t.exit_code(), 128 + SIGINT);
    EXPECT_NE(t.local_flags() & ECHO, 0u) << "pitool died with the terminal's echo off";
}

/// The provider's UI steps before create's and rotate's token prompt: on
/// the terminal only, on stderr, written before the prompt appears.
class TokenSteps : public Terminal {
protected:
    /// With the passphrase in the environment: only the token is asked.
    std::map<std::string, std::string> env_with_passphrase() const
    {
        auto e = env();
        e["PITOOL_PASSPHRASE"] = std::string(k_passphrase);
        return e;
    }

    /// Runs `args` on the terminal, types `token` at `prompt`; returns stderr
    /// as it was when the prompt appeared, and checks the token was not echoed.
    std::string steps_before_prompt(const std::vector<std::string>& args, const std::string& prompt,
                                    std::string_view token)
    {
        OnTerminal t(m_tmp.path(), args, env_with_passphrase());
        EXPECT_TRUE(t.wait_for(prompt)) << t.seen();
        const std::string before = t.err();
        t.type(std::string(token) + "\n");
        EXPECT_EQ(t.exit_code(), 0) << t.err();
        EXPECT_THAT(t.seen(), testing::Not(HasSubstr(std::string(token)))) << "the token was echoed";
        EXPECT_THAT(t.err(), testing::Not(HasSubstr(std::string(token))));
        return before;
    }
};

TEST_F(TokenSteps, CreateAndRotateOfALeadConnectorPitWalkThroughThePrivateIntegrationsPage)
{
    init_vault();
    const std::string create = steps_before_prompt({"create", "acme-loc", "--provider", "leadconnector", "--location",
                                                    "LOC1", "--scope", "contacts.readonly,contacts.write"},
                                                   "Token for acme-loc: ", k_token);
    EXPECT_EQ(create, "In LeadConnector (HighLevel), create a Private Integration:\n"
                      "  1. Open Settings > Private Integrations in the sub-account's settings (location LOC1).\n"
                      "  2. Click \"Create new Integration\".\n"
                      "  3. Name it (e.g. \"acme-loc\") and describe what it is for.\n"
                      "  4. Select these scopes, and only these: contacts.readonly contacts.write\n"
                      "  5. Copy the token: it is shown once and cannot be shown again.\n"
                      "  6. Paste it at the prompt below (the input is hidden).\n"
                      "\n");

    const std::string rotate = steps_before_prompt({"rotate", "acme-loc"}, "New token for acme-loc: ", k_token2);
    EXPECT_THAT(rotate, HasSubstr("Open Settings > Private Integrations and click the integration."));
    EXPECT_THAT(rotate, HasSubstr("Click \"Rotate and expire this token later\", then \"Continue\" at the warning."));
    EXPECT_THAT(rotate, HasSubstr("Old and new both work for 7 days."));
    EXPECT_EQ(ok({"get", "acme-loc"}).out, std::string(k_token2) + "\n");
}

TEST_F(TokenSteps, CreateOfHintKeysSaysWhatHintsDocumentationSaysAndNoMore)
{
    init_vault();
    const std::string practice =
        steps_before_prompt({"create", "joes", "--provider", "hint", "--kind", "practice-key", "--practice", "pra-123"},
                            "Token for joes: ", "practice-key-SECRET-9f3a21");
    EXPECT_EQ(practice, "Hint: a practice API key of practice pra-123.\n"
                        "  1. A practice that connects with InstantOn gives you a code: "
                        "`pitool exchange-code --provider hint` stores its key, nothing to paste.\n"
                        "  2. A key you already hold: Paste it at the prompt below (the input is hidden).\n"
                        "\n");
    const std::string partner =
        steps_before_prompt({"create", "acme", "--provider", "hint"}, "Token for acme: ", "partner-key-SECRET-77c0d4");
    EXPECT_THAT(partner, HasSubstr("Hint: your partner API key"));
    const std::string rotate =
        steps_before_prompt({"rotate", "joes", "--now"}, "New token for joes: ", "practice-key-SECRET-0b2e5c");
    EXPECT_THAT(rotate, HasSubstr("Create a new practice API key in Hint."));
    EXPECT_THAT(rotate, HasSubstr("Delete the old key in Hint."));
}

TEST_F(TokenSteps, NoStepsForAPipeQuietJsonOrATokenFile)
{
    init_vault();
    // A pipe (CI): the token on stdin, nothing but the result.
    auto piped = ok({"create", "a", "--provider", "leadconnector", "--location", "LOC1", "--token-stdin"},
                    {.stdin_data = std::string(k_token)});
    EXPECT_EQ(piped.err, "");
    // On the terminal with -q or --json: the prompt, no steps.
    for (const char* flag : {"-q", "--json"}) {
        OnTerminal t(m_tmp.path(), {flag, "rotate", "a"}, env_with_passphrase());
        ASSERT_TRUE(t.wait_for("New token for a: ")) << t.seen();
        EXPECT_EQ(t.err(), "") << flag;
        t.type(std::string(flag) == "-q" ? std::string(k_token2) + "\n" : "pit-c0ffee00-fade-4bad-8a55-5ecdeadbeef3\n");
        EXPECT_EQ(t.exit_code(), 0) << t.err();
        EXPECT_THAT(t.err(), testing::Not(HasSubstr("Private Integrations"))) << flag;
        ok({"expire-old", "a"});
    }
    // On the terminal with --token-file: nothing to paste, so no steps.
    const auto token_file = m_tmp.path() / "new-token";
    write_file(token_file, "pit-c0ffee00-fade-4bad-8a55-5ecdeadbeef4\n");
    OnTerminal from_file(m_tmp.path(), {"rotate", "a", "--token-file", token_file.string()}, env_with_passphrase());
    EXPECT_EQ(from_file.exit_code(), 0) << from_file.err();
    EXPECT_THAT(from_file.seen(), testing::Not(HasSubstr("Private Integrations")));
    EXPECT_THAT(from_file.err(), testing::Not(HasSubstr("Private Integrations")));
}

} // namespace
} // namespace pitool::test
