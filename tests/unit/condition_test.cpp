#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "pipeline/condition.hpp"

namespace rackwatch {
namespace {

PointConfig point(Unit unit, DeviceUnit from) {
  PointConfig p;
  p.name = "p";
  p.unit = unit;
  p.from = from;
  return p;
}

const TimePoint kT = TimePoint(std::chrono::seconds(1'800'000'000));

TEST(ConditionTest, ConvertsDeviceUnitToCanonical) {
  auto p = point(Unit::degree_celsius, *parse_device_unit("mdegC"));
  auto s = condition(p, 7, RawReading::success(45250, kT));
  EXPECT_EQ(s.quality, Quality::good);
  EXPECT_DOUBLE_EQ(s.value, 45.25);
  EXPECT_EQ(s.point, 7u);
  EXPECT_EQ(s.time, kT);
}

TEST(ConditionTest, ScaleAndOffsetApplyBeforeUnitConversion) {
  auto p = point(Unit::watt, *parse_device_unit("kW"));
  p.scale = 0.1;  // device counts tenths of a kW
  p.offset = 1;
  auto s = condition(p, 0, RawReading::success(125, kT));
  EXPECT_DOUBLE_EQ(s.value, (125 * 0.1 + 1) * 1000);
}

TEST(ConditionTest, FahrenheitBecomesCelsius) {
  auto p = point(Unit::degree_celsius, *parse_device_unit("degF"));
  EXPECT_NEAR(condition(p, 0, RawReading::success(212, kT)).value, 100.0, 1e-9);
  EXPECT_NEAR(condition(p, 0, RawReading::success(32, kT)).value, 0.0, 1e-9);
}

TEST(ConditionTest, ReadErrorsKeepTheirReason) {
  auto p = point(Unit::watt, {Unit::watt, 1, 0});
  auto s = condition(p, 0, RawReading::failure("no such file: /x", kT));
  EXPECT_EQ(s.quality, Quality::bad);
  EXPECT_EQ(s.value, 0.0);
  EXPECT_EQ(s.reason, "no such file: /x");
}

TEST(ConditionTest, SentinelsNaNAndInfinityAreBad) {
  auto p = point(Unit::watt, {Unit::watt, 1, 0});
  p.invalid = {65535, -1};
  EXPECT_EQ(condition(p, 0, RawReading::success(65535, kT)).quality, Quality::bad);
  EXPECT_EQ(condition(p, 0, RawReading::success(-1, kT)).reason, "device reports no value (-1)");
  EXPECT_EQ(condition(p, 0, RawReading::success(65534, kT)).quality, Quality::good);
  EXPECT_EQ(condition(p, 0, RawReading::success(std::nan(""), kT)).reason, "not a number");
  EXPECT_EQ(condition(p, 0, RawReading::success(std::numeric_limits<double>::infinity(), kT)).quality,
            Quality::bad);
}

TEST(ConditionTest, RangeIsCheckedInCanonicalUnits) {
  auto p = point(Unit::degree_celsius, *parse_device_unit("mdegC"));
  p.min = -20;
  p.max = 120;
  EXPECT_EQ(condition(p, 0, RawReading::success(119'000, kT)).quality, Quality::good);
  auto hot = condition(p, 0, RawReading::success(127'000, kT));
  EXPECT_EQ(hot.quality, Quality::bad);
  EXPECT_EQ(hot.reason, "above range: 127 > 120");
  EXPECT_EQ(hot.value, 0.0);
  EXPECT_EQ(condition(p, 0, RawReading::success(-40'000, kT)).reason, "below range: -40 < -20");
}

TEST(UnitsTest, CanonicalSymbolsRoundTrip) {
  for (int u = 1; u <= 14; ++u) {
    const auto unit = static_cast<Unit>(u);
    const auto sym = unit_symbol(unit);
    ASSERT_FALSE(sym.empty()) << u;
    EXPECT_EQ(parse_canonical_unit(sym), unit) << sym;
  }
  EXPECT_EQ(parse_canonical_unit("Cel"), Unit::degree_celsius);
  EXPECT_FALSE(parse_canonical_unit("furlong"));
}

TEST(UnitsTest, DeviceUnitsConvert) {
  auto check = [](const char* unit, double raw, double expected) {
    auto du = parse_device_unit(unit);
    ASSERT_TRUE(du) << unit;
    EXPECT_NEAR(raw * du->factor + du->offset, expected, 1e-9 * std::max(1.0, std::fabs(expected))) << unit;
  };
  check("uW", 350'000'000, 350);
  check("uJ", 3.6e9, 1);
  check("kWh", 2.5, 2500);
  check("mV", 12'050, 12.05);
  check("mA", 1'500, 1.5);
  check("m%RH", 45'500, 45.5);
  check("bar", 2.5, 250);
  check("psi", 1, 6.894757293168);
  check("gpm", 10, 37.85411784);
  check("K", 300, 26.85);
}

}  // namespace
}  // namespace rackwatch
