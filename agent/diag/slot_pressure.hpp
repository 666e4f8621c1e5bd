// SlotPressure: whether the diag socket's client slots are running out, as
// episodes, so that the agent says so once when it starts and once, with
// counts, when it is over, however many clients a flood brings.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace rackwatch::diag {

class SlotPressure {
 public:
  using Clock = std::chrono::steady_clock;

  struct Episode {
    std::uint64_t evicted = 0;  // idle connections closed to make room
    std::uint64_t refused = 0;  // clients turned away: every slot busy
    Clock::duration lasted{};   // from the first to the last of them
  };

  // An episode is over once `calm` passes with no client evicted or refused.
  explicit SlotPressure(Clock::duration calm) : calm_(calm) {}

  // Count one; true when it starts an episode (the moment to warn).
  bool evicted(Clock::time_point now) { return note(now, episode_.evicted); }
  bool refused(Clock::time_point now) { return note(now, episode_.refused); }

  // The earliest the current episode can be over; none without an episode.
  std::optional<Clock::time_point> calm_at() const;

  // The episode, ended, when it is over at `now`; none while it goes on.
  std::optional<Episode> end_if_calm(Clock::time_point now);

 private:
  bool note(Clock::time_point now, std::uint64_t& count);

  Clock::duration calm_;
  bool active_ = false;
  Clock::time_point first_{};
  Clock::time_point last_{};
  Episode episode_;
};

}  // namespace rackwatch::diag
