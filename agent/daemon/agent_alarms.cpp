// Alarms at the edge: the pipeline decides them; each event is published on
// the alarm topic through the outbox (history: never dropped silently). The
// set of active alarms is state, not history: it is published, retained, at
// every change while connected, and with every connection's birth, so that
// the retained set is always this boot's, an empty one included.
#include "core/log.hpp"
#include "daemon/agent.hpp"
#include "publish/publisher.hpp"

namespace rackwatch {

namespace {

// The key of an active alarm: point id and kind, so that the retained set
// lists them in that order.
std::string alarm_key(const std::string& point_id, AlarmKind kind) {
  return point_id + "/" + std::string(alarm_kind_name(kind));
}

std::optional<AlarmKind> alarm_kind_of(const std::string& name) {
  for (std::size_t k = 0; k < kAlarmKinds; ++k) {
    if (alarm_kind_name(static_cast<AlarmKind>(k)) == name) return static_cast<AlarmKind>(k);
  }
  return std::nullopt;
}

}  // namespace

bool Agent::prune_active_alarms(const std::string& why) {
  const auto& catalog = model_->catalog;
  bool changed = false;
  for (auto it = alarms_.active.begin(); it != alarms_.active.end();) {
    const auto index = catalog.find(it->second.point_id());
    const auto kind = alarm_kind_of(it->second.kind());
    if (index && kind && model_->pipeline.alarm_active(*index, *kind)) {
      // Kept, it refers to its point through the catalog now published:
      // the index and the catalog id go together.
      if (it->second.point() != *index || it->second.catalog_id() != encoder_->catalog_id()) {
        it->second.set_point(*index);
        it->second.set_catalog_id(encoder_->catalog_id());
        changed = true;
      }
      ++it;
    } else {
      // Said as a clear, so that a subscriber keeping state from the
      // events does not hold this raise for ever.
      auto cleared = it->second;
      cleared.set_raised(false);
      cleared.clear_value();
      cleared.clear_limit();
      cleared.set_reason(why);
      cleared.set_message(cleared.point_id() + " " + cleared.kind() + " cleared: " + cleared.reason());
      cleared.set_time_ms(to_unix_ms(Clock::now()));
      cleared.set_sequence(++alarms_.sequence);
      log::info("alarm ", cleared.message());
      publisher_->enqueue(encoder_->alarm(cleared));
      it = alarms_.active.erase(it);
      changed = true;
    }
  }
  return changed;
}

void Agent::publish_alarms(const std::vector<PointAlarm>& alarms, TimePoint tick) {
  for (const auto& [point, e] : alarms) {
    const auto& id = model_->catalog[point].id;
    auto event = encoder_->alarm_event(e, point, id, ++alarms_.sequence);
    log::emit(e.raised ? log::Level::warning : log::Level::info, "alarm ", id, " ", alarm_kind_name(e.kind),
              e.raised ? " raised" : " cleared", ": ", alarm_detail(e));
    publisher_->enqueue(encoder_->alarm(event));
    const auto key = alarm_key(id, e.kind);
    if (e.raised) {
      alarms_.active[key] = std::move(event);
    } else {
      alarms_.active.erase(key);
    }
  }
  if (!alarms.empty()) publish_active_alarms(tick);
}

Record Agent::active_alarms_record(TimePoint now) const {
  std::vector<v1::AlarmEvent> active;
  active.reserve(alarms_.active.size());
  for (const auto& [key, e] : alarms_.active) active.push_back(e);
  return encoder_->active_alarms(active, now);
}

void Agent::publish_active_alarms(TimePoint now) { publish_state(active_alarms_record(now)); }

}  // namespace rackwatch
