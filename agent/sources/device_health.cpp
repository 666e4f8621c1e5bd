#include "sources/device_health.hpp"

#include <algorithm>
#include <utility>

namespace rackwatch {

void DeviceHealth::answered() {
  state_ = DeviceState::ok;
  consecutive_ = 0;
  backoff_ = std::chrono::milliseconds{0};
}

bool DeviceHealth::failed(SteadyClock::time_point now, std::string why) {
  last_error_ = std::move(why);
  ++consecutive_;
  if (state_ == DeviceState::dormant) {
    // A failed probe: wait longer before the next.
    backoff_ = std::min(backoff_ * 2, policy_.reprobe_max);
    next_probe_ = now + backoff_;
    return false;
  }
  if (consecutive_ < std::max(1u, policy_.dormant_after)) {
    state_ = DeviceState::degraded;
    return false;
  }
  state_ = DeviceState::dormant;
  ++dormant_count_;
  backoff_ = std::min(policy_.reprobe_min, policy_.reprobe_max);
  next_probe_ = now + backoff_;
  return true;
}

bool DeviceHealth::due(SteadyClock::time_point now) const {
  return state_ != DeviceState::dormant || now >= next_probe_;
}

std::optional<DeviceHealth::SteadyClock::time_point> DeviceHealth::next_probe() const {
  if (state_ != DeviceState::dormant) return std::nullopt;
  return next_probe_;
}

}  // namespace rackwatch
