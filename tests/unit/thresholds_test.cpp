// Point thresholds, table-driven: a value oscillating around a limit raises
// once and clears only past the hysteresis; a delay needs the condition to
// hold throughout; boolean states, failed and stale sensors.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "pipeline/thresholds.hpp"

namespace rackwatch {
namespace {

using namespace std::chrono_literals;

const TimePoint t0 = TimePoint{} + std::chrono::hours(24 * 365 * 50);

Sample good(double v, std::chrono::milliseconds at) { return Sample{0, v, Quality::good, {}, t0 + at}; }
Sample bad(std::chrono::milliseconds at) { return Sample{0, 0, Quality::bad, "timeout", t0 + at}; }

// "+high_critical@3" for a raise at sample 3, "-high_critical@6" for a clear.
std::vector<std::string> run(PointThresholds& p, const std::vector<double>& values, std::chrono::milliseconds step = 1s) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < values.size(); ++i) {
    for (const auto& e : p.update(good(values[i], step * static_cast<int>(i)))) {
      out.push_back((e.raised ? "+" : "-") + std::string(alarm_kind_name(e.kind)) + "@" + std::to_string(i));
    }
  }
  return out;
}

using Events = std::vector<std::string>;

struct Case {
  const char* name;
  ThresholdConfig config;
  std::vector<double> values;
  Events expected;
};

ThresholdConfig high(double limit, double hysteresis) {
  ThresholdConfig c;
  c.high_critical = limit;
  c.hysteresis = hysteresis;
  return c;
}

ThresholdConfig low(double limit, double hysteresis) {
  ThresholdConfig c;
  c.low_critical = limit;
  c.hysteresis = hysteresis;
  return c;
}

TEST(ThresholdsTest, SchmittTriggerTable) {
  ThresholdConfig both;
  both.high_caution = 40;
  both.high_critical = 45;
  both.hysteresis = 1;
  ThresholdConfig state;
  state.alarm_state = 1;
  const std::vector<Case> cases{
      {"oscillation around a high limit raises once", high(45, 2), {44, 45, 44.5, 45.5, 43.5, 44.9, 42.9, 45},
       {"+high_critical@1", "-high_critical@6", "+high_critical@7"}},
      {"without hysteresis it clears just below", high(45, 0), {45, 44.99, 45}, {"+high_critical@0", "-high_critical@1", "+high_critical@2"}},
      {"exactly limit minus hysteresis does not clear", high(45, 2), {46, 43, 42.99}, {"+high_critical@0", "-high_critical@2"}},
      {"low limit mirrors", low(10, 1), {12, 10, 10.5, 11, 11.01, 9}, {"+low_critical@1", "-low_critical@4", "+low_critical@5"}},
      {"caution then critical, each its own", both, {39, 40, 46, 43.5, 38.9},
       {"+high_caution@1", "+high_critical@2", "-high_critical@3", "-high_caution@4"}},
      {"boolean state", state, {0, 1, 1, 0, 1}, {"+state@1", "-state@3", "+state@4"}},
  };
  for (const auto& c : cases) {
    PointThresholds p(c.config);
    EXPECT_EQ(run(p, c.values), c.expected) << c.name;
  }
}

TEST(ThresholdsTest, DelayNeedsTheConditionToHoldThroughout) {
  auto c = high(45, 1);
  c.delay = 3s;
  PointThresholds p(c);
  // Above for 2 s, a dip, then above for 3 s: raised at the 3rd second of the second run.
  EXPECT_EQ(run(p, {46, 46, 46, 44.5, 46, 46, 46, 46}),
            (Events{"+high_critical@7"}));
  EXPECT_TRUE(p.active(AlarmKind::high_critical));
}

TEST(ThresholdsTest, DelayRunsOutWithoutANewSample) {
  auto c = high(45, 1);
  c.delay = 3s;
  PointThresholds p(c);
  EXPECT_TRUE(p.update(good(47, 0s)).empty());
  EXPECT_TRUE(p.advance(t0 + 2s, 10s).empty());
  const auto events = p.advance(t0 + 3s, 10s);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(events[0].raised);
  EXPECT_EQ(events[0].value, 47);
  EXPECT_EQ(events[0].limit, 45);
  EXPECT_EQ(events[0].severity, Severity::critical);
  EXPECT_EQ(events[0].time, t0 + 3s);
}

TEST(ThresholdsTest, BadQualityRaisesSensorFailedAfterItsDelay) {
  ThresholdConfig c = high(45, 1);
  c.failed_delay = 2s;
  PointThresholds p(c);
  EXPECT_TRUE(p.update(good(20, 0s)).empty());
  EXPECT_TRUE(p.update(bad(1s)).empty());
  EXPECT_TRUE(p.update(bad(2s)).empty());
  auto e = p.update(bad(3s));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].kind, AlarmKind::sensor_failed);
  EXPECT_EQ(e[0].severity, Severity::caution);
  EXPECT_TRUE(e[0].raised);
  // No value and no limit, never a 0 that reads as normal; the read's reason.
  EXPECT_EQ(e[0].value, std::nullopt);
  EXPECT_EQ(e[0].limit, std::nullopt);
  EXPECT_EQ(e[0].reason, "timeout");
  EXPECT_EQ(alarm_detail(e[0]), "no value: timeout");
  // A bad reading says nothing of the limits: no high alarm from a 0.
  EXPECT_FALSE(p.active(AlarmKind::high_critical));
  e = p.update(good(21, 4s));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_FALSE(e[0].raised);
  EXPECT_EQ(e[0].value, 21) << "cleared by a good reading, which it names";
  EXPECT_EQ(alarm_detail(e[0]), "value 21");
}

TEST(ThresholdsTest, NoFreshReadingForKIntervalsIsStale) {
  ThresholdConfig c;
  c.stale_after = 3;
  c.sensor_failed = false;
  PointThresholds p(c);
  EXPECT_TRUE(p.update(good(1, 0s)).empty());
  EXPECT_TRUE(p.advance(t0 + 2s, 1s).empty());
  auto e = p.advance(t0 + 3s, 1s);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].kind, AlarmKind::stale);
  EXPECT_TRUE(e[0].raised);
  EXPECT_TRUE(p.advance(t0 + 4s, 1s).empty()) << "raised once";
  e = p.update(good(1, 5s));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_FALSE(e[0].raised);
}

TEST(ThresholdsTest, Names) {
  EXPECT_EQ(alarm_kind_name(AlarmKind::high_critical), "high_critical");
  EXPECT_EQ(alarm_kind_name(AlarmKind::sensor_failed), "sensor_failed");
  EXPECT_EQ(severity_name(Severity::caution), "caution");
}

}  // namespace
}  // namespace rackwatch
