#include "pitool/core/clock.hpp"

namespace pitool::core {

Timestamp SystemClock::now() const
{
    return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

} // namespace pitool::core
