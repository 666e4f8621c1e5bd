// Thresholds of one point, decided at the edge: limits with hysteresis (a
// Schmitt trigger: raised at the limit, cleared only past limit minus
// hysteresis), an optional delay (the condition must hold that long before
// it is raised), a boolean state that is an alarm (leak, door, fault), a
// sensor that has failed (bad quality for the delay) and a stale one (no
// fresh reading for K intervals). Pure: samples and times in, events out.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/reading.hpp"
#include "core/threshold_config.hpp"

namespace rackwatch {


// One alarm condition of a point; each is raised and cleared on its own.
enum class AlarmKind : std::uint8_t {
  low_critical,
  low_caution,
  high_caution,
  high_critical,
  state,          // a boolean point in its alarm state
  sensor_failed,  // bad quality
  stale,          // no fresh reading
};
inline constexpr std::size_t kAlarmKinds = 7;

std::string_view alarm_kind_name(AlarmKind kind);
std::string_view severity_name(Severity severity);


struct AlarmEvent {
  AlarmKind kind = AlarmKind::high_critical;
  Severity severity = Severity::critical;
  bool raised = true;  // false: cleared
  std::optional<double> value;  // the value that decided it; none when there was none (failed, stale)
  std::optional<double> limit;  // the limit crossed, or the alarm state; none for failed and stale
  TimePoint time{};
  std::string reason;  // why there is no value (sensor_failed, stale); empty otherwise
};

// "value 46, limit 45", or "no value: timeout …" when there was none: for
// logs and the event's message.
std::string alarm_detail(const AlarmEvent& e);

class PointThresholds {
 public:
  explicit PointThresholds(ThresholdConfig config) : config_(config) {}

  // A new sample of the point; returns the events it decides, in kind order.
  std::vector<AlarmEvent> update(const Sample& sample);
  // Time passing without a sample (every tick of the point's source, or a
  // timer): decides staleness and conditions whose delay ran out.
  std::vector<AlarmEvent> advance(TimePoint now, std::chrono::milliseconds interval);

  bool active(AlarmKind kind) const { return conditions_[static_cast<std::size_t>(kind)].active; }
  const ThresholdConfig& config() const { return config_; }

 private:
  // What a condition was decided on: a value, or why there was none.
  struct Evidence {
    std::optional<double> value;
    std::string reason;
  };
  struct Condition {
    bool active = false;
    std::optional<TimePoint> pending_since;  // holding, not yet for the whole delay
    Evidence evidence;                       // of the last step, for a raise when the delay runs out
  };

  // Feeds one condition's truth at `t`; appends an event when it changes.
  void step(AlarmKind kind, bool holds, bool clears, Evidence evidence, TimePoint t, std::chrono::milliseconds delay,
            std::vector<AlarmEvent>& out);
  Severity severity_of(AlarmKind kind) const;
  std::optional<double> limit_of(AlarmKind kind) const;

  ThresholdConfig config_;
  std::array<Condition, kAlarmKinds> conditions_{};
  std::optional<TimePoint> last_fresh_;
  std::optional<Sample> last_;
};

}  // namespace rackwatch
