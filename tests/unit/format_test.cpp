// The numbers, units and times `rackwatch` shows people: about four
// significant digits, large powers and energies in k and M, ages and
// durations in words that fit a column.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "diag/format.hpp"

namespace rackwatch::cli {
namespace {

TEST(FormatTest, ValuesKeepAboutFourSignificantDigits) {
  const struct {
    double value;
    const char* text;
  } cases[] = {
      {0, "0"},           {-0.0, "0"},          {45.25, "45.25"},     {230.14, "230.1"},
      {2313.857, "2314"}, {12345.6, "12346"},  {1234567.8, "1234568"}, {0.012345, "0.01235"},
      {0.5, "0.5"},       {1, "1"},             {-3.14159, "-3.142"}, {9.99996, "10"},
      {0.0005, "0.0005"}, {1.5e-9, "1.5e-09"}, {2e16, "2e+16"},
      {std::numeric_limits<double>::quiet_NaN(), "NaN"},
      {std::numeric_limits<double>::infinity(), "inf"},
      {-std::numeric_limits<double>::infinity(), "-inf"},
  };
  for (const auto& c : cases) EXPECT_EQ(format_value(c.value), c.text) << c.value;
}

TEST(FormatTest, LargePowersAndEnergiesTakeAPrefix) {
  const struct {
    double value;
    const char* unit;
    const char* shown_value;
    const char* shown_unit;
  } cases[] = {
      {2313856652.5, "Wh", "2313.86", "MWh"},
      {45230, "W", "45.23", "kW"},
      {999.94, "W", "999.9", "W"},
      {999.96, "W", "1", "kW"},  // what is shown decides: never "1000 W"
      {1000, "W", "1", "kW"},
      {-1500, "W", "-1.5", "kW"},  // power fed back
      {2.75e6, "W", "2.75", "MW"},
      {5e9, "W", "5000", "MW"},  // M is the largest prefix
      {123456, "Wh", "123.46", "kWh"},
      {5e9, "Wh", "5000", "MWh"},
      {1500, "Wh", "1.5", "kWh"},
      {12, "Wh", "12", "Wh"},
      {48000, "VA", "48", "kVA"},
      {3200, "var", "3.2", "kvar"},
      // Units a rack never has in thousands keep their unit.
      {36.254, "°C", "36.25", "°C"},
      {3450, "RPM", "3450", "RPM"},
      {101.325, "kPa", "101.3", "kPa"},
      {1, "bool", "1", "bool"},
      {1234.6, "", "1235", ""},
      {std::numeric_limits<double>::quiet_NaN(), "W", "NaN", "W"},
  };
  for (const auto& c : cases) {
    const auto d = display_value(c.value, c.unit);
    EXPECT_EQ(d.value, c.shown_value) << c.value << " " << c.unit;
    EXPECT_EQ(d.unit, c.shown_unit) << c.value << " " << c.unit;
  }
  EXPECT_EQ(display_text(2313856652.5, "Wh"), "2313.86 MWh");
  EXPECT_EQ(display_text(1234.6, ""), "1235");
}

TEST(FormatTest, AgesFitAColumnAndDurationsTakeTwoUnits) {
  const struct {
    std::int64_t ms;
    const char* age;
    const char* duration;
  } cases[] = {
      {-5, "0s", "0s"},
      {0, "0s", "0s"},
      {430, "0.4s", "0s"},
      {9'950, "9.9s", "9s"},
      {12'000, "12s", "12s"},
      {150'000, "2m", "2m30s"},
      {3 * 3'600'000 + 300'000, "3h", "3h5m"},
      {50 * 3'600'000LL, "2d", "2d2h"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(format_age(c.ms), c.age) << c.ms;
    EXPECT_EQ(format_duration(c.ms), c.duration) << c.ms;
  }
}

TEST(FormatTest, TimeTakenFromMicrosecondsToSeconds) {
  const struct {
    std::int64_t us;
    const char* text;
  } cases[] = {{0, "0µs"}, {5, "5µs"}, {850, "850µs"}, {5'214, "5.21ms"}, {999'000, "999ms"}, {1'240'000, "1.24s"}};
  for (const auto& c : cases) EXPECT_EQ(format_took_us(c.us), c.text) << c.us;
}

}  // namespace
}  // namespace rackwatch::cli
