// The pipeline as one object: a poll in, the samples to send and the alarms
// out; its state follows the points across a reload. (The golden test
// covers its output byte for byte; these cover what a reload keeps.)
#include <gtest/gtest.h>

#include <stdexcept>

#include "core/catalog.hpp"
#include "core/config.hpp"
#include "pipeline/pipeline.hpp"
#include "sources/builtin/builtin_types.hpp"

namespace rackwatch {
namespace {

using namespace std::chrono_literals;

const TimePoint t0 = TimePoint{} + std::chrono::hours(24 * 365 * 50);

Config load(const std::string& supply_thresholds, const std::string& extra_point = "") {
  Diagnostics d;
  auto cfg = parse_config(R"y(agent: {site: hall-a, rack: r07}
mqtt: {brokers: [tcp://127.0.0.1:1883]}
sources:
  - name: cdu
    type: sim
    interval: 1s
    points:
)y" + extra_point + R"y(      - name: supply
        signal: cdu.supply_temp
        deadband: 0.5
        thresholds: )y" + supply_thresholds + "\n",
                          "t.yaml", builtin_source_types(), d);
  if (!cfg) throw std::runtime_error("config does not load");
  return *cfg;
}

std::vector<RawReading> one(double v, TimePoint t) { return {RawReading::success(v, t)}; }

TEST(PipelineTest, APollGivesItsSamplesAndTheAlarmsItDecides) {
  const auto cfg = load("{high_critical: 35, hysteresis: 1}");
  const Catalog catalog(cfg);
  Pipeline p(cfg, catalog);
  auto out = p.process(0, t0, one(30, t0));
  ASSERT_EQ(out.samples.size(), 1u);
  EXPECT_TRUE(out.alarms.empty());
  // Inside the deadband: nothing to send.
  EXPECT_TRUE(p.process(0, t0 + 1s, one(30.2, t0 + 1s)).samples.empty());
  EXPECT_EQ(p.latest()[0].value, 30.2);
  out = p.process(0, t0 + 2s, one(36, t0 + 2s));
  ASSERT_EQ(out.alarms.size(), 1u);
  EXPECT_EQ(out.alarms[0].event.kind, AlarmKind::high_critical);
  EXPECT_TRUE(p.alarm_active(0, AlarmKind::high_critical));
  // A failed read is bad, with its reason, and counted.
  out = p.process(0, t0 + 3s, {RawReading::failure("timeout", t0 + 3s)});
  EXPECT_EQ(out.bad_points, 1u);
  EXPECT_EQ(out.first_error, "timeout");
}

TEST(PipelineTest, AReloadKeepsAnActiveAlarmLatestValueAndLastSentWhereThePointStays) {
  const auto cfg = load("{high_critical: 35, hysteresis: 1}");
  const Catalog catalog(cfg);
  Pipeline p(cfg, catalog);
  p.process(0, t0, one(36, t0));
  ASSERT_TRUE(p.alarm_active(0, AlarmKind::high_critical));
  // A point is added before it: its index moves from 0 to 1.
  const auto next_cfg = load("{high_critical: 35, hysteresis: 1}", "      - {name: flow, signal: cdu.flow}\n");
  const Catalog next_catalog(next_cfg);
  Pipeline next(next_cfg, next_catalog);
  next.carry_over(p);
  EXPECT_TRUE(next.alarm_active(1, AlarmKind::high_critical));
  EXPECT_EQ(next.latest()[1].value, 36);
  EXPECT_EQ(next.latest()[1].point, 1u);
  EXPECT_EQ(next.latest()[0].time, TimePoint{});  // never read
  // Not raised again, and the same value is not news.
  const auto out = next.process(0, t0 + 1s, {RawReading::success(100, t0 + 1s), RawReading::success(36, t0 + 1s)});
  EXPECT_TRUE(out.alarms.empty());
  ASSERT_EQ(out.samples.size(), 1u);
  EXPECT_EQ(out.samples[0].point, 0u);
}

TEST(PipelineTest, AReloadThatChangesTheThresholdsDecidesAfresh) {
  const auto cfg = load("{high_critical: 35, hysteresis: 1}");
  const Catalog catalog(cfg);
  Pipeline p(cfg, catalog);
  p.process(0, t0, one(36, t0));
  const auto next_cfg = load("{high_critical: 40, hysteresis: 1}");
  const Catalog next_catalog(next_cfg);
  Pipeline next(next_cfg, next_catalog);
  next.carry_over(p);
  EXPECT_FALSE(next.alarm_active(0, AlarmKind::high_critical));
  EXPECT_TRUE(next.process(0, t0 + 1s, one(36, t0 + 1s)).alarms.empty());
  EXPECT_EQ(next.process(0, t0 + 2s, one(41, t0 + 2s)).alarms.size(), 1u);
}

}  // namespace
}  // namespace rackwatch
