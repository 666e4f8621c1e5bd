#include "diag/slot_pressure.hpp"

namespace rackwatch::diag {

bool SlotPressure::note(Clock::time_point now, std::uint64_t& count) {
  const bool starts = !active_;
  if (starts) {
    active_ = true;
    first_ = now;
  }
  last_ = now;
  ++count;
  return starts;
}

std::optional<SlotPressure::Clock::time_point> SlotPressure::calm_at() const {
  if (!active_) return std::nullopt;
  return last_ + calm_;
}

std::optional<SlotPressure::Episode> SlotPressure::end_if_calm(Clock::time_point now) {
  if (!active_ || now < last_ + calm_) return std::nullopt;
  Episode over = episode_;
  over.lasted = last_ - first_;
  active_ = false;
  episode_ = {};
  return over;
}

}  // namespace rackwatch::diag
