// Derived points in the config: what loads, and every mistake in an
// expression reported at its line and column (unknown point, cycle, arity,
// syntax), plus the report-by-exception keys.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "core/config.hpp"
#include "pipeline/expression.hpp"
#include "sources/builtin/builtin_types.hpp"

namespace rackwatch {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

const std::string kHead = R"y(agent: {site: hall-a, rack: r07}
mqtt: {brokers: [tcp://127.0.0.1:1883]}
sources:
  - name: pdu
    type: sim
    interval: 1s
    points:
      - {name: l1, signal: pdu.l1.power}
      - {name: l2, signal: pdu.l2.power}
      - {name: l3, signal: pdu.l3.power}
  - name: cdu
    type: sim
    interval: 2s
    points:
      - {name: supply, signal: cdu.supply_temp}
      - {name: return, signal: cdu.return_temp}
      - {name: flow, signal: cdu.flow}
derived:
)y";

std::vector<std::string> problems(const std::string& derived) {
  Diagnostics d;
  EXPECT_FALSE(parse_config(kHead + derived, "t.yaml", builtin_source_types(), d));
  std::vector<std::string> out;
  for (const auto& i : d.items()) out.push_back(format_mark(i.mark) + ": " + i.message);
  return out;
}

Config load(const std::string& derived) {
  Diagnostics d;
  auto cfg = parse_config(kHead + derived, "t.yaml", builtin_source_types(), d);
  if (!cfg) {
    for (const auto& i : d.items()) ADD_FAILURE() << format_mark(i.mark) << ": " << i.message;
    return {};
  }
  return *cfg;
}

TEST(DerivedConfig, PointsLoadInOrderWithTheirSourcesAndInterval) {
  const auto cfg = load(R"y(  - {name: heat, unit: W, expr: "cdu.flow / 60 * 0.9957 * 4186 * derived.delta_t"}
  - {name: total, unit: W, expr: "sum(pdu.l1, pdu.l2, pdu.l3)", thresholds: {high_critical: 140000}}
  - {name: delta_t, quantity: temperature, expr: cdu.return - cdu.supply, deadband: 0.1, max_age: 30s}
  - {name: both, unit: W, expr: derived.total + derived.heat}
)y");
  ASSERT_EQ(cfg.derived.size(), 4u);
  EXPECT_EQ(cfg.derived[0].point.name, "heat");
  EXPECT_EQ(cfg.derived[2].point.unit, Unit::degree_celsius);
  EXPECT_EQ(cfg.derived[2].point.deadband, 0.1);
  EXPECT_EQ(cfg.derived[2].point.max_age, Millis{30'000});
  ASSERT_TRUE(cfg.derived[1].point.thresholds);
  EXPECT_EQ(cfg.derived[1].point.thresholds->high_critical, 140000);
  // heat reads delta_t, so delta_t comes first; both comes after total and heat.
  EXPECT_THAT(cfg.derived_order, ElementsAre(2, 0, 1, 3));
  EXPECT_THAT(cfg.derived[0].sources, ElementsAre(1));
  EXPECT_THAT(cfg.derived[1].sources, ElementsAre(0));
  EXPECT_THAT(cfg.derived[3].sources, ElementsAre(0, 1));
  EXPECT_EQ(cfg.derived[1].interval, Millis{1'000});
  EXPECT_EQ(cfg.derived[0].interval, Millis{2'000});
  EXPECT_EQ(cfg.derived[3].interval, Millis{1'000});
  ASSERT_TRUE(cfg.derived[1].expression);
  EXPECT_EQ(cfg.derived[1].expression->references().size(), 3u);
}

// kHead has 18 lines; the first derived point is on line 19.
TEST(DerivedConfig, UnknownPointIsReportedAtItsColumn) {
  EXPECT_THAT(problems("  - {name: t, unit: W, expr: \"sum(pdu.l1, pdu.l4)\"}\n"),
              ElementsAre("t.yaml:19:43: expr: unknown point 'pdu.l4'"));
  EXPECT_THAT(problems("  - {name: t, unit: W, expr: \"pdu.l1-pdu.l2\"}\n"),
              ElementsAre("t.yaml:19:31: expr: unknown point 'pdu.l1-pdu.l2' (to subtract, put spaces around '-')"));
  EXPECT_THAT(problems("  - {name: t, unit: W, expr: l1 * 2}\n"),
              ElementsAre("t.yaml:19:30: expr: unknown point 'l1' (a point is named SOURCE.POINT, a derived one "
                          "derived.NAME)"));
}

TEST(DerivedConfig, ACycleIsReportedWhereItCloses) {
  EXPECT_THAT(problems(R"y(  - {name: a, unit: W, expr: derived.b + pdu.l1}
  - {name: b, unit: W, expr: derived.c * 2}
  - {name: c, unit: W, expr: "max(pdu.l2, derived.a)"}
)y"),
              ElementsAre("t.yaml:21:43: expr: derived points depend on each other in a cycle: derived.a → "
                          "derived.b → derived.c → derived.a"));
  EXPECT_THAT(problems("  - {name: a, unit: W, expr: derived.a + 1}\n"),
              ElementsAre("t.yaml:19:30: expr: derived points depend on each other in a cycle: derived.a → derived.a"));
}

TEST(DerivedConfig, ArityAndSyntaxErrorsAreReportedAtTheirColumn) {
  EXPECT_THAT(problems("  - {name: t, unit: W, expr: \"diff(pdu.l1, pdu.l2, pdu.l3)\"}\n"),
              ElementsAre("t.yaml:19:31: expr: diff takes 2 arguments, found 3"));
  EXPECT_THAT(problems("  - {name: t, unit: W, expr: \"sum()\"}\n"),
              ElementsAre("t.yaml:19:31: expr: sum needs at least 1 argument"));
  EXPECT_THAT(problems("  - name: t\n    unit: W\n    expr: 'pdu.l1 + (pdu.l2'\n"),
              ElementsAre("t.yaml:21:28: expr: expected ')' to close the '(' at 9"));
  // A block scalar: the error is placed at the scalar itself.
  EXPECT_THAT(problems("  - name: t\n    unit: W\n    expr: >\n      nope(pdu.l1)\n"),
              ElementsAre(::testing::StartsWith("t.yaml:21:11: expr: unknown function 'nope'")));
}

TEST(DerivedConfig, PointMistakesAreReported) {
  EXPECT_THAT(problems(R"y(  - {name: t, expr: pdu.l1}
  - {name: u, unit: W}
  - {name: u, unit: W, expr: pdu.l1, colour: red}
  - {name: k, unit: W, expr: 2 * 3}
  - {name: d, unit: W, expr: pdu.l1, deadband: lots, max_age: 10ms}
  - {name: e, unit: W, expr: pdu.l1, deadband: 150%}
)y"),
              UnorderedElementsAre(
                  "t.yaml:19:5: derived point 't' needs a quantity or a unit",
                  "t.yaml:20:5: missing required key 'expr'",
                  "t.yaml:21:12: duplicate derived point name 'u'",
                  "t.yaml:21:38: unknown key 'colour' in derived point (known: name, quantity, unit, from_unit, scale, "
                  "offset, min, max, invalid, location, description, thresholds, deadband, max_age, expr)",
                  "t.yaml:22:30: expr: derived point 'k' reads no point, so it would never be computed",
                  "t.yaml:23:48: 'deadband' must be a number >= 0 in the point's unit, or a percentage such as 2%; found 'lots'",
                  "t.yaml:23:63: 'max_age' must be between 1s and 24h",
                  "t.yaml:24:48: 'deadband' must be at most 100%, found '150%'"));
}

TEST(DerivedConfig, TheDerivedNameIsReservedForDerivedPoints) {
  Diagnostics d;
  EXPECT_FALSE(parse_config(R"y(agent: {site: hall-a, rack: r07}
mqtt: {brokers: [tcp://127.0.0.1:1883]}
sources:
  - name: derived
    type: sim
    interval: 1s
    points:
      - {name: l1, signal: pdu.l1.power}
)y",
                            "t.yaml", builtin_source_types(), d));
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d.items()[0].message, "source name 'derived' is reserved for derived points");
}

TEST(DerivedConfig, ReportKeysOnPolledPoints) {
  Diagnostics d;
  auto cfg = parse_config(R"y(agent: {site: hall-a, rack: r07}
mqtt: {brokers: [tcp://127.0.0.1:1883]}
sources:
  - name: pdu
    type: sim
    interval: 1s
    points:
      - {name: l1, signal: pdu.l1.power, deadband: 2%}
      - {name: l2, signal: pdu.l2.power, deadband: 50}
      - {name: l3, signal: pdu.l3.power, max_age: 2m}
)y",
                          "t.yaml", builtin_source_types(), d);
  ASSERT_TRUE(cfg);
  const auto& p = cfg->sources[0].points;
  EXPECT_EQ(p[0].deadband, 2.0);
  EXPECT_TRUE(p[0].deadband_percent);
  EXPECT_FALSE(p[0].max_age);
  EXPECT_EQ(p[1].deadband, 50.0);
  EXPECT_FALSE(p[1].deadband_percent);
  EXPECT_FALSE(p[2].deadband);
  EXPECT_EQ(p[2].max_age, Millis{120'000});
}

}  // namespace
}  // namespace rackwatch
