// DeviceHealth: whether a device answers, for any protocol, in the manner
// of rack daemons that must not wait on the dead. After N consecutive failures (no answer, broken
// or corrupt frames: the device or the line is gone) the device goes dormant
// and is only re-probed after a back-off that doubles up to a cap; an answer
// of any kind, an exception too, proves it alive and resumes normal polling.
// Pure: the caller passes the time.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "sources/device_state.hpp"

namespace rackwatch {

struct HealthPolicy {
  unsigned dormant_after = 3;  // consecutive failures
  std::chrono::milliseconds reprobe_min{10'000};
  std::chrono::milliseconds reprobe_max{300'000};
};

class DeviceHealth {
 public:
  using SteadyClock = std::chrono::steady_clock;

  explicit DeviceHealth(HealthPolicy policy = {}) : policy_(policy) {}

  // The device answered (a value or an exception).
  void answered();
  // The device failed to answer properly; returns true when this failure
  // made it dormant.
  bool failed(SteadyClock::time_point now, std::string why);

  // Whether to poll now: always unless dormant, and then only once the next
  // probe is due (that poll is the probe).
  bool due(SteadyClock::time_point now) const;

  DeviceState state() const { return state_; }
  unsigned consecutive_failures() const { return consecutive_; }
  std::uint64_t dormant_count() const { return dormant_count_; }  // times it went dormant
  const std::string& last_error() const { return last_error_; }
  // Dormant only: when the next probe is.
  std::optional<SteadyClock::time_point> next_probe() const;
  std::chrono::milliseconds backoff() const { return backoff_; }

 private:
  HealthPolicy policy_;
  DeviceState state_ = DeviceState::ok;
  unsigned consecutive_ = 0;
  std::uint64_t dormant_count_ = 0;
  std::chrono::milliseconds backoff_{0};
  SteadyClock::time_point next_probe_{};
  std::string last_error_;
};

}  // namespace rackwatch
