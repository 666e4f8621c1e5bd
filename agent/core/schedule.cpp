#include "core/schedule.hpp"

namespace rackwatch {

TimePoint next_tick(TimePoint now, std::chrono::milliseconds interval) {
  const auto since = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch());
  const auto n = since.count() / interval.count() + 1;
  return TimePoint(std::chrono::duration_cast<Clock::duration>(interval * n));
}

}  // namespace rackwatch
