#include "sources/hwmon/hwmon_attribute.hpp"

#include <gtest/gtest.h>

#include <array>

namespace rackwatch {
namespace {

TEST(HwmonAttribute, ParsesSensorBases) {
  auto t = parse_hwmon_sensor("temp1");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->kind, HwmonKind::temp);
  EXPECT_EQ(t->channel, 1u);
  auto in = parse_hwmon_sensor("in0");
  ASSERT_TRUE(in);
  EXPECT_EQ(in->kind, HwmonKind::in);
  EXPECT_EQ(in->channel, 0u);
  auto h = parse_hwmon_sensor("humidity12");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->kind, HwmonKind::humidity);
  EXPECT_EQ(h->channel, 12u);

  for (auto bad : {"", "temp", "1", "temp1a", "temp-1", "intrusion0", "pwm1", "temp1_input"}) {
    EXPECT_FALSE(parse_hwmon_sensor(bad)) << bad;
  }
}

TEST(HwmonAttribute, ParsesFileNames) {
  auto f = parse_hwmon_file_name("power2_average_max");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->sensor.kind, HwmonKind::power);
  EXPECT_EQ(f->sensor.channel, 2u);
  EXPECT_EQ(f->suffix, "average_max");
  auto l = parse_hwmon_file_name("fan3_label");
  ASSERT_TRUE(l);
  EXPECT_EQ(l->sensor.kind, HwmonKind::fan);
  EXPECT_EQ(l->suffix, "label");
  for (auto bad : {"name", "temp1", "temp1_", "uevent", "device", "intrusion0_alarm"}) {
    EXPECT_FALSE(parse_hwmon_file_name(bad)) << bad;
  }
  EXPECT_EQ(hwmon_sensor_base({HwmonKind::curr, 3}), "curr3");
}

TEST(HwmonAttribute, DeviceUnitsConvertToCanonical) {
  struct Case {
    HwmonKind kind;
    double raw;
    Unit unit;
    double canonical;
    std::string_view quantity;
  };
  const std::array cases{
      Case{HwmonKind::temp, 45000, Unit::degree_celsius, 45.0, "temperature"},
      Case{HwmonKind::in, 12100, Unit::volt, 12.1, "voltage"},
      Case{HwmonKind::curr, 2500, Unit::ampere, 2.5, "current"},
      Case{HwmonKind::power, 30250000, Unit::watt, 30.25, "power"},
      Case{HwmonKind::energy, 7.2e9, Unit::watt_hour, 2.0, "energy"},
      Case{HwmonKind::humidity, 41500, Unit::percent_rh, 41.5, "humidity"},
      Case{HwmonKind::fan, 4200, Unit::rpm, 4200, "fan_speed"},
  };
  for (const auto& c : cases) {
    const auto du = hwmon_device_unit(c.kind);
    EXPECT_EQ(du.canonical, c.unit) << hwmon_measure(c.kind).prefix;
    EXPECT_NEAR(c.raw * du.factor + du.offset, c.canonical, 1e-9) << hwmon_measure(c.kind).prefix;
    EXPECT_EQ(hwmon_measure(c.kind).quantity, c.quantity);
    // The quantity must be one the agent knows, with the same unit.
    auto q = find_quantity(c.quantity);
    ASSERT_TRUE(q) << c.quantity;
    EXPECT_EQ(q->unit, c.unit);
    EXPECT_EQ(hwmon_kind_for_unit(c.unit), c.kind);
  }
  EXPECT_FALSE(hwmon_kind_for_unit(Unit::kilopascal));
}

TEST(HwmonAttribute, KnowsValueSuffixes) {
  for (auto s : {"input", "average", "max", "crit_hyst", "lowest", "cap"}) {
    EXPECT_TRUE(is_hwmon_value_suffix(s)) << s;
  }
  for (auto s : {"label", "alarm", "enable", "div", "average_interval", ""}) {
    EXPECT_FALSE(is_hwmon_value_suffix(s)) << s;
  }
}

}  // namespace
}  // namespace rackwatch
