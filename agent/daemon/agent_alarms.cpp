// Alarms at the edge: every sample of a point with thresholds goes through
// its PointThresholds; each event is published on the alarm topic through
// the outbox (never dropped silently), and the set of active alarms is
// republished, retained, at every change.
#include "core/log.hpp"
#include "daemon/agent.hpp"
#include "publish/publisher.hpp"

namespace rackwatch {

void Agent::init_thresholds() {
  // States of points whose thresholds did not change survive a reload, so
  // an active alarm is neither lost nor raised twice.
  std::map<std::string, PointThresholds> kept;
  for (std::size_t i = 0; i < thresholds_.size(); ++i) {
    if (thresholds_[i]) kept.emplace(threshold_ids_[i], std::move(*thresholds_[i]));
  }
  thresholds_.assign(encoder_->point_count(), std::nullopt);
  threshold_ids_.assign(encoder_->point_count(), {});
  point_interval_.assign(encoder_->point_count(), Millis{0});
  for_each_point([&](std::uint32_t index, const std::string& id, const PointConfig& pc, Millis interval) {
    threshold_ids_[index] = id;
    point_interval_[index] = interval;
    if (!pc.thresholds || !pc.thresholds->any()) return;
    const auto found = kept.find(id);
    if (found != kept.end() && found->second.config() == *pc.thresholds) {
      thresholds_[index].emplace(std::move(found->second));
    } else {
      thresholds_[index].emplace(*pc.thresholds);
    }
  });
  // Alarms of points that are gone or whose thresholds changed are dropped
  // from the active set (their new state will be decided afresh).
  bool changed = false;
  for (auto it = active_alarms_.begin(); it != active_alarms_.end();) {
    const auto point = it->second.point_id();
    std::size_t index = 0;
    while (index < threshold_ids_.size() && threshold_ids_[index] != point) ++index;
    const bool keep = index < threshold_ids_.size() && thresholds_[index] &&
                      thresholds_[index]->active(alarm_kind_of(it->second.kind()));
    if (keep) {
      it->second.set_point(static_cast<std::uint32_t>(index));
      ++it;
    } else {
      it = active_alarms_.erase(it);
      changed = true;
    }
  }
  if (changed) publish_active_alarms(Clock::now());
}

AlarmKind Agent::alarm_kind_of(const std::string& name) {
  for (std::size_t k = 0; k < kAlarmKinds; ++k) {
    if (alarm_kind_name(static_cast<AlarmKind>(k)) == name) return static_cast<AlarmKind>(k);
  }
  return AlarmKind::stale;
}

std::vector<Agent::PointEvent> Agent::decide_alarms(TimePoint tick, const std::vector<Sample>& samples) {
  std::vector<PointEvent> out;
  for (const auto& sample : samples) {
    auto& thr = thresholds_[sample.point];
    if (!thr) continue;
    for (const auto& e : thr->advance(tick, point_interval_[sample.point])) out.push_back({sample.point, e});
    for (const auto& e : thr->update(sample)) out.push_back({sample.point, e});
  }
  return out;
}

void Agent::publish_alarms(const std::vector<PointEvent>& events, TimePoint tick) {
  for (const auto& [point, e] : events) {
    const auto& id = threshold_ids_[point];
    auto event = encoder_->alarm_event(e, point, id, ++alarm_sequence_);
    log::emit(e.raised ? log::Level::warning : log::Level::info, "alarm ", id, " ", alarm_kind_name(e.kind),
              e.raised ? " raised" : " cleared", ": value ", e.value, ", limit ", e.limit);
    publisher_->enqueue(encoder_->alarm(event));
    const auto key = id + "/" + std::string(alarm_kind_name(e.kind));
    if (e.raised) {
      active_alarms_[key] = std::move(event);
    } else {
      active_alarms_.erase(key);
    }
  }
  if (!events.empty()) publish_active_alarms(tick);
}

void Agent::publish_active_alarms(TimePoint now) {
  std::vector<v1::AlarmEvent> active;
  active.reserve(active_alarms_.size());
  for (const auto& [key, e] : active_alarms_) active.push_back(e);
  publisher_->enqueue(encoder_->active_alarms(active, now));
}

}  // namespace rackwatch
