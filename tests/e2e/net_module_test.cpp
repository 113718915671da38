// The network stack lives in pitool-net.so: the program does not link
// libcurl, offline commands never map it, network commands load it on
// demand, and a missing or broken module is a clear exit 8.

#include "e2e/e2e_support.hpp"

#include <filesystem>

namespace pitool::e2e {
namespace {

namespace fs = std::filesystem;

bool net_mentions(const std::string& text, const std::string& what)
{
    return text.find(what) != std::string::npos;
}

class NetModule : public E2E {
protected:
    void SetUp() override
    {
        E2E::SetUp();
        if (HasFatalFailure()) return;
        store_pit("crm", "LOC1", {"locations.readonly"});
    }

    /// The dynamic loader's trace of which files a run maps (LD_DEBUG=files, on stderr).
    RunResult traced(int code, const std::vector<std::string>& args)
    {
        How how;
        how.env["LD_DEBUG"] = "files";
        return pit_expect(code, args, how);
    }

    /// Runs a copy of the binary placed at `exe`, without the module beside it.
    RunResult run_copy(const fs::path& exe, const std::vector<std::string>& args)
    {
        std::vector<std::string> argv{exe.string()};
        argv.insert(argv.end(), args.begin(), args.end());
        RunOptions o;
        o.env = base_env();
        return pitool::test::run(argv, o);
    }
};

// spdlog and fmt are compiled in header-only (cmake/Logging.cmake), toml++
// too (src/cli/config.cpp): none of their shared libraries may appear in
// what the program loads.
TEST_F(NetModule, TheProgramLinksNeitherLibcurlNorSharedSpdlogOrFmt)
{
    auto r = pitool::test::run({"/usr/bin/ldd", PITOOL_BIN});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(net_mentions(r.out, "libsodium")) << r.out;
    for (const char* lib :
         {"libcurl", "libssl", "libcrypto", "gnutls", "libspdlog", "libfmt", "libtomlplusplus", "krb5", "ldap"})
        EXPECT_FALSE(net_mentions(r.out, lib)) << lib << " is linked:\n" << r.out;
}

TEST_F(NetModule, OfflineCommandsNeverMapLibcurl)
{
    for (const auto& args :
         std::vector<std::vector<std::string>>{{"list"}, {"show", "crm"}, {"audit"}, {"history"}, {"--version"}}) {
        auto r = traced(0, args);
        ASSERT_TRUE(net_mentions(r.err, "file=libsodium")) << "LD_DEBUG trace missing:\n" << r.err;
        EXPECT_FALSE(net_mentions(r.err, "libcurl")) << args[0] << " mapped libcurl:\n" << r.err;
        EXPECT_FALSE(net_mentions(r.err, "pitool-net")) << args[0] << " loaded the network module:\n" << r.err;
    }
}

TEST_F(NetModule, NetworkCommandsLoadTheModuleAndWork)
{
    auto r = traced(0, {"test-call", "crm"});
    EXPECT_TRUE(net_mentions(r.out, "HTTP 200")) << r.out;
    EXPECT_TRUE(net_mentions(r.err, "pitool-net.so")) << r.err;
    EXPECT_TRUE(net_mentions(r.err, "file=libcurl")) << r.err;
    r = pit_expect(0, {"test-call", "--all"});
    EXPECT_TRUE(net_mentions(r.out, "1 checked: 1 ok")) << r.out;
}

TEST_F(NetModule, VerboseTracingReachesTheModule)
{
    // -vv: the HTTP trace, from inside the module.
    auto r = pit_expect(0, {"-vv", "test-call", "crm"});
    EXPECT_TRUE(net_mentions(r.err, "pitool: trace: http: > GET " + sb().url() + "/locations/LOC1")) << r.err;
    EXPECT_TRUE(net_mentions(r.err, "Authorization: Bearer [redacted]")) << r.err;
    EXPECT_TRUE(net_mentions(r.err, "pitool: trace: http: < 200 from")) << r.err;
    // -v: what pitool does, without the trace.
    r = pit_expect(0, {"-v", "test-call", "crm"});
    EXPECT_TRUE(net_mentions(r.err, "pitool: debug: ")) << r.err;
    EXPECT_FALSE(net_mentions(r.err, "http: >")) << r.err;
    EXPECT_FALSE(net_mentions(r.err, "trace")) << r.err;
    r = pit_expect(0, {"test-call", "crm"});
    EXPECT_FALSE(net_mentions(r.err, "debug")) << r.err;
}

TEST_F(NetModule, MissingOrBrokenModuleIsUnavailableWithOneLine)
{
    if (fs::exists(PITOOL_NET_INSTALL_DIR "/pitool-net.so"))
        GTEST_SKIP() << "an installed module would be found: " << PITOOL_NET_INSTALL_DIR;
    const fs::path bin = dir() / "bin";
    fs::create_directories(bin);
    fs::copy_file(PITOOL_BIN, bin / "pitool");

    auto r = run_copy(bin / "pitool", {"list"});
    EXPECT_EQ(r.exit_code, 0) << r.err;

    r = run_copy(bin / "pitool", {"test-call", "crm"});
    EXPECT_EQ(r.exit_code, 8) << r.err;
    EXPECT_TRUE(net_mentions(r.err, "pitool: error: network commands need pitool's network module, not found"))
        << r.err;
    EXPECT_TRUE(net_mentions(r.err, (bin / "pitool-net.so").string())) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;

    pitool::test::write_file(bin / "pitool-net.so", "not a shared object");
    r = run_copy(bin / "pitool", {"test-call", "--all", "--json"});
    EXPECT_EQ(r.exit_code, 8) << r.err;
    EXPECT_TRUE(net_mentions(r.err, "pitool: error: cannot load the network module")) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(net_mentions(r.out, R"("kind":"unavailable")")) << r.out;
    EXPECT_TRUE(sb().requests().empty());
}

} // namespace
} // namespace pitool::e2e
