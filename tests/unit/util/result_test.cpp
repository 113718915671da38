#include "pitool/util/result.hpp"
#include "pitool/util/secret.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace pitool {
namespace {

Result<int> half(int n)
{
    if (n % 2 != 0) return make_error(Errc::usage, "odd: " + std::to_string(n));
    return n / 2;
}

Result<int> quarter(int n)
{
    auto h = half(n);
    if (!h) return std::move(h).error();
    return half(h.value());
}

Status check_even(int n)
{
    PITOOL_TRY(half(n));
    return {};
}

Status check_both(int a, int b)
{
    PITOOL_TRY(check_even(a));
    PITOOL_TRY(check_even(b));
    return {};
}

TEST(Result, HoldsValueOrError)
{
    Result<int> ok = 21;
    ASSERT_TRUE(ok.ok());
    EXPECT_TRUE(static_cast<bool>(ok));
    EXPECT_EQ(ok.value(), 21);
    EXPECT_EQ(*ok, 21);

    Result<int> bad = make_error(Errc::conflict, "nope");
    ASSERT_FALSE(bad.ok());
    EXPECT_FALSE(static_cast<bool>(bad));
    EXPECT_EQ(bad.error().code, Errc::conflict);
    EXPECT_EQ(bad.error().message, "nope");
}

TEST(Result, ErrorsPropagateThroughChains)
{
    EXPECT_EQ(quarter(8).value(), 2);
    auto r = quarter(6); // 6 -> 3 -> odd
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::usage);
    EXPECT_EQ(r.error().message, "odd: 3");
}

TEST(Result, TryMacroReturnsFirstError)
{
    EXPECT_TRUE(check_both(2, 4).ok());
    auto st = check_both(2, 5);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().message, "odd: 5");
    auto first = check_both(1, 5);
    ASSERT_FALSE(first.ok());
    EXPECT_EQ(first.error().message, "odd: 1");
}

TEST(Result, HoldsMoveOnlyValuesAndMovesThemOut)
{
    Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
    ASSERT_TRUE(r);
    std::unique_ptr<int> p = std::move(r).value();
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(*p, 7);

    Result<Secret> s = Secret::from("hunter22");
    ASSERT_TRUE(s);
    Secret taken = std::move(s).value();
    EXPECT_TRUE(taken.equals(std::string_view("hunter22")));
}

TEST(Result, MovesErrorOut)
{
    Result<std::string> r = make_error(Errc::io, "disk full");
    Error e = std::move(r).error();
    EXPECT_EQ(e.code, Errc::io);
    EXPECT_EQ(e.message, "disk full");
}

TEST(Result, StatusDefaultsToSuccess)
{
    Status ok;
    EXPECT_TRUE(ok.ok());
    Status bad = make_error(Errc::damaged, "broken");
    EXPECT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().code, Errc::damaged);
    EXPECT_EQ(bad.error().message, "broken");
}

TEST(Result, DefaultErrorIsInternal)
{
    Error e;
    EXPECT_EQ(e.code, Errc::internal);
    EXPECT_TRUE(e.message.empty());
}

} // namespace
} // namespace pitool
