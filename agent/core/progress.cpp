#include "core/progress.hpp"

#include <algorithm>

#include "core/schedule.hpp"

namespace rackwatch {

namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

std::string ms_text(milliseconds d) {
  return d.count() % 1000 == 0 ? std::to_string(d.count() / 1000) + "s" : std::to_string(d.count()) + "ms";
}

}  // namespace

std::optional<Stall> first_stall(const std::vector<RunnerProgress>& runners, const Moment& now, milliseconds slack) {
  for (const auto& r : runners) {
    if (r.restart_due) {
      const auto overdue = duration_cast<milliseconds>(now.steady - *r.restart_due);
      if (overdue > slack) return Stall{r.source, "restart overdue by " + ms_text(overdue)};
      continue;
    }
    const auto next = next_tick(r.woke.wall + 2 * r.timeout, r.interval);
    const auto allowed = duration_cast<milliseconds>(next - r.woke.wall) + slack;
    // The smaller of the two: a wall clock stepped forward makes the wall
    // time long, one stepped back makes the tick late in steady time.
    const auto elapsed = duration_cast<milliseconds>(
        std::min<std::chrono::nanoseconds>(now.wall - r.woke.wall, now.steady - r.woke.steady));
    if (elapsed > allowed) {
      return Stall{r.source, "no tick started for " + ms_text(elapsed) + " (every " + ms_text(r.interval) + ")"};
    }
  }
  return std::nullopt;
}

}  // namespace rackwatch
