#include "pitool/util/secret.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <type_traits>
#include <vector>

namespace pitool {
namespace {

static_assert(!std::is_copy_constructible_v<Secret>, "Secret must not be copyable");
static_assert(!std::is_copy_assignable_v<Secret>, "Secret must not be copyable");
static_assert(std::is_nothrow_move_constructible_v<Secret>);
static_assert(std::is_nothrow_move_assignable_v<Secret>);
static_assert(!std::is_convertible_v<Secret, std::string>);
static_assert(!std::is_convertible_v<Secret, std::string_view>);

TEST(Secret, DefaultIsEmpty)
{
    Secret s;
    EXPECT_TRUE(s.empty());
    EXPECT_EQ(s.size(), 0u);
    EXPECT_EQ(s.data(), nullptr);
    EXPECT_TRUE(s.view().empty());
}

TEST(Secret, SizedConstructorZeroes)
{
    Secret s(32);
    ASSERT_EQ(s.size(), 32u);
    ASSERT_NE(s.data(), nullptr);
    for (std::size_t i = 0; i < s.size(); ++i) EXPECT_EQ(s.data()[i], 0) << i;
}

TEST(Secret, FromCopiesBytesIncludingNul)
{
    std::string src("ab\0cd", 5);
    Secret s = Secret::from(src);
    EXPECT_EQ(s.size(), 5u);
    EXPECT_EQ(s.view(), src);
    src[0] = 'X'; // the Secret owns its own copy
    EXPECT_EQ(s.view()[0], 'a');
}

TEST(Secret, MoveConstructionEmptiesSource)
{
    Secret a = Secret::from("pit-0123456789");
    const unsigned char* where = a.data();
    Secret b(std::move(a));
    EXPECT_EQ(b.view(), "pit-0123456789");
    EXPECT_EQ(b.data(), where); // the buffer moves, it is not copied
    EXPECT_TRUE(a.empty());     // NOLINT(bugprone-use-after-move): moved-from state is specified
    EXPECT_EQ(a.data(), nullptr);
}

TEST(Secret, MoveAssignmentReplacesAndEmptiesSource)
{
    Secret a = Secret::from("first-secret");
    Secret b = Secret::from("second");
    b = std::move(a);
    EXPECT_EQ(b.view(), "first-secret");
    EXPECT_TRUE(a.empty()); // NOLINT(bugprone-use-after-move)

    Secret& alias = b;
    b = std::move(alias); // self-move keeps the value
    EXPECT_EQ(b.view(), "first-secret");
}

TEST(Secret, CloneIsDeepAndIndependent)
{
    Secret a = Secret::from("token-value-1");
    Secret c = a.clone();
    EXPECT_TRUE(c.equals(a));
    EXPECT_NE(c.data(), a.data());
    c.data()[0] = 'X';
    EXPECT_EQ(a.view(), "token-value-1");
    EXPECT_FALSE(c.equals(a));

    Secret empty;
    EXPECT_TRUE(empty.clone().empty());
}

TEST(Secret, TruncateWipesTheTail)
{
    Secret s = Secret::from("secret\n\n");
    unsigned char* base = s.data();
    s.truncate(6);
    EXPECT_EQ(s.size(), 6u);
    EXPECT_EQ(s.view(), "secret");
    // The buffer is still ours (guarded allocation of the original size).
    EXPECT_EQ(base[6], 0);
    EXPECT_EQ(base[7], 0);
}

TEST(Secret, TruncateNeverGrows)
{
    Secret s = Secret::from("abc");
    s.truncate(10);
    EXPECT_EQ(s.view(), "abc");
    s.truncate(3);
    EXPECT_EQ(s.view(), "abc");
    s.truncate(0);
    EXPECT_TRUE(s.empty());
}

TEST(Secret, EqualsComparesLengthAndBytes)
{
    Secret a = Secret::from("abcdef");
    EXPECT_TRUE(a.equals(Secret::from("abcdef")));
    EXPECT_TRUE(a.equals(std::string_view("abcdef")));
    EXPECT_FALSE(a.equals(Secret::from("abcdeg")));
    EXPECT_FALSE(a.equals(Secret::from("bbcdef")));
    EXPECT_FALSE(a.equals(Secret::from("abcde")));   // prefix
    EXPECT_FALSE(a.equals(Secret::from("abcdefg"))); // extension
    EXPECT_FALSE(a.equals(std::string_view("abcdeF")));
    EXPECT_FALSE(a.equals(Secret()));
    EXPECT_TRUE(Secret().equals(Secret()));
    EXPECT_TRUE(Secret().equals(std::string_view()));
    EXPECT_FALSE(Secret().equals(std::string_view("x")));
}

TEST(SecureWipe, ZeroesRawMemory)
{
    unsigned char buf[16];
    for (auto& b : buf) b = 0xAB;
    secure_wipe(buf, sizeof buf);
    for (auto b : buf) EXPECT_EQ(b, 0);
    secure_wipe(nullptr, 10); // tolerated
}

TEST(SecureWipe, StringIsClearedAndItsBufferZeroed)
{
    std::string s(100, 'k');
    const char* p = s.data();
    std::size_t cap = s.capacity();
    secure_wipe(s);
    EXPECT_TRUE(s.empty());
    ASSERT_EQ(s.data(), p); // clear() keeps the allocation, so we can look at it
    for (std::size_t i = 0; i < cap; ++i) ASSERT_EQ(p[i], '\0') << i;
}

TEST(SecureWipe, SecureClearWipesSmallStringBuffer)
{
    SecureString s("short"); // fits the small-string buffer inside the object
    const char* p = s.data();
    std::size_t cap = s.capacity();
    secure_clear(s);
    EXPECT_TRUE(s.empty());
    ASSERT_EQ(s.data(), p);
    for (std::size_t i = 0; i < cap; ++i) ASSERT_EQ(p[i], '\0') << i;
}

TEST(SecureAllocator, WorksWithStandardContainers)
{
    std::vector<int, SecureAllocator<int>> v;
    for (int i = 0; i < 1000; ++i) v.push_back(i);
    EXPECT_EQ(v[999], 999);

    SecureString big(5000, 'z');
    big += "tail";
    EXPECT_EQ(big.size(), 5004u);
    EXPECT_EQ(big.substr(5000), "tail");

    std::map<int, int, std::less<>, SecureAllocator<std::pair<const int, int>>> m;
    m[1] = 2;
    EXPECT_EQ(m.at(1), 2);
}

TEST(SecureAllocator, AllInstancesCompareEqualAndRebind)
{
    SecureAllocator<char> a;
    SecureAllocator<int> b(a);
    EXPECT_TRUE(a == b);
    EXPECT_FALSE(a != b);
}

TEST(SecureAllocator, RefusesOverflowingSizes)
{
    SecureAllocator<std::uint64_t> a;
    EXPECT_THROW((void)a.allocate(std::numeric_limits<std::size_t>::max() / 4), std::bad_alloc);
}

TEST(SecureAllocator, AllocateDeallocateRoundTrip)
{
    SecureAllocator<std::uint32_t> a;
    std::uint32_t* p = a.allocate(64);
    ASSERT_NE(p, nullptr);
    for (std::uint32_t i = 0; i < 64; ++i) p[i] = i * 3u;
    EXPECT_EQ(p[63], 189u);
    a.deallocate(p, 64); // wipes (see secure_wipe tests) then frees; ASan checks the sizes
}

} // namespace
} // namespace pitool
