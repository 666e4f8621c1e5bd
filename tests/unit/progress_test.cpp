// The watchdog's rule, by table: which runner, if any, is stuck at a moment.
#include "core/progress.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace rackwatch {
namespace {

using namespace std::chrono_literals;
using SteadyTime = std::chrono::steady_clock::time_point;

// A wall time on a whole second, so that ticks are easy to follow.
const TimePoint kWall0{std::chrono::seconds(1'800'000'000)};
const SteadyTime kSteady0{std::chrono::hours(1)};

Moment at(std::chrono::milliseconds wall, std::chrono::milliseconds steady) {
  return {kWall0 + wall, kSteady0 + steady};
}
Moment at(std::chrono::milliseconds both) { return at(both, both); }

RunnerProgress runner(std::string name, std::chrono::milliseconds interval, std::chrono::milliseconds timeout,
                      Moment woke, std::optional<std::chrono::milliseconds> restart_due = std::nullopt) {
  RunnerProgress r{std::move(name), interval, timeout, woke, std::nullopt};
  if (restart_due) r.restart_due = kSteady0 + *restart_due;
  return r;
}

TEST(WatchdogRule, StuckOnlyWhenARunnerMissedItsTickBySlack) {
  constexpr auto kSlack = 15s;  // WatchdogSec=30s
  struct Case {
    const char* what;
    std::vector<RunnerProgress> runners;
    Moment now;
    std::optional<std::string> stuck;  // the source named, or none
  } cases[] = {
      {"no runners", {}, at(0ms), std::nullopt},
      {"just woke", {runner("pdu", 1s, 1s, at(0ms))}, at(10ms), std::nullopt},
      // Woke at 0: may wait 1s for an on-demand poll and 1s for its own,
      // then sleeps to the tick after 2s (3s): allowed 3s + 15s.
      {"within the tick plus slack", {runner("pdu", 1s, 1s, at(0ms))}, at(18'000ms), std::nullopt},
      {"a tick missed by more than slack", {runner("pdu", 1s, 1s, at(0ms))}, at(18'001ms), "pdu"},
      {"a slow interval is not late", {runner("cdu", 60s, 5s, at(0ms))}, at(74'000ms), std::nullopt},
      {"a slow interval is late too", {runner("cdu", 60s, 5s, at(0ms))}, at(75'001ms), "cdu"},
      {"the stuck one among healthy ones",
       {runner("pdu", 1s, 1s, at(40'000ms)), runner("cdu", 1s, 1s, at(0ms)), runner("psu", 1s, 1s, at(39'500ms))},
       at(40'100ms),
       "cdu"},
      {"wall clock stepped forward an hour", {runner("pdu", 1s, 1s, at(0ms))}, at(3'600'000ms, 500ms), std::nullopt},
      {"wall clock stepped back an hour", {runner("pdu", 1s, 1s, at(0ms))}, at(-3'600'000ms, 30'000ms), std::nullopt},
      {"waiting out a restart back-off", {runner("pdu", 1s, 1s, at(0ms), 60'000ms)}, at(50'000ms), std::nullopt},
      {"a restart slack overdue", {runner("pdu", 1s, 1s, at(0ms), 60'000ms)}, at(75'001ms), "pdu"},
  };
  for (const auto& c : cases) {
    const auto stall = first_stall(c.runners, c.now, kSlack);
    if (c.stuck) {
      ASSERT_TRUE(stall) << c.what;
      EXPECT_EQ(stall->source, *c.stuck) << c.what;
      EXPECT_FALSE(stall->why.empty()) << c.what;
    } else {
      EXPECT_FALSE(stall) << c.what << ": " << (stall ? stall->source + ": " + stall->why : "");
    }
  }
}

TEST(WatchdogRule, SaysHowLongAndHowOften) {
  const auto stall = first_stall({runner("pdu", 1s, 1s, at(0ms))}, at(47'000ms), 15s);
  ASSERT_TRUE(stall);
  EXPECT_EQ(stall->why, "no tick started for 47s (every 1s)");
}

}  // namespace
}  // namespace rackwatch
