// The watchdog's rule: the agent tells systemd it is alive only while every
// source runner keeps starting its ticks. Pure: times in, verdict out.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/reading.hpp"

namespace rackwatch {

// One instant on both clocks: the wall clock for tick alignment, the steady
// clock so that a step of the wall clock is not taken for a stall.
struct Moment {
  TimePoint wall{};
  std::chrono::steady_clock::time_point steady{};
  static Moment now() { return {Clock::now(), std::chrono::steady_clock::now()}; }
};

// What a running source runner says of its progress.
struct RunnerProgress {
  std::string source;
  std::chrono::milliseconds interval{};
  std::chrono::milliseconds timeout{};
  Moment woke;  // when its loop last started or woke for a tick
  // While its loop waits out a restart back-off: when it starts again.
  std::optional<std::chrono::steady_clock::time_point> restart_due;
};

struct Stall {
  std::string source;
  std::string why;  // "no tick started for 47s (every 1s)"
};

// The first runner that is stuck at `now`, or nothing when all progress.
// After waking, a runner may wait up to its timeout for an on-demand poll
// and up to its timeout for its own poll, then sleeps to the next tick; it
// is stuck once it has not woken `slack` after that tick. A runner waiting
// out a restart back-off is stuck once the restart is `slack` overdue.
std::optional<Stall> first_stall(const std::vector<RunnerProgress>& runners, const Moment& now,
                                 std::chrono::milliseconds slack);

}  // namespace rackwatch
