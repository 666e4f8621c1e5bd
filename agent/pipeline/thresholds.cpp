#include "pipeline/thresholds.hpp"

#include <algorithm>
#include <sstream>

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

std::string alarm_detail(const AlarmEvent& e) {
  std::ostringstream out;
  if (e.value) {
    out << "value " << *e.value;
  } else {
    out << "no value";
  }
  if (e.limit) out << ", limit " << *e.limit;
  if (!e.reason.empty()) out << ": " << e.reason;
  return out.str();
}

Severity PointThresholds::severity_of(AlarmKind kind) const {
  switch (kind) {
    case AlarmKind::low_critical:
    case AlarmKind::high_critical: return Severity::critical;
    case AlarmKind::state: return config_.state_severity;
    default: return Severity::caution;
  }
}

std::optional<double> PointThresholds::limit_of(AlarmKind kind) const {
  switch (kind) {
    case AlarmKind::low_critical: return config_.low_critical;
    case AlarmKind::low_caution: return config_.low_caution;
    case AlarmKind::high_caution: return config_.high_caution;
    case AlarmKind::high_critical: return config_.high_critical;
    case AlarmKind::state: return config_.alarm_state;
    default: return std::nullopt;
  }
}

void PointThresholds::step(AlarmKind kind, bool holds, bool clears, Evidence evidence, TimePoint t,
                           std::chrono::milliseconds delay, std::vector<AlarmEvent>& out) {
  auto& c = conditions_[static_cast<std::size_t>(kind)];
  c.evidence = std::move(evidence);
  if (!c.active) {
    if (!holds) {
      c.pending_since.reset();  // it must hold for the whole delay, without a break
      return;
    }
    if (!c.pending_since) c.pending_since = t;
    if (t - *c.pending_since < delay) return;
    c.active = true;
    c.pending_since.reset();
  } else if (clears) {
    c.active = false;
  } else {
    return;
  }
  out.push_back({kind, severity_of(kind), c.active, c.evidence.value, limit_of(kind), t, c.evidence.reason});
}

std::vector<AlarmEvent> PointThresholds::update(const Sample& sample) {
  std::vector<AlarmEvent> out;
  const auto t = sample.time;
  const auto& cfg = config_;
  const bool good = has_value(sample.quality);
  if (cfg.sensor_failed) {
    // Failed: no value, and the read's own reason for it.
    Evidence e = good ? Evidence{sample.value, {}}
                      : Evidence{std::nullopt, sample.reason.empty() ? std::string(quality_name(sample.quality))
                                                                     : sample.reason};
    step(AlarmKind::sensor_failed, !good, good, std::move(e), t, cfg.failed_delay, out);
  }
  if (good) {
    last_fresh_ = t;
    const double v = sample.value;
    if (conditions_[static_cast<std::size_t>(AlarmKind::stale)].active) {
      step(AlarmKind::stale, false, true, {v, {}}, t, {}, out);
    }
    const double h = cfg.hysteresis;
    // Limits: raised at the limit, cleared only past it by the hysteresis.
    if (cfg.low_critical) step(AlarmKind::low_critical, v <= *cfg.low_critical, v > *cfg.low_critical + h, {v, {}}, t, cfg.delay, out);
    if (cfg.low_caution) step(AlarmKind::low_caution, v <= *cfg.low_caution, v > *cfg.low_caution + h, {v, {}}, t, cfg.delay, out);
    if (cfg.high_caution) step(AlarmKind::high_caution, v >= *cfg.high_caution, v < *cfg.high_caution - h, {v, {}}, t, cfg.delay, out);
    if (cfg.high_critical) step(AlarmKind::high_critical, v >= *cfg.high_critical, v < *cfg.high_critical - h, {v, {}}, t, cfg.delay, out);
    if (cfg.alarm_state) {
      const bool on = v == *cfg.alarm_state;
      step(AlarmKind::state, on, !on, {v, {}}, t, cfg.delay, out);
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
      if (now - *c.pending_since >= delay) step(kind, true, false, c.evidence, now, delay, out);
    }
  }
  if (config_.stale_after > 0) {
    const auto since = last_fresh_.value_or(TimePoint{});
    const auto window = config_.stale_after * interval;
    const bool stale = last_fresh_ && now - since >= window;
    Evidence e;
    if (stale) {
      e.reason = "no good reading for " + std::to_string(config_.stale_after) + " polls (" +
                 std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(now - since).count()) + " ms)";
    }
    step(AlarmKind::stale, stale, false, std::move(e), now, {}, out);
  }
  return out;
}

}  // namespace rackwatch
