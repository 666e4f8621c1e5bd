#include "pipeline/thresholds.hpp"

#include <algorithm>

namespace rackwatch {

std::string_view alarm_kind_name(AlarmKind kind) {
  switch (kind) {
    case AlarmKind::low_critical: return "low_critical";
    case AlarmKind::low_caution: return "low_caution";
    case AlarmKind::high_caution: return "high_caution";
    case AlarmKind::high_critical: return "high_critical";
    case AlarmKind::state: return "state";
    case AlarmKind::sensor_failed: return "sensor_failed";
    case AlarmKind::stale: return "stale";
  }
  return "unknown";
}

std::string_view severity_name(Severity severity) {
  return severity == Severity::critical ? "critical" : "caution";
}

Severity PointThresholds::severity_of(AlarmKind kind) const {
  switch (kind) {
    case AlarmKind::low_critical:
    case AlarmKind::high_critical: return Severity::critical;
    case AlarmKind::state: return config_.state_severity;
    default: return Severity::caution;
  }
}

double PointThresholds::limit_of(AlarmKind kind) const {
  switch (kind) {
    case AlarmKind::low_critical: return config_.low_critical.value_or(0);
    case AlarmKind::low_caution: return config_.low_caution.value_or(0);
    case AlarmKind::high_caution: return config_.high_caution.value_or(0);
    case AlarmKind::high_critical: return config_.high_critical.value_or(0);
    case AlarmKind::state: return config_.alarm_state.value_or(0);
    default: return 0;
  }
}

void PointThresholds::step(AlarmKind kind, bool holds, bool clears, double value, double limit, TimePoint t,
                           std::chrono::milliseconds delay, std::vector<AlarmEvent>& out) {
  auto& c = conditions_[static_cast<std::size_t>(kind)];
  c.value = value;
  if (!c.active) {
    if (!holds) {
      c.pending_since.reset();  // it must hold for the whole delay, without a break
      return;
    }
    if (!c.pending_since) c.pending_since = t;
    if (t - *c.pending_since < delay) return;
    c.active = true;
    c.pending_since.reset();
    out.push_back({kind, severity_of(kind), true, value, limit, t});
    return;
  }
  if (clears) {
    c.active = false;
    out.push_back({kind, severity_of(kind), false, value, limit, t});
  }
}

std::vector<AlarmEvent> PointThresholds::update(const Sample& sample) {
  std::vector<AlarmEvent> out;
  const auto t = sample.time;
  const auto& cfg = config_;
  const bool good = sample.quality != Quality::bad;
  if (cfg.sensor_failed) {
    step(AlarmKind::sensor_failed, !good, good, 0, 0, t, cfg.failed_delay, out);
  }
  if (good) {
    last_fresh_ = t;
    if (conditions_[static_cast<std::size_t>(AlarmKind::stale)].active) {
      step(AlarmKind::stale, false, true, 0, 0, t, {}, out);
    }
    const double v = sample.value;
    const double h = cfg.hysteresis;
    // Limits: raised at the limit, cleared only past it by the hysteresis.
    if (cfg.low_critical) step(AlarmKind::low_critical, v <= *cfg.low_critical, v > *cfg.low_critical + h, v, *cfg.low_critical, t, cfg.delay, out);
    if (cfg.low_caution) step(AlarmKind::low_caution, v <= *cfg.low_caution, v > *cfg.low_caution + h, v, *cfg.low_caution, t, cfg.delay, out);
    if (cfg.high_caution) step(AlarmKind::high_caution, v >= *cfg.high_caution, v < *cfg.high_caution - h, v, *cfg.high_caution, t, cfg.delay, out);
    if (cfg.high_critical) step(AlarmKind::high_critical, v >= *cfg.high_critical, v < *cfg.high_critical - h, v, *cfg.high_critical, t, cfg.delay, out);
    if (cfg.alarm_state) {
      const bool on = v == *cfg.alarm_state;
      step(AlarmKind::state, on, !on, v, *cfg.alarm_state, t, cfg.delay, out);
    }
  }
  last_ = sample;
  // Events in kind order, whatever order the steps ran in.
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.kind < b.kind; });
  return out;
}

std::vector<AlarmEvent> PointThresholds::advance(TimePoint now, std::chrono::milliseconds interval) {
  std::vector<AlarmEvent> out;
  // A pending condition whose delay ran out with no new sample is raised
  // now, on the evidence of the last one.
  if (last_) {
    for (std::size_t k = 0; k < kAlarmKinds; ++k) {
      auto& c = conditions_[k];
      const auto kind = static_cast<AlarmKind>(k);
      if (c.active || !c.pending_since || kind == AlarmKind::stale) continue;
      const auto delay = kind == AlarmKind::sensor_failed ? config_.failed_delay : config_.delay;
      if (now - *c.pending_since >= delay) step(kind, true, false, c.value, limit_of(kind), now, delay, out);
    }
  }
  if (config_.stale_after > 0) {
    const auto since = last_fresh_.value_or(TimePoint{});
    const bool stale = last_fresh_ && now - since >= config_.stale_after * interval;
    step(AlarmKind::stale, stale, false, 0, 0, now, {}, out);
  }
  return out;
}

}  // namespace rackwatch
