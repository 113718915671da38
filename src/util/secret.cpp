#include "pitool/util/secret.hpp"

#include <sodium.h>

#include <cstring>
#include <utility>

namespace pitool {

Secret::Secret(std::size_t size)
{
    if (size == 0) return;
    m_data = static_cast<unsigned char*>(sodium_malloc(size));
    if (m_data == nullptr) throw std::bad_alloc();
    sodium_memzero(m_data, size);
    m_size = size;
}

Secret Secret::from(std::string_view bytes)
{
    Secret s(bytes.size());
    if (!bytes.empty()) std::memcpy(s.m_data, bytes.data(), bytes.size());
    return s;
}

Secret::Secret(Secret&& other) noexcept
    : m_data(std::exchange(other.m_data, nullptr)), m_size(std::exchange(other.m_size, 0))
{
}

Secret& Secret::operator=(Secret&& other) noexcept
{
    if (this != &other) {
        if (m_data != nullptr) sodium_free(m_data);
        m_data = std::exchange(other.m_data, nullptr);
        m_size = std::exchange(other.m_size, 0);
    }
    return *this;
}

Secret::~Secret()
{
    if (m_data != nullptr) sodium_free(m_data); // sodium_free wipes before unmapping
}

Secret Secret::clone() const
{
    return from(view());
}

void Secret::truncate(std::size_t new_size) noexcept
{
    if (new_size >= m_size) return;
    sodium_memzero(m_data + new_size, m_size - new_size);
    m_size = new_size;
}

bool Secret::equals(const Secret& other) const noexcept
{
    if (m_size != other.m_size) return false;
    return m_size == 0 || sodium_memcmp(m_data, other.m_data, m_size) == 0;
}

bool Secret::equals(std::string_view other) const noexcept
{
    if (m_size != other.size()) return false;
    return m_size == 0 || sodium_memcmp(m_data, other.data(), m_size) == 0;
}

void secure_wipe(void* p, std::size_t size) noexcept
{
    if (p != nullptr && size != 0) sodium_memzero(p, size);
}

void secure_wipe(std::string& s) noexcept
{
    secure_wipe(s.data(), s.capacity());
    s.clear();
}

void secure_clear(SecureString& s) noexcept
{
    secure_wipe(s.data(), s.capacity());
    s.clear();
}

} // namespace pitool
