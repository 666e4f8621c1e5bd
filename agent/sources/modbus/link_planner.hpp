// LinkPlanner: when a probe may have a shared Modbus link. The healthy
// devices on a link (those answering) own its time; a probe — the first
// request to a device not heard from since start, one that failed, or a
// dormant one due for its re-probe — may only use the idle time between
// their polls, so that a dead unit never costs a live one a reading.
//
// A probe fits when no healthy device is polling or due (its current tick
// not yet polled, for a short grace after the tick) and the next tick of
// each is at least the probe's budget away. Ticks are wall-clock multiples
// of a device's interval, as the sources' runners keep them; a runner that
// has not begun its poll within the grace is late (a busy controller), and
// a probe may go meanwhile. Pure: the caller passes the time.
#pragma once

#include <chrono>
#include <map>
#include <optional>

#include "core/reading.hpp"

namespace rackwatch::modbus {

class LinkPlanner {
 public:
  using Member = const void*;

  // A device on the link, polled every `interval`; not healthy until it answers.
  void join(Member member, std::chrono::milliseconds interval, TimePoint now);
  void leave(Member member);

  // A poll of `member` begins or ends; `healthy`: whether it answers (every
  // request of its last poll did), so that it owns its ticks from now on.
  void started(Member member, TimePoint now);
  void finished(Member member, bool healthy);

  // Whether a probe that holds the link for up to `budget` may start at `now`.
  bool probe_fits(TimePoint now, Clock::duration budget) const;
  // When a probe that does not fit now may fit without any poll starting
  // or ending (a tick's grace over); nothing when only a poll's end can.
  std::optional<TimePoint> recheck_at(TimePoint now, Clock::duration budget) const;

  // How long after its tick a device counts as about to poll.
  static constexpr std::chrono::milliseconds kGrace{100};

  std::size_t healthy_count() const;

 private:
  struct State {
    std::chrono::milliseconds interval{};
    bool healthy = false;
    bool polling = false;
    TimePoint started_tick{};  // the tick of its last poll (or of its joining)
  };
  std::map<Member, State> members_;
};

}  // namespace rackwatch::modbus
