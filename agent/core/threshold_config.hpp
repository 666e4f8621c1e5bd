// A point's alarm limits as configured (see pipeline/thresholds.hpp for how
// they are decided).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace rackwatch {

enum class Severity : std::uint8_t { caution = 1, critical = 2 };

struct ThresholdConfig {
  std::optional<double> low_critical;
  std::optional<double> low_caution;
  std::optional<double> high_caution;
  std::optional<double> high_critical;
  double hysteresis = 0;  // in the point's unit, >= 0
  std::chrono::milliseconds delay{0};
  // Boolean points: the value that means alarm (1 for a leak), and how bad.
  std::optional<double> alarm_state;
  Severity state_severity = Severity::critical;
  // A bad quality lasting `failed_delay` raises sensor_failed (caution).
  bool sensor_failed = true;
  std::chrono::milliseconds failed_delay{0};
  // No fresh reading for stale_after × interval raises stale (caution); 0: off.
  unsigned stale_after = 0;

  bool any() const {
    return low_critical || low_caution || high_caution || high_critical || alarm_state || sensor_failed ||
           stale_after > 0;
  }
  friend bool operator==(const ThresholdConfig&, const ThresholdConfig&) = default;
};

}  // namespace rackwatch
