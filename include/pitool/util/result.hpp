#pragma once
/// Errors as values at layer boundaries.
///
/// Every fallible function of the core library returns `Result<T>`: either a
/// value or an `Error` with a category (`Errc`) and a one-line, secret-free
/// message. Exceptions are kept for broken invariants only. The CLI maps an
/// `Errc` to a stable exit code (see pitool/exit_codes.hpp).

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace pitool {

/// Error categories. Each maps to exactly one documented exit code.
enum class Errc {
    internal,         ///< a bug or an unexpected system failure (exit 1)
    usage,            ///< invalid input from the user (exit 2)
    not_found,        ///< integration or vault does not exist (exit 3)
    conflict,         ///< state conflict: name exists, no open window... (exit 4)
    wrong_passphrase, ///< the passphrase does not open the vault (exit 5)
    damaged,          ///< vault damaged, not a vault, or unsupported (exit 6)
    rejected,         ///< the provider rejected a credential or code (exit 7)
    unavailable,      ///< network or provider unavailable (exit 8)
    findings,         ///< audit found due or expired tokens (exit 9)
    io,               ///< local I/O: permissions, lock timeout, disk (exit 10)
};

/// A failure: category plus a one-line human message. The message must never
/// contain secret material; build it from names, paths and fingerprints only.
struct Error {
    Errc code = Errc::internal;
    std::string message;
};

/// Shorthand to build an error value.
[[nodiscard]] inline Error make_error(Errc code, std::string message)
{
    return Error{code, std::move(message)};
}

/// Either a `T` or an `Error`. Check with `ok()` / `operator bool` before
/// calling `value()`; calling `value()` on an error is a broken invariant.
template <typename T> class [[nodiscard]] Result {
public:
    Result(T value) : m_v(std::in_place_index<0>, std::move(value)) {}
    Result(Error error) : m_v(std::in_place_index<1>, std::move(error)) {}

    [[nodiscard]] bool ok() const noexcept { return m_v.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }

    [[nodiscard]] T& value() &
    {
        assert(ok());
        return std::get<0>(m_v);
    }
    [[nodiscard]] const T& value() const&
    {
        assert(ok());
        return std::get<0>(m_v);
    }
    [[nodiscard]] T&& value() &&
    {
        assert(ok());
        return std::get<0>(std::move(m_v));
    }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }

    [[nodiscard]] const Error& error() const&
    {
        assert(!ok());
        return std::get<1>(m_v);
    }
    [[nodiscard]] Error&& error() &&
    {
        assert(!ok());
        return std::get<1>(std::move(m_v));
    }

private:
    std::variant<T, Error> m_v;
};

/// A result that carries no value.
template <> class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : m_error(std::move(error)), m_failed(true) {}

    [[nodiscard]] bool ok() const noexcept { return !m_failed; }
    explicit operator bool() const noexcept { return ok(); }
    [[nodiscard]] const Error& error() const&
    {
        assert(m_failed);
        return m_error;
    }
    [[nodiscard]] Error&& error() &&
    {
        assert(m_failed);
        return std::move(m_error);
    }

private:
    Error m_error;
    bool m_failed = false;
};

using Status = Result<void>;

} // namespace pitool

#define PITOOL_TRY_CAT_(a, b) a##b
#define PITOOL_TRY_NAME_(n) PITOOL_TRY_CAT_(pitool_try_r_, n)
#define PITOOL_TRY_(tmp, expr)                                                                                         \
    do {                                                                                                               \
        auto tmp = (expr);                                                                                             \
        if (!tmp.ok()) return std::move(tmp).error();                                                                  \
    } while (0)

/// Propagate an error from an expression yielding a Result. The temporary is
/// named by __COUNTER__: a PITOOL_TRY inside a lambda passed to another does
/// not shadow the outer one's.
#define PITOOL_TRY(expr) PITOOL_TRY_(PITOOL_TRY_NAME_(__COUNTER__), expr)
#define PITOOL_TRY_ASSIGN_(tmp, lhs, expr)                                                                             \
    auto tmp = (expr);                                                                                                 \
    if (!tmp.ok()) return std::move(tmp).error();                                                                      \
    lhs = std::move(tmp).value()

/// Evaluates `expr` (a Result<T>); on failure returns its error from the
/// enclosing function, else moves the value into `lhs`: a declaration
/// (`PITOOL_TRY_ASSIGN(auto v, open())`) or an existing variable. Expands
/// to several statements: not the body of an unbraced if. The temporary is
/// named by __COUNTER__, not __LINE__: two uses inside one macro argument
/// (a lambda passed to PITOOL_TRY) share a line number.
#define PITOOL_TRY_ASSIGN(lhs, expr) PITOOL_TRY_ASSIGN_(PITOOL_TRY_NAME_(__COUNTER__), lhs, expr)
