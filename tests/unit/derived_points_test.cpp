// The derived stage: a source's poll computes exactly the derived points that
// depend on it, inputs before users, conditioned like readings; a point never
// read makes its users bad; state survives a reload of the same expression.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "core/config.hpp"
#include "pipeline/derived.hpp"
#include "sources/builtin/builtin_types.hpp"

namespace rackwatch {
namespace {

using namespace std::chrono_literals;

const TimePoint t0 = TimePoint{} + std::chrono::hours(24 * 365 * 50);

Config load(const std::string& derived) {
  Diagnostics d;
  auto cfg = parse_config(R"y(agent: {site: hall-a, rack: r07}
mqtt: {brokers: [tcp://127.0.0.1:1883]}
sources:
  - name: pdu
    type: sim
    interval: 1s
    points:
      - {name: l1, signal: pdu.l1.power}
      - {name: l2, signal: pdu.l2.power}
  - name: cdu
    type: sim
    interval: 1s
    points:
      - {name: supply, signal: cdu.supply_temp}
      - {name: return, signal: cdu.return_temp}
derived:
)y" + derived,
                          "t.yaml", builtin_source_types(), d);
  if (!cfg) throw std::runtime_error("config does not load");
  return *cfg;
}

// Catalog: pdu.l1 0, pdu.l2 1, cdu.supply 2, cdu.return 3, derived from 4.

Sample good(std::uint32_t point, double v, TimePoint t) { return {point, v, Quality::good, {}, t}; }

TEST(DerivedPoints, APollComputesWhatDependsOnItInputsFirst) {
  const auto cfg = load(R"y(  - {name: both, unit: W, expr: derived.total + derived.dt}
  - {name: total, unit: W, expr: pdu.l1 + pdu.l2}
  - {name: dt, quantity: temperature, expr: cdu.return - cdu.supply}
)y");
  DerivedPoints stage(cfg, Catalog(cfg));
  std::vector<Sample> latest(7);
  latest[0] = good(0, 100, t0);
  latest[1] = good(1, 50, t0);
  auto out = stage.evaluate(0, latest, t0);
  // total, then both (dt does not depend on the PDU).
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].point, 5u);
  EXPECT_EQ(out[0].value, 150);
  EXPECT_EQ(out[0].quality, Quality::good);
  EXPECT_EQ(out[1].point, 4u);
  EXPECT_EQ(out[1].quality, Quality::bad);  // dt never computed
  EXPECT_EQ(out[1].reason, "derived.dt: no reading yet");
  EXPECT_EQ(latest[5].value, 150);

  latest[2] = good(2, 30, t0 + 1s);
  latest[3] = good(3, 39, t0 + 1s);
  out = stage.evaluate(1, latest, t0 + 1s);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].point, 6u);
  EXPECT_EQ(out[0].value, 9);
  EXPECT_EQ(out[1].point, 4u);
  EXPECT_EQ(out[1].value, 159);
  EXPECT_EQ(out[1].quality, Quality::good);
  EXPECT_EQ(out[1].time, t0 + 1s);
}

TEST(DerivedPoints, ResultsAreConditionedLikeReadings) {
  const auto cfg = load(R"y(  - {name: total, unit: W, expr: pdu.l1 + pdu.l2, max: 1000}
  - {name: kw, unit: W, from_unit: kW, expr: (pdu.l1 + pdu.l2) / 1000}
  - {name: ratio, unit: "%", expr: pdu.l1 / pdu.l2 * 100}
)y");
  DerivedPoints stage(cfg, Catalog(cfg));
  std::vector<Sample> latest(7);
  latest[0] = good(0, 900, t0);
  latest[1] = good(1, 0, t0);
  auto out = stage.evaluate(0, latest, t0);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].value, 900);
  EXPECT_EQ(out[1].value, 900);  // kW back into W
  EXPECT_EQ(out[2].quality, Quality::bad);
  EXPECT_EQ(out[2].reason, "division by zero");
  latest[1] = good(1, 200, t0 + 1s);
  out = stage.evaluate(0, latest, t0 + 1s);
  EXPECT_EQ(out[0].quality, Quality::bad);  // 1100 is beyond max
  EXPECT_NE(out[0].reason.find("1000"), std::string::npos) << out[0].reason;
  EXPECT_EQ(out[2].value, 450);
}

TEST(DerivedPoints, AnUncertainInputMakesAnUncertainResult) {
  const auto cfg = load("  - {name: total, unit: W, expr: pdu.l1 + pdu.l2}\n");
  DerivedPoints stage(cfg, Catalog(cfg));
  std::vector<Sample> latest(5);
  latest[0] = good(0, 1, t0);
  latest[1] = {1, 2, Quality::uncertain, "estimated", t0};
  const auto out = stage.evaluate(0, latest, t0);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].value, 3);
  EXPECT_EQ(out[0].quality, Quality::uncertain);
  EXPECT_EQ(out[0].reason, "pdu.l2: estimated");
}

TEST(DerivedPoints, AnEnergyTotalSurvivesAReloadOfTheSameExpression) {
  const auto cfg = load("  - {name: energy, unit: Wh, expr: integral(pdu.l1)}\n");
  auto old = std::make_unique<DerivedPoints>(cfg, Catalog(cfg));
  std::vector<Sample> latest(5);
  for (int i = 0; i <= 3600; i += 10) {
    latest[0] = good(0, 1000, t0 + std::chrono::seconds(i));
    old->evaluate(0, latest, latest[0].time);
  }
  EXPECT_NEAR(latest[4].value, 1000, 1e-9);
  // Reloaded with a point added before it: the total carries on.
  const auto next_cfg = load("  - {name: other, unit: W, expr: pdu.l2}\n  - {name: energy, unit: Wh, expr: integral(pdu.l1)}\n");
  DerivedPoints next(next_cfg, Catalog(next_cfg));
  next.keep_state(*old);
  std::vector<Sample> next_latest(6);
  next_latest[0] = good(0, 1000, t0 + 3610s);
  next_latest[1] = good(1, 5, t0 + 3610s);
  const auto out = next.evaluate(0, next_latest, t0 + 3610s);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].point, 5u);
  EXPECT_NEAR(out[1].value, 1000 + 1000.0 * 10 / 3600, 1e-9);
  // A changed expression starts afresh.
  const auto changed_cfg = load("  - {name: energy, unit: Wh, expr: integral(pdu.l1 * 2)}\n");
  DerivedPoints changed(changed_cfg, Catalog(changed_cfg));
  changed.keep_state(next);
  latest[0] = good(0, 1000, t0 + 3620s);
  changed.evaluate(0, latest, t0 + 3620s);
  EXPECT_EQ(latest[4].value, 0);
}

}  // namespace
}  // namespace rackwatch
