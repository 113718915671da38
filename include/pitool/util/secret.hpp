#pragma once
/// Secret material in memory.
///
/// `Secret` is a move-only byte buffer in libsodium guarded memory
/// (sodium_malloc: locked pages, guard pages, wiped on free). It has no
/// stream operator, no fmt formatter and no implicit conversion to a string,
/// so it cannot be printed or logged by accident. Reveal the bytes only at
/// the point of use with `view()`; never copy them into a `std::string`.
///
/// `SecureAllocator<T>` wipes memory before returning it, so standard
/// containers (and nlohmann::basic_json's strings) can hold transient secret
/// text without leaving copies behind.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <new>
#include <string>
#include <vector>
#include <string_view>

namespace pitool {

class Secret {
public:
    Secret() noexcept = default;
    /// Allocates `size` zeroed bytes in guarded memory. Throws std::bad_alloc.
    explicit Secret(std::size_t size);
    /// Copies `bytes` into guarded memory. The caller remains responsible for
    /// wiping its own copy.
    static Secret from(std::string_view bytes);

    Secret(const Secret&) = delete;
    Secret& operator=(const Secret&) = delete;
    Secret(Secret&& other) noexcept;
    Secret& operator=(Secret&& other) noexcept;
    ~Secret();

    /// An explicit deep copy (the only way to duplicate a secret).
    [[nodiscard]] Secret clone() const;

    [[nodiscard]] std::size_t size() const noexcept { return m_size; }
    [[nodiscard]] bool empty() const noexcept { return m_size == 0; }
    [[nodiscard]] unsigned char* data() noexcept { return m_data; }
    [[nodiscard]] const unsigned char* data() const noexcept { return m_data; }
    /// The bytes as text. The view dies with the Secret; do not store it.
    [[nodiscard]] std::string_view view() const noexcept { return {reinterpret_cast<const char*>(m_data), m_size}; }

    /// Shrinks the logical size (e.g. to drop a trailing newline). Bytes past
    /// the new size are wiped.
    void truncate(std::size_t new_size) noexcept;

    /// Constant-time equality (sodium_memcmp) for equal lengths.
    [[nodiscard]] bool equals(const Secret& other) const noexcept;
    [[nodiscard]] bool equals(std::string_view other) const noexcept;

private:
    unsigned char* m_data = nullptr;
    std::size_t m_size = 0;
};

/// Wipes `size` bytes at `p` in a way the compiler cannot elide.
void secure_wipe(void* p, std::size_t size) noexcept;
/// Wipes a std::string's buffer (for text that briefly held a secret).
void secure_wipe(std::string& s) noexcept;

/// An allocator that zeroes memory before freeing it.
template <typename T> struct SecureAllocator {
    using value_type = T;
    SecureAllocator() noexcept = default;
    template <typename U> SecureAllocator(const SecureAllocator<U>&) noexcept {}

    T* allocate(std::size_t n)
    {
        if (n > std::numeric_limits<std::size_t>::max() / sizeof(T)) throw std::bad_alloc();
        return static_cast<T*>(::operator new(n * sizeof(T)));
    }
    void deallocate(T* p, std::size_t n) noexcept
    {
        secure_wipe(p, n * sizeof(T));
        ::operator delete(p);
    }
    template <typename U> bool operator==(const SecureAllocator<U>&) const noexcept { return true; }
};

/// Transient secret text (e.g. a JSON document holding tokens). Wiped on free,
/// but short strings live inside the object itself: keep these on the heap
/// or wipe explicitly, and prefer `Secret` for anything that is kept.
using SecureString = std::basic_string<char, std::char_traits<char>, SecureAllocator<char>>;

/// Transient secret bytes (e.g. an encoded record before sealing). Wiped on free.
using SecureBytes = std::vector<std::uint8_t, SecureAllocator<std::uint8_t>>;

/// Wipes a SecureString's contents including the small-string buffer, then clears it.
void secure_clear(SecureString& s) noexcept;

} // namespace pitool
