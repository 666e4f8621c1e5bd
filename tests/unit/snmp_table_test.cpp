// SNMP table rows made into points (names and descriptions from templates,
// `where`, names skipped with the reason, the cap on points) and a row
// point's value (decimals, ENTITY-SENSOR-MIB scale, ok_when, sentinels), by
// table.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "sources/snmp/snmp_table.hpp"

namespace rackwatch::snmp {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using Cells = std::vector<std::optional<VarBind>>;

VarBind integer(std::int64_t value) {
  VarBind v;
  v.type = VarType::integer;
  v.integer = value;
  return v;
}

VarBind gauge(std::uint64_t value) {
  VarBind v;
  v.type = VarType::gauge32;
  v.unsigned_value = value;
  return v;
}

VarBind text(std::string value) {
  VarBind v;
  v.type = VarType::octet_string;
  v.bytes = std::move(value);
  return v;
}

VarBind no_such_instance() {
  VarBind v;
  v.type = VarType::no_such_instance;
  return v;
}

TablePoint point(std::string name, std::size_t value, std::string description = {}) {
  TablePoint tp;
  tp.point.name = std::move(name);
  tp.point.description = std::move(description);
  tp.value = value;
  return tp;
}

RowTest index_is(std::size_t part, std::string name, std::vector<std::int64_t> values) {
  return {true, part, std::move(name), std::move(values)};
}

RowTest column_is(std::size_t column, std::string name, std::vector<std::int64_t> values) {
  return {false, column, std::move(name), std::move(values)};
}

// An outlet table as a PDU has it: pdu.outlet, a name column for the label.
enum OutletColumn : std::size_t { kOutletName, kOutletCurrent, kOutletPower };
TableSpec outlet_table() {
  TableSpec t;
  t.name = "outletTable";
  t.index = {"pdu", "outlet"};
  t.column_names = {"name", "current", "power"};
  t.columns = {{1, 3, 6, 1, 4, 1, 99, 3, 1, 2}, {1, 3, 6, 1, 4, 1, 99, 3, 1, 3}, {1, 3, 6, 1, 4, 1, 99, 3, 1, 4}};
  t.label = kOutletName;
  t.points = {point("pdu{pdu}_outlet{outlet}_current", kOutletCurrent,
                    "Outlet {outlet} of PDU {pdu} ({label}) current"),
              point("pdu{pdu}_outlet{outlet}_power", kOutletPower, "Outlet {outlet} ({label}) power")};
  return t;
}

std::vector<std::string> names_of(const Expansion& e) {
  std::vector<std::string> out;
  for (const auto& c : e.configs) out.push_back(c.name);
  return out;
}

std::string skipped_text(const Expansion& e) {
  std::string out;
  for (const auto& s : e.skipped) out += s + "\n";
  return out;
}

TEST(SnmpTableTest, RowsMakePointsRowByRowThenTemplateByTemplate) {
  Rows rows;
  rows[{1, 10}] = {text("db"), integer(30), integer(70)};
  rows[{1, 2}] = {text("web"), integer(12), integer(25)};
  rows[{2, 1}] = {text("cache"), integer(5), integer(9)};
  const auto e = expand_rows({outlet_table()}, {rows}, {}, 100);
  EXPECT_TRUE(e.skipped.empty()) << skipped_text(e);
  EXPECT_THAT(names_of(e), ElementsAre("pdu1_outlet2_current", "pdu1_outlet2_power", "pdu1_outlet10_current",
                                       "pdu1_outlet10_power", "pdu2_outlet1_current", "pdu2_outlet1_power"));
  EXPECT_EQ(e.configs[0].description, "Outlet 2 of PDU 1 (web) current");
  EXPECT_EQ(e.configs[3].description, "Outlet 10 (db) power");
  EXPECT_EQ(e.configs[4].description, "Outlet 1 of PDU 2 (cache) current");
  ASSERT_EQ(e.made.size(), e.configs.size());
  EXPECT_EQ(e.made[2].table, 0u);
  EXPECT_EQ(e.made[2].point, 0u);
  EXPECT_EQ(e.made[2].row, (Oid{1, 10}));
  EXPECT_EQ(e.made[5].point, 1u);
  EXPECT_EQ(e.made[5].row, (Oid{2, 1}));
}

// The label is the text column; a row without one (no cell, another type, an
// empty string) is named by its index instead.
TEST(SnmpTableTest, LabelIsTheTextColumnOrElseTheRowIndex) {
  struct Case {
    const char* what;
    std::optional<VarBind> label;
    std::string description;
  };
  const Case cases[] = {
      {"a name", text("db"), "Outlet 7 of PDU 3 (db) current"},
      {"no cell", std::nullopt, "Outlet 7 of PDU 3 (3.7) current"},
      {"an empty string", text(""), "Outlet 7 of PDU 3 (3.7) current"},
      {"an integer", integer(4), "Outlet 7 of PDU 3 (3.7) current"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    Rows rows;
    rows[{3, 7}] = {c.label, integer(1), integer(2)};
    const auto e = expand_rows({outlet_table()}, {rows}, {}, 100);
    ASSERT_EQ(e.configs.size(), 2u);
    EXPECT_EQ(e.configs[0].description, c.description);
  }
  // A table without a label column names every row by its index.
  auto t = outlet_table();
  t.label.reset();
  Rows rows;
  rows[{3, 7}] = {text("db"), integer(1), integer(2)};
  const auto e = expand_rows({t}, {rows}, {}, 100);
  ASSERT_EQ(e.configs.size(), 2u);
  EXPECT_EQ(e.configs[0].description, "Outlet 7 of PDU 3 (3.7) current");
}

// Tables are expanded in order, each from its own rows; names must be
// unique across them.
TEST(SnmpTableTest, TablesAreExpandedInOrderEachFromItsOwnRows) {
  TableSpec inlets;
  inlets.name = "inletTable";
  inlets.index = {"inlet"};
  inlets.column_names = {"current"};
  inlets.columns = {{1, 3, 6, 1, 4, 1, 99, 2, 1, 3}};
  inlets.points = {point("inlet{inlet}_current", 0, "Inlet {inlet} ({label}) current")};
  Rows inlet_rows;
  inlet_rows[{1}] = {integer(16)};
  Rows outlet_rows;
  outlet_rows[{1, 1}] = {text("web"), integer(1), integer(2)};
  const auto e = expand_rows({inlets, outlet_table()}, {inlet_rows, outlet_rows}, {}, 100);
  EXPECT_THAT(names_of(e), ElementsAre("inlet1_current", "pdu1_outlet1_current", "pdu1_outlet1_power"));
  EXPECT_EQ(e.configs[0].description, "Inlet 1 (1) current");
  EXPECT_EQ(e.made[0].table, 0u);
  EXPECT_EQ(e.made[1].table, 1u);
  EXPECT_EQ(e.made[1].row, (Oid{1, 1}));
}

// Raritan's inlet sensors: pdu.inlet.sensorType, one template per sensor
// type chosen on the index; ENTITY-SENSOR-MIB's chosen on the type column.
TEST(SnmpTableTest, WhereChoosesRowsByIndexPartOrColumnWithSeveralValues) {
  TableSpec t;
  t.name = "inletSensorTable";
  t.index = {"pdu", "inlet", "sensor"};
  t.column_names = {"type", "value"};
  t.columns = {{1, 3, 6, 1, 4, 1, 99, 5, 1, 1}, {1, 3, 6, 1, 4, 1, 99, 5, 1, 2}};
  auto current = point("inlet{inlet}_current", 1);
  current.where = {index_is(2, "sensor", {1})};
  auto power = point("inlet{inlet}_power_{sensor}", 1);
  power.where = {index_is(2, "sensor", {5, 6})};
  auto volts = point("inlet{inlet}_volts_{sensor}", 1);
  volts.where = {column_is(0, "type", {3, 4})};
  auto both = point("pdu{pdu}_inlet{inlet}_dc_{sensor}", 1);
  both.where = {index_is(0, "pdu", {2}), column_is(0, "type", {4})};
  t.points = {current, power, volts, both};

  Rows rows;
  rows[{1, 1, 1}] = {integer(5), integer(680)};
  rows[{1, 1, 4}] = {integer(3), integer(2301)};
  rows[{1, 1, 5}] = {integer(6), integer(1500)};
  rows[{1, 1, 6}] = {integer(6), integer(1600)};
  rows[{1, 1, 7}] = {integer(6), integer(99)};
  rows[{2, 1, 8}] = {integer(4), integer(48)};
  rows[{2, 1, 9}] = {std::nullopt, integer(48)};  // no type: no column test passes
  const auto e = expand_rows({t}, {rows}, {}, 100);
  EXPECT_TRUE(e.skipped.empty()) << skipped_text(e);
  EXPECT_THAT(names_of(e), ElementsAre("inlet1_current", "inlet1_volts_4", "inlet1_power_5", "inlet1_power_6",
                                       "inlet1_volts_8", "pdu2_inlet1_dc_8"));
}

TEST(SnmpTableTest, RowsWhoseIndexHasTheWrongArcCountAreSkippedAndCounted) {
  Rows rows;
  rows[{1}] = {text("short"), integer(1), integer(2)};
  rows[{1, 2}] = {text("web"), integer(1), integer(2)};
  rows[{1, 2, 3}] = {text("long"), integer(1), integer(2)};
  const auto e = expand_rows({outlet_table()}, {rows}, {}, 100);
  EXPECT_THAT(names_of(e), ElementsAre("pdu1_outlet2_current", "pdu1_outlet2_power"));
  ASSERT_EQ(e.skipped.size(), 1u);
  EXPECT_THAT(e.skipped[0], HasSubstr("table outletTable: 2 rows whose index is not 2 arcs"));
}

// A template makes a name per row: one too long for a point name (64
// characters at most), one with a placeholder that names no index part,
// one taken by the source's own points or by another template, is skipped,
// and said; the rest are made.
TEST(SnmpTableTest, MadeNamesThatAreInvalidOrTakenAreSkippedAndSaid) {
  TableSpec t;
  t.name = "outletTable";
  t.index = {"outlet"};
  t.column_names = {"current", "power"};
  t.columns = {{1, 3, 6, 1, 4, 1, 99, 3, 1, 3}, {1, 3, 6, 1, 4, 1, 99, 3, 1, 4}};
  const std::string long_prefix(56, 'x');  // + "outlet" + 1 digit + "_" = 64
  t.points = {point(long_prefix + "outlet{outlet}_", 0),   // too long from outlet 10
              point("outlet{outlet}_current", 0),          // outlet 1 is taken
              point("outlet{outlet}_current", 1),          // the template before took it
              point("outlet{oultet}_power", 1)};           // no such part: the braces stay
  Rows rows;
  rows[{1}] = {integer(1), integer(2)};
  rows[{10}] = {integer(3), integer(4)};
  const auto e = expand_rows({t}, {rows}, {"outlet1_current"}, 100);
  EXPECT_THAT(names_of(e), ElementsAre(long_prefix + "outlet1_", "outlet10_current"));
  const auto said = skipped_text(e);
  EXPECT_THAT(said, HasSubstr("table outletTable row 1: point 'outlet1_current' exists already"));
  EXPECT_THAT(said, HasSubstr("table outletTable row 10: '" + long_prefix + "outlet10_' is not a valid point name"));
  EXPECT_THAT(said, HasSubstr("table outletTable row 10: point 'outlet10_current' exists already"));
  EXPECT_THAT(said, HasSubstr("row 1: 'outlet{oultet}_power' is not a valid point name"));
  EXPECT_EQ(e.skipped.size(), 6u) << said;
}

TEST(SnmpTableTest, AtMostMaxPointsAreMadeAndTheRestIsSaidOnce) {
  Rows rows;
  for (std::uint32_t outlet = 1; outlet <= 3; ++outlet) rows[{1, outlet}] = {text("o"), integer(1), integer(2)};
  struct Case {
    std::size_t max_points;
    std::size_t made;
    bool capped;
  };
  const Case cases[] = {{0, 0, true}, {4, 4, true}, {5, 5, true}, {6, 6, false}, {100, 6, false}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.max_points);
    const auto e = expand_rows({outlet_table()}, {rows}, {}, c.max_points);
    EXPECT_EQ(e.configs.size(), c.made);
    EXPECT_EQ(e.made.size(), c.made);
    if (c.capped) {
      ASSERT_EQ(e.skipped.size(), 1u);
      EXPECT_THAT(e.skipped[0], HasSubstr("more than " + std::to_string(c.max_points) + " points"));
    } else {
      EXPECT_TRUE(e.skipped.empty()) << skipped_text(e);
    }
  }
}

// A row that has no cell in the template's value column has no such point
// (a non-metered outlet), and that is no problem to report.
TEST(SnmpTableTest, RowWithoutTheValueCellMakesNoPoint) {
  Rows rows;
  rows[{1, 1}] = {text("metered"), integer(1), integer(2)};
  rows[{1, 2}] = {text("switched only"), std::nullopt, integer(2)};
  rows[{1, 3}] = {text("short row")};
  const auto e = expand_rows({outlet_table()}, {rows}, {}, 100);
  EXPECT_THAT(names_of(e), ElementsAre("pdu1_outlet1_current", "pdu1_outlet1_power", "pdu1_outlet2_power"));
  EXPECT_TRUE(e.skipped.empty()) << skipped_text(e);
}

// --- row_value -------------------------------------------------------------

// A table with every column row_value may read.
enum Column : std::size_t { kValue, kDigits, kScale, kStatus };
TableSpec value_table() {
  TableSpec t;
  t.name = "sensorTable";
  t.index = {"sensor"};
  t.column_names = {"value", "digits", "scale", "status"};
  t.columns = {{1, 3, 6, 1, 4, 1, 99, 9, 1, 1},
               {1, 3, 6, 1, 4, 1, 99, 9, 1, 2},
               {1, 3, 6, 1, 4, 1, 99, 9, 1, 3},
               {1, 3, 6, 1, 4, 1, 99, 9, 1, 4}};
  return t;
}

struct ValueCase {
  const char* what;
  TablePoint point;
  Cells cells;
  std::optional<double> want;
  std::vector<std::string> error;  // substrings, when no value
};

void check(const ValueCase& c) {
  SCOPED_TRACE(c.what);
  const auto n = row_value(value_table(), c.point, Oid{4}, c.cells);
  if (c.want) {
    ASSERT_TRUE(n.value) << n.error;
    EXPECT_NEAR(*n.value, *c.want, std::abs(*c.want) * 1e-12) << *n.value;
    EXPECT_TRUE(n.error.empty()) << n.error;
  } else {
    EXPECT_FALSE(n.value) << *n.value;
    for (const auto& part : c.error) EXPECT_THAT(n.error, HasSubstr(part));
  }
}

TablePoint with_decimals() {
  auto p = point("v{sensor}", kValue);
  p.decimals = kDigits;
  return p;
}

TablePoint entity_sensor() {
  auto p = point("v{sensor}", kValue);
  p.decimals = kDigits;  // entPhySensorPrecision
  p.entity_scale = kScale;  // entPhySensorScale
  return p;
}

// Raritan: value = raw / 10^decimal digits, the digits in another column.
TEST(SnmpTableTest, DecimalsDivideByTheDigitsInTheirColumn) {
  const ValueCase cases[] = {
      {"680 with 3 digits", with_decimals(), {integer(680), integer(3)}, 0.68, {}},
      {"2301 with 1 digit", with_decimals(), {integer(2301), gauge(1)}, 230.1, {}},
      {"no digits", with_decimals(), {integer(680), integer(0)}, 680.0, {}},
      {"-1 digits", with_decimals(), {integer(68), integer(-1)}, 680.0, {}},
      {"9 digits", with_decimals(), {gauge(123456789), integer(9)}, 0.123456789, {}},
      {"-9 digits", with_decimals(), {integer(2), integer(-9)}, 2e9, {}},
      {"10 digits", with_decimals(), {integer(680), integer(10)}, std::nullopt,
       {"decimals (digits) are 10, outside -9..9"}},
      {"-10 digits", with_decimals(), {integer(680), integer(-10)}, std::nullopt, {"are -10, outside -9..9"}},
      {"no digits cell", with_decimals(), {integer(680)}, std::nullopt, {"decimals (digits) are missing"}},
      {"digits as text", with_decimals(), {integer(680), text("3")}, std::nullopt, {"missing"}},
  };
  for (const auto& c : cases) check(c);
}

// ENTITY-SENSOR-MIB: value / 10^precision × 10^(3 × (scale − 9)), scale
// yocto(1)..yotta(17), units(9), milli(8), kilo(10).
TEST(SnmpTableTest, EntityScaleMultipliesByItsPowerOfAThousandAfterDecimals) {
  const ValueCase cases[] = {
      {"units", entity_sensor(), {integer(23), integer(0), integer(9)}, 23.0, {}},
      {"milli", entity_sensor(), {integer(12000), integer(0), integer(8)}, 12.0, {}},
      {"kilo", entity_sensor(), {integer(5), integer(0), integer(10)}, 5000.0, {}},
      {"milli with precision 1", entity_sensor(), {integer(2305), integer(1), integer(8)}, 0.2305, {}},
      {"kilo with precision 2", entity_sensor(), {integer(1234), integer(2), integer(10)}, 12340.0, {}},
      {"units with precision 2", entity_sensor(), {integer(12345), integer(2), integer(9)}, 123.45, {}},
      {"yocto", entity_sensor(), {integer(1), integer(0), integer(1)}, 1e-24, {}},
      {"yotta", entity_sensor(), {integer(1), integer(0), integer(17)}, 1e24, {}},
      {"scale 0", entity_sensor(), {integer(1), integer(0), integer(0)}, std::nullopt,
       {"scale (scale) is 0, outside 1..17"}},
      {"scale 18", entity_sensor(), {integer(1), integer(0), integer(18)}, std::nullopt, {"is 18, outside 1..17"}},
      {"no scale cell", entity_sensor(), {integer(1), integer(0)}, std::nullopt, {"scale (scale) is missing"}},
  };
  for (const auto& c : cases) check(c);
}

TablePoint ok_when_status(std::vector<std::int64_t> ok) {
  auto p = point("v{sensor}", kValue);
  p.ok_when = {column_is(kStatus, "status", std::move(ok))};
  return p;
}

TablePoint with_invalid(std::vector<double> invalid) {
  auto p = with_decimals();
  p.point.invalid = std::move(invalid);
  return p;
}

TEST(SnmpTableTest, RowValueGivesNoValueWithTheReason) {
  const ValueCase cases[] = {
      {"ok_when passes", ok_when_status({1}), {integer(42), std::nullopt, std::nullopt, integer(1)}, 42.0, {}},
      {"ok_when on one of several", ok_when_status({0, 14, 15}), {integer(42), {}, {}, integer(15)}, 42.0, {}},
      {"ok_when fails",
       ok_when_status({1}),
       {integer(42), {}, {}, integer(2)},
       std::nullopt,
       {"status reads 2 (ok is 1)"}},
      {"ok_when fails, several ok",
       ok_when_status({0, 14, 15}),
       {integer(42), {}, {}, gauge(3)},
       std::nullopt,
       {"status reads 3 (ok is 0, 14, 15)"}},
      {"ok_when without its cell", ok_when_status({1}), {integer(42)}, std::nullopt, {"status is missing (ok is 1)"}},
      {"the invalid sentinel", with_invalid({-1}), {integer(-1), integer(0)}, std::nullopt,
       {"reads -1, which the device sends for no value"}},
      {"one of several sentinels", with_invalid({-1000000000, 1000000000}), {integer(1000000000), integer(2)},
       std::nullopt, {"reads 1000000000"}},
      // The sentinel is the raw value: -1000 / 10^3 is a real -1.
      {"a sentinel after decimals", with_invalid({-1}), {integer(-1000), integer(3)}, -1.0, {}},
      {"a string that is a number", point("v{sensor}", kValue), {text("23.5")}, 23.5, {}},
      {"a string that is a number, with decimals", with_decimals(), {text("235"), integer(1)}, 23.5, {}},
      {"a string that is not", point("v{sensor}", kValue), {text("n/a")}, std::nullopt, {"not a number"}},
      {"noSuchInstance in the value cell", point("v{sensor}", kValue), {no_such_instance()}, std::nullopt,
       {"noSuchInstance"}},
      {"no value cell", point("v{sensor}", kValue), {std::nullopt, integer(1)}, std::nullopt,
       {"column value has no row 4"}},
  };
  for (const auto& c : cases) check(c);
}

// A poll remakes the points only when they could differ: rows, labels and
// the columns a `where` tests, not the readings.
TEST(SnmpTableTest, SamePointsLooksAtRowsLabelsAndWhereColumnsNotReadings) {
  TableSpec t = outlet_table();
  t.points[1].where.push_back(column_is(kOutletCurrent, "current", {0, 1, 2}));
  const Rows before{{{1, 1}, Cells{text("db1"), integer(1), integer(230)}},
                    {{1, 2}, Cells{text("db2"), integer(2), integer(460)}}};
  Rows readings_moved = before;
  readings_moved[{1, 1}][kOutletPower] = integer(231);
  EXPECT_TRUE(same_points(t, before, before));
  EXPECT_TRUE(same_points(t, before, readings_moved)) << "a new reading is not a new point";

  Rows relabelled = before;
  relabelled[{1, 2}][kOutletName] = text("db2-renamed");
  EXPECT_FALSE(same_points(t, before, relabelled)) << "the label is in the description";

  Rows where_moved = before;
  where_moved[{1, 2}][kOutletCurrent] = integer(7);
  EXPECT_FALSE(same_points(t, before, where_moved)) << "the power point's where no longer holds";

  Rows added = before;
  added[{1, 3}] = Cells{text("db3"), integer(0), integer(0)};
  EXPECT_FALSE(same_points(t, before, added));
  Rows renumbered{{{1, 1}, before.at({1, 1})}, {{1, 9}, before.at({1, 2})}};
  EXPECT_FALSE(same_points(t, before, renumbered));

  Rows value_gone = before;
  value_gone[{1, 1}][kOutletPower].reset();
  EXPECT_FALSE(same_points(t, before, value_gone)) << "a row without the value column has no such point";
}

}  // namespace
}  // namespace rackwatch::snmp
