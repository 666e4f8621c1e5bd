// Derived points in the running agent on the simulated rack: in every
// telemetry message the rack total equals the sum of the PDU phases it
// carries, and delta-T and heat removed equal what the test computes from
// the CDU readings (and the heat equals the model's own heat load, which the
// agent does not read into either). The catalog describes them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "rackwatch/v1/telemetry.pb.h"
#include "sources/sim/rack_model.hpp"
#include "support/mosquitto.hpp"
#include "support/process.hpp"
#include "support/run.hpp"
#include "support/temp_dir.hpp"
#include "support/test_subscriber.hpp"
#include "support/wait.hpp"

namespace rackwatch::test {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

TEST(DerivedTest, RackTotalDeltaTAndHeatMatchTheirInputsInEveryMessage) {
  TempDir dir("rackwatch-derived");
  Mosquitto broker;
  broker.start();
  const std::string base = "rackwatch/v1/hall-c/r12";
  // One source, so each message carries the inputs and the results of one poll.
  write_file(dir.path() / "agent.yaml", agent_config_head("hall-c", "r12", "derived-agent", broker.uri(), dir.path()) + R"(sources:
  - name: rack
    type: sim
    interval: 200ms
    seed: 11
    points:
      - {name: l1, signal: pdu.l1.power}
      - {name: l2, signal: pdu.l2.power}
      - {name: l3, signal: pdu.l3.power}
      - {name: supply, signal: cdu.supply_temp}
      - {name: return, signal: cdu.return_temp}
      - {name: flow, signal: cdu.flow}
      - {name: heat_model, signal: cdu.heat_load}
derived:
  - name: total
    unit: W
    expr: sum(rack.l1, rack.l2, rack.l3)
    thresholds: {high_caution: 150000, hysteresis: 500}
  - name: delta_t
    quantity: temperature
    expr: rack.return - rack.supply
  - name: heat
    unit: W
    description: heat carried away by the liquid loop
    expr: rack.flow / 60 * 0.9957 * 4186 * derived.delta_t
  - name: imbalance
    unit: "%"
    expr: (max(rack.l1, rack.l2, rack.l3) - avg(rack.l1, rack.l2, rack.l3)) / avg(rack.l1, rack.l2, rack.l3) * 100
  - name: headroom
    unit: W
    expr: 140000 - derived.total
    thresholds: {low_caution: 200000}
)");
  TestSubscriber sub(broker.uri(), base + "/#");
  Process agent({bin("rackwatchd"), "--config", (dir.path() / "agent.yaml").string()}, dir.path());

  auto telemetry = [&] { return decoded<v1::Telemetry>(sub, base + "/telemetry"); };
  ASSERT_TRUE(wait_until([&] { return telemetry().size() >= 20; }, 20s)) << agent.log();

  // The catalog names the derived points after the polled ones.
  v1::Catalog catalog;
  auto cm = TestSubscriber::read_retained(broker.uri(), base + "/catalog", 3s);
  ASSERT_TRUE(cm && catalog.ParseFromString((*cm)->get_payload_str()));
  std::map<std::string, std::uint32_t> index;
  for (int i = 0; i < catalog.points_size(); ++i) index[catalog.points(i).id()] = static_cast<std::uint32_t>(i);
  ASSERT_EQ(catalog.points_size(), 12);
  EXPECT_EQ(index.at("derived.total"), 7u);
  const auto& heat_point = catalog.points(static_cast<int>(index.at("derived.heat")));
  EXPECT_EQ(heat_point.device(), "derived");
  EXPECT_EQ(heat_point.unit(), v1::UNIT_WATT);
  EXPECT_EQ(heat_point.interval_ms(), 200u);
  EXPECT_EQ(heat_point.description(), "heat carried away by the liquid loop");
  EXPECT_THAT(catalog.points(static_cast<int>(index.at("derived.total"))).description(),
              HasSubstr("= sum(rack.l1, rack.l2, rack.l3)"));
  const auto& total = catalog.points(static_cast<int>(index.at("derived.total")));
  ASSERT_TRUE(total.has_limits());
  EXPECT_EQ(total.limits().high_caution(), 150000);
  EXPECT_FALSE(total.limits().has_high_critical());
  EXPECT_EQ(total.limits().hysteresis(), 500);
  EXPECT_FALSE(heat_point.has_limits());
  EXPECT_EQ(total.deadband(), 0);
  EXPECT_EQ(total.max_age_ms(), 0u);

  const auto messages = telemetry();
  for (const auto& t : messages) {
    SCOPED_TRACE("telemetry #" + std::to_string(t.sequence()));
    std::map<std::string, double> v;
    for (const auto& s : t.samples()) {
      ASSERT_EQ(s.quality(), v1::QUALITY_GOOD) << s.reason();
      v[catalog.points(static_cast<int>(s.point())).id()] = s.value();
    }
    ASSERT_EQ(v.size(), 12u);
    const double phases = v["rack.l1"] + v["rack.l2"] + v["rack.l3"];
    EXPECT_NEAR(v["derived.total"], phases, 1e-9 * phases);
    EXPECT_GT(phases, 30'000);
    EXPECT_NEAR(v["derived.delta_t"], v["rack.return"] - v["rack.supply"], 1e-9);
    const double kg_per_s = v["rack.flow"] / 60.0 * kWaterDensity;
    const double heat = kg_per_s * kWaterCp * (v["rack.return"] - v["rack.supply"]);
    EXPECT_NEAR(v["derived.heat"], heat, 1e-6 * heat);
    // The model's own heat load, from the rack's power, not from temperatures.
    EXPECT_NEAR(v["derived.heat"], v["rack.heat_model"], 1e-6 * heat);
    const double mean = phases / 3;
    const double peak = std::max({v["rack.l1"], v["rack.l2"], v["rack.l3"]});
    EXPECT_NEAR(v["derived.imbalance"], (peak - mean) / mean * 100, 1e-9);
    EXPECT_GE(v["derived.imbalance"], 0);
    EXPECT_LT(v["derived.imbalance"], 10);
    EXPECT_NEAR(v["derived.headroom"], 140'000 - phases, 1e-6);
  }

  // A derived point is thresholded like any other: the headroom is always
  // below its (deliberately unreachable) caution limit.
  std::size_t raised = 0;
  for (const auto& e : decoded<v1::AlarmEvent>(sub, base + "/alarm")) {
    EXPECT_EQ(e.point_id(), "derived.headroom");
    EXPECT_EQ(e.kind(), "low_caution");
    EXPECT_TRUE(e.raised());
    ++raised;
  }
  EXPECT_EQ(raised, 1u);

  // rackwatch read shows them as the source "derived".
  auto r = rackwatch_verb((dir.path() / "diag.sock").string(), {"read", "--source", "derived"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("derived.heat"));
  EXPECT_THAT(r.out, HasSubstr("derived.imbalance"));
}

// A derived point whose input fails is bad, names the input, and recovers.
TEST(DerivedTest, AFailingInputMakesTheDerivedPointBadWithItsReason) {
  TempDir dir("rackwatch-derived");
  Mosquitto broker;
  broker.start();
  const std::string base = "rackwatch/v1/hall-c/r13";
  write_file(dir.path() / "agent.yaml", agent_config_head("hall-c", "r13", "derived-agent", broker.uri(), dir.path()) +
                                          R"y(sources:
  - name: rack
    type: sim
    interval: 200ms
    fail: [pdu.l2.power]
    points:
      - {name: l1, signal: pdu.l1.power}
      - {name: l2, signal: pdu.l2.power}
derived:
  - {name: total, unit: W, expr: "rack.l1 + rack.l2"}
  - {name: l1_or_total, unit: W, expr: "if_good(derived.total, rack.l1)"}
)y");
  TestSubscriber sub(broker.uri(), base + "/telemetry");
  Process agent({bin("rackwatchd"), "--config", (dir.path() / "agent.yaml").string()}, dir.path());
  ASSERT_TRUE(wait_until([&] { return sub.messages().size() >= 3; }, 20s)) << agent.log();
  v1::Telemetry t;
  ASSERT_TRUE(t.ParseFromString(sub.messages().back()->get_payload_str()));
  ASSERT_EQ(t.samples_size(), 4);
  EXPECT_EQ(t.samples(2).quality(), v1::QUALITY_BAD);
  EXPECT_EQ(t.samples(2).reason(), "rack.l2: simulated failure");
  EXPECT_EQ(t.samples(3).quality(), v1::QUALITY_GOOD);
  EXPECT_EQ(t.samples(3).value(), t.samples(0).value());
}

// rackwatch check-config places each expression mistake at its line and column.
TEST(DerivedConfigCheckTest, ExpressionMistakesAreReportedAtTheirPlace) {
  TempDir dir("rackwatch-derived");
  write_file(dir.path() / "bad.yaml", R"y(agent: {site: s, rack: r}
mqtt: {brokers: [tcp://127.0.0.1:1883]}
sources:
  - name: pdu
    type: sim
    interval: 1s
    points:
      - {name: l1, signal: pdu.l1.power}
      - {name: l2, signal: pdu.l2.power}
derived:
  - name: total
    unit: W
    expr: pdu.l1 + pdu.l3
  - name: a
    unit: W
    expr: derived.b + pdu.l1
  - name: b
    unit: W
    expr: derived.a * 2
  - name: d
    unit: W
    expr: "diff(pdu.l1, pdu.l2, 3)"
)y");
  auto r = run({bin("rackwatch"), "check-config", (dir.path() / "bad.yaml").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("bad.yaml:13:20: expr: unknown point 'pdu.l3'"));
  EXPECT_THAT(r.err, HasSubstr("bad.yaml:19:11: expr: derived points depend on each other in a cycle: derived.a → "
                               "derived.b → derived.a"));
  EXPECT_THAT(r.err, HasSubstr("bad.yaml:22:12: expr: diff takes 2 arguments, found 3"));
  EXPECT_THAT(r.err, HasSubstr("bad.yaml: 3 problems"));
}

}  // namespace
}  // namespace rackwatch::test
