#pragma once
/// The injectable clock. Production uses SystemClock; tests use ManualClock.

#include "pitool/util/time.hpp"

namespace pitool::core {

class Clock {
public:
    virtual ~Clock() = default;
    /// The current UTC time, truncated to whole seconds.
    [[nodiscard]] virtual Timestamp now() const = 0;
};

/// Reads the system clock (so `faketime` can shift it in black-box tests).
class SystemClock final : public Clock {
public:
    [[nodiscard]] Timestamp now() const override;
};

/// A clock that only moves when told to.
class ManualClock final : public Clock {
public:
    explicit ManualClock(Timestamp t) : m_now(t) {}
    [[nodiscard]] Timestamp now() const override { return m_now; }
    void set(Timestamp t) { m_now = t; }
    void advance(Seconds s) { m_now += s; }

private:
    Timestamp m_now;
};

} // namespace pitool::core
