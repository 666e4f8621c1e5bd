#include "sources/modbus/link_planner.hpp"

#include "core/schedule.hpp"

namespace rackwatch::modbus {

namespace {

// The tick a poll starting at `now` belongs to: the last multiple of the
// interval at or before it (a runner wakes at its tick or a little after).
TimePoint current_tick(TimePoint now, std::chrono::milliseconds interval) {
  return next_tick(now, interval) - interval;
}

}  // namespace

void LinkPlanner::join(Member member, std::chrono::milliseconds interval, TimePoint now) {
  // The tick under way when it joins is not its own: its first poll is the next.
  members_[member] = State{interval, false, false, current_tick(now, interval)};
}

void LinkPlanner::leave(Member member) { members_.erase(member); }

void LinkPlanner::started(Member member, TimePoint now) {
  auto it = members_.find(member);
  if (it == members_.end()) return;
  it->second.polling = true;
  it->second.started_tick = current_tick(now, it->second.interval);
}

void LinkPlanner::finished(Member member, bool healthy) {
  auto it = members_.find(member);
  if (it == members_.end()) return;
  it->second.polling = false;
  it->second.healthy = healthy;
}

bool LinkPlanner::probe_fits(TimePoint now, Clock::duration budget) const {
  for (const auto& [member, s] : members_) {
    if (!s.healthy) continue;
    if (s.polling) return false;
    const auto tick = current_tick(now, s.interval);
    if (tick > s.started_tick && now - tick < kGrace) return false;  // due: its runner is about to poll
    if (next_tick(now, s.interval) - now < budget) return false;
  }
  return true;
}

std::optional<TimePoint> LinkPlanner::recheck_at(TimePoint now, Clock::duration budget) const {
  std::optional<TimePoint> at;
  auto candidate = [&](TimePoint t) {
    if (!at || t < *at) at = t;
  };
  for (const auto& [member, s] : members_) {
    if (!s.healthy || s.polling) continue;
    const auto tick = current_tick(now, s.interval);
    if (tick > s.started_tick && now - tick < kGrace) candidate(tick + kGrace);
    const auto next = next_tick(now, s.interval);
    if (next - now < budget) candidate(next + kGrace);
  }
  return at;
}

std::size_t LinkPlanner::healthy_count() const {
  std::size_t n = 0;
  for (const auto& [member, s] : members_) n += s.healthy;
  return n;
}

}  // namespace rackwatch::modbus
