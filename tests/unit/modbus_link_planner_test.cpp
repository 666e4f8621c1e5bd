// When a probe may have a shared Modbus link, by table: time is an argument,
// ticks are wall-clock multiples of each device's interval.
#include <gtest/gtest.h>

#include "sources/modbus/link_planner.hpp"

namespace rackwatch::modbus {
namespace {

using namespace std::chrono_literals;

// Seconds since the epoch, as a TimePoint: at(12.3) is 300 ms after the tick of second 12.
TimePoint at(double seconds) {
  return TimePoint(std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds)));
}

int healthy_a;
int healthy_b;
int sick;

struct Case {
  const char* what;
  double now;
  std::chrono::milliseconds budget;
  bool fits;
};

// `a` polls every 1 s and its poll of tick 12 ran from 12.000 to 12.050;
// `b` polls every 5 s (ticks 10, 15) and last polled at tick 10; `sick`
// has never answered and owns no time.
LinkPlanner planned() {
  LinkPlanner p;
  p.join(&healthy_a, 1s, at(11.5));
  p.join(&healthy_b, 5s, at(9.5));
  p.join(&sick, 1s, at(9.5));
  p.started(&healthy_b, at(10.001));
  p.finished(&healthy_b, true);
  p.started(&healthy_a, at(12.001));
  p.finished(&healthy_a, true);
  p.started(&sick, at(12.002));
  p.finished(&sick, false);
  return p;
}

TEST(LinkPlannerTest, AProbeFitsOnlyBetweenTheHealthyDevicesPolls) {
  const Case cases[] = {
      {"just after a's poll, 950 ms to its next tick", 12.05, 200ms, true},
      {"a probe as long as the time left", 12.8, 200ms, true},
      {"a probe longer than the time left to a's next tick", 12.85, 200ms, false},
      {"a's tick has come and its runner is about to poll", 13.02, 200ms, false},
      {"a's runner is late past the grace: the link is idle", 13.15, 200ms, true},
      {"b's tick 15 is nearer than the budget", 14.9, 50ms, true},
      {"b's tick 15 within a longer budget", 14.9, 150ms, false},
  };
  const auto p = planned();
  for (const auto& c : cases) {
    EXPECT_EQ(p.probe_fits(at(c.now), c.budget), c.fits) << c.what;
  }
}

TEST(LinkPlannerTest, NoProbeWhileAHealthyDeviceIsPolling) {
  auto p = planned();
  p.started(&healthy_a, at(13.001));
  EXPECT_FALSE(p.probe_fits(at(13.3), 10ms));
  p.finished(&healthy_a, true);
  EXPECT_TRUE(p.probe_fits(at(13.3), 10ms));
}

TEST(LinkPlannerTest, ADeviceThatStopsAnsweringNoLongerOwnsTime) {
  auto p = planned();
  EXPECT_EQ(p.healthy_count(), 2u);
  p.started(&healthy_a, at(13.001));
  p.finished(&healthy_a, false);
  p.leave(&healthy_b);
  EXPECT_EQ(p.healthy_count(), 0u);
  EXPECT_TRUE(p.probe_fits(at(13.99), 900ms)) << "no device owns the link";
}

TEST(LinkPlannerTest, ADeviceJoiningMidTickDoesNotOwnThatTick) {
  LinkPlanner p;
  p.join(&healthy_a, 1s, at(20.02));
  p.started(&healthy_a, at(21.0));
  p.finished(&healthy_a, true);
  EXPECT_TRUE(p.probe_fits(at(21.05), 200ms));
}

TEST(LinkPlannerTest, ATimeToLookAgainWhenOnlyTimeCanOpenAGap) {
  const auto p = planned();
  // Within a's grace after tick 13: look again when the grace ends.
  EXPECT_EQ(p.recheck_at(at(13.02), 200ms), at(13.0) + LinkPlanner::kGrace);
  // Too near a's next tick: look again once that tick's grace is over.
  EXPECT_EQ(p.recheck_at(at(12.9), 200ms), at(13.0) + LinkPlanner::kGrace);
  // It fits: nothing to wait for.
  EXPECT_EQ(p.recheck_at(at(12.2), 200ms), std::nullopt);
  // While a healthy device polls only the end of its poll can open a gap.
  auto polling = planned();
  polling.leave(&healthy_b);
  polling.started(&healthy_a, at(13.001));
  EXPECT_EQ(polling.recheck_at(at(13.3), 200ms), std::nullopt);
}

}  // namespace
}  // namespace rackwatch::modbus
