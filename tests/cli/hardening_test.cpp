// Process hardening through the binary: core dumps are off before any secret
// is read, and what pitool sets is inherited by an exec child, which can show it.
#include "cli_fixture.hpp"

#include <sys/resource.h>

#include <sstream>

namespace pitool::test {
namespace {

class Hardening : public CliTest {};

TEST_F(Hardening, CoreDumpsAreDisabled)
{
    // Give pitool a parent that allows core dumps, so a 0 can only come from pitool.
    rlimit before{};
    ASSERT_EQ(::getrlimit(RLIMIT_CORE, &before), 0);
    if (before.rlim_max == 0) GTEST_SKIP() << "the hard core limit is already 0 here; nothing to prove";
    rlimit allow{before.rlim_max, before.rlim_max};
    ASSERT_EQ(::setrlimit(RLIMIT_CORE, &allow), 0);

    init_vault();
    create_pit("acme", k_token);
    auto r = pitool({"exec", "acme", "--", "/bin/cat", "/proc/self/limits"});
    ::setrlimit(RLIMIT_CORE, &before);
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    std::istringstream lines(r.out);
    std::string line;
    bool seen = false;
    while (std::getline(lines, line)) {
        if (line.rfind("Max core file size", 0) != 0) continue;
        seen = true;
        std::istringstream fields(line.substr(std::string("Max core file size").size()));
        std::string soft, hard;
        fields >> soft >> hard;
        EXPECT_EQ(soft, "0") << line;
        EXPECT_EQ(hard, "0") << line;
    }
    EXPECT_TRUE(seen) << r.out;
}

} // namespace
} // namespace pitool::test
