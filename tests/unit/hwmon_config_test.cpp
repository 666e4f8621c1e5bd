#include "sources/hwmon/hwmon_config.hpp"

#include <gtest/gtest.h>

#include <string>

#include "core/config.hpp"
#include "hwmon_fake_sysfs.hpp"
#include "sources/builtin/builtin_types.hpp"

namespace rackwatch {
namespace {

using test::find_diagnostic;
using test::hwmon_config_text;
using test::line_of;

const std::string kRoot = "/srv/fake-hwmon";

std::optional<Config> parse(const std::string& text, Diagnostics& diags) {
  return parse_config(text, "hw.yaml", builtin_source_types(), diags);
}

const HwmonSettings& settings_of(const Config& cfg) {
  auto s = std::dynamic_pointer_cast<const HwmonSettings>(cfg.sources.at(0).settings);
  if (!s) throw std::logic_error("no hwmon settings");
  return *s;
}

std::string dump(const Diagnostics& diags) {
  std::string out;
  for (const auto& d : diags.items()) {
    out += format_mark(d.mark) + ": " + d.message + "\n";
  }
  return out;
}

// Expects one diagnostic containing `needle`, on the line of `text` that
// contains `at`.
void expect_error(const std::string& text, const std::string& needle, const std::string& at) {
  Diagnostics diags;
  EXPECT_FALSE(parse(text, diags));
  auto d = find_diagnostic(diags, needle);
  ASSERT_TRUE(d) << "no diagnostic containing \"" << needle << "\" in:\n" << dump(diags);
  EXPECT_EQ(d->mark.file, "hw.yaml");
  const int line = line_of(text, at);
  ASSERT_GT(line, 0) << at;
  EXPECT_EQ(d->mark.line, line) << d->message;
}

TEST(HwmonConfig, InfersQuantityAndDeviceUnitFromTheSensor) {
  const auto text =
      hwmon_config_text(kRoot,
                        "      - {name: cpu, chip: coretemp, sensor: temp1}\n"
                        "      - {name: vin, chip: ina3221, sensor: in1}\n"
                        "      - {name: iin, chip: ina3221, sensor: curr1}\n"
                        "      - {name: pin, chip: ina3221, sensor: power1, attribute: average}\n"
                        "      - {name: e, chip: amd_energy, sensor: energy1}\n"
                        "      - {name: rh, chip: sht3x, sensor: humidity1}\n"
                        "      - {name: fan, chip: nct6775, sensor: fan1}\n");
  Diagnostics diags;
  auto cfg = parse(text, diags);
  ASSERT_TRUE(cfg) << dump(diags);
  const auto& pts = cfg->sources.at(0).points;
  ASSERT_EQ(pts.size(), 7u);
  struct Want {
    std::string quantity;
    Unit unit;
    double raw;
    double canonical;
  };
  const std::vector<Want> want{{"temperature", Unit::degree_celsius, 45000, 45.0},
                               {"voltage", Unit::volt, 12100, 12.1},
                               {"current", Unit::ampere, 2500, 2.5},
                               {"power", Unit::watt, 30250000, 30.25},
                               {"energy", Unit::watt_hour, 3.6e9, 1.0},
                               {"humidity", Unit::percent_rh, 41500, 41.5},
                               {"fan_speed", Unit::rpm, 4200, 4200}};
  for (std::size_t i = 0; i < pts.size(); ++i) {
    SCOPED_TRACE(pts[i].name);
    EXPECT_EQ(pts[i].quantity, want[i].quantity);
    EXPECT_EQ(pts[i].unit, want[i].unit);
    EXPECT_EQ(pts[i].from.canonical, want[i].unit);
    EXPECT_NEAR(want[i].raw * pts[i].from.factor + pts[i].from.offset, want[i].canonical, 1e-9);
  }
  const auto& s = settings_of(*cfg);
  EXPECT_EQ(s.root, kRoot);
  ASSERT_EQ(s.points.size(), 7u);
  EXPECT_EQ(s.points[0].by, HwmonSelector::By::sensor);
  EXPECT_EQ(s.points[0].chip, "coretemp");
  EXPECT_EQ(s.points[0].attribute, "input");
  EXPECT_EQ(s.points[3].attribute, "average");
  EXPECT_EQ(s.points[3].sensor.kind, HwmonKind::power);
  EXPECT_EQ(s.points[3].sensor.channel, 1u);
}

TEST(HwmonConfig, LabelTakesItsKindFromTheQuantity) {
  const auto text = hwmon_config_text(
      kRoot,
      "      - {name: pkg, chip: coretemp, label: ' Package id 0 ', quantity: temperature}\n"
      "      - {name: vin, chip: ina3221, label: VIN, unit: V, index: 0}\n");
  Diagnostics diags;
  auto cfg = parse(text, diags);
  ASSERT_TRUE(cfg) << dump(diags);
  const auto& s = settings_of(*cfg);
  EXPECT_EQ(s.points[0].by, HwmonSelector::By::label);
  EXPECT_EQ(s.points[0].label, "Package id 0");
  EXPECT_EQ(s.points[0].sensor.kind, HwmonKind::temp);
  EXPECT_FALSE(s.points[0].index);
  EXPECT_EQ(s.points[1].sensor.kind, HwmonKind::in);
  EXPECT_EQ(s.points[1].index, 0u);
  const auto& pts = cfg->sources.at(0).points;
  EXPECT_DOUBLE_EQ(pts[0].from.factor, 1e-3);
  EXPECT_EQ(pts[1].quantity, "voltage");
  EXPECT_DOUBLE_EQ(pts[1].from.factor, 1e-3);
}

TEST(HwmonConfig, PathInfersFromItsFileName) {
  const auto text = hwmon_config_text(kRoot,
                                      "      - {name: p, path: hwmon3/power2_input}\n"
                                      "      - {name: odd, path: hwmon3/device/foo, unit: W}\n");
  Diagnostics diags;
  auto cfg = parse(text, diags);
  ASSERT_TRUE(cfg) << dump(diags);
  const auto& pts = cfg->sources.at(0).points;
  EXPECT_EQ(pts[0].quantity, "power");
  EXPECT_DOUBLE_EQ(pts[0].from.factor, 1e-6);
  // Outside the naming scheme nothing is inferred: the user's unit stands.
  EXPECT_EQ(pts[1].unit, Unit::watt);
  EXPECT_DOUBLE_EQ(pts[1].from.factor, 1.0);
  EXPECT_EQ(settings_of(*cfg).points[0].path, "hwmon3/power2_input");
}

TEST(HwmonConfig, ExplicitFromUnitWins) {
  const auto text =
      hwmon_config_text(kRoot, "      - {name: t, chip: odd, sensor: temp1, from_unit: degC}\n");
  Diagnostics diags;
  auto cfg = parse(text, diags);
  ASSERT_TRUE(cfg) << dump(diags);
  const auto& p = cfg->sources.at(0).points.at(0);
  EXPECT_EQ(p.quantity, "temperature");
  EXPECT_DOUBLE_EQ(p.from.factor, 1.0);
}

TEST(HwmonConfig, DefaultRoot) {
  const std::string text =
      "agent: {site: hall1, rack: r01}\n"
      "mqtt: {brokers: ['tcp://127.0.0.1:1883']}\n"
      "sources:\n"
      "  - {name: hw, type: hwmon, interval: 5s, points: [{name: t, chip: k10temp, sensor: "
      "temp1}]}\n";
  Diagnostics diags;
  auto cfg = parse(text, diags);
  ASSERT_TRUE(cfg) << dump(diags);
  EXPECT_EQ(settings_of(*cfg).root, "/sys/class/hwmon");
}

TEST(HwmonConfig, MissingChip) {
  const auto text = hwmon_config_text(kRoot,
                                      "      - name: ok\n"
                                      "        chip: coretemp\n"
                                      "        sensor: temp1\n"
                                      "      - name: nochip\n"
                                      "        sensor: temp2\n");
  expect_error(text, "point 'nochip': 'chip' is required", "name: nochip");
}

TEST(HwmonConfig, NoSelection) {
  const auto text = hwmon_config_text(kRoot,
                                      "      - name: lost\n"
                                      "        chip: coretemp\n"
                                      "        quantity: temperature\n");
  expect_error(text, "point 'lost': give one of label, sensor or path", "name: lost");
}

TEST(HwmonConfig, TwoSelections) {
  const auto text = hwmon_config_text(kRoot,
                                      "      - name: both\n"
                                      "        chip: coretemp\n"
                                      "        label: Core 0\n"
                                      "        quantity: temperature\n"
                                      "        sensor: temp2\n");
  expect_error(text,
               "point 'both': give only one of label, sensor or path (found label and sensor)",
               "sensor: temp2");
}

TEST(HwmonConfig, QuantityMismatch) {
  const auto text = hwmon_config_text(kRoot,
                                      "      - name: hot\n"
                                      "        chip: coretemp\n"
                                      "        sensor: temp1\n"
                                      "        quantity: power\n");
  expect_error(
      text, "point 'hot': quantity 'power' does not match temp1_input, which measures temperature",
      "quantity: power");
}

TEST(HwmonConfig, UnitMismatch) {
  const auto text = hwmon_config_text(kRoot,
                                      "      - name: volts\n"
                                      "        chip: ina3221\n"
                                      "        sensor: in1\n"
                                      "        unit: A\n");
  expect_error(text, "point 'volts': unit A does not fit in1_input, which measures voltage in V",
               "unit: A");
}

TEST(HwmonConfig, LabelNeedsAQuantity) {
  const auto text = hwmon_config_text(kRoot,
                                      "      - name: pkg\n"
                                      "        chip: coretemp\n"
                                      "        label: Package id 0\n");
  expect_error(text, "point 'pkg': a point selected by label needs a quantity", "name: pkg");
}

TEST(HwmonConfig, LabelWithAQuantityHwmonLacks) {
  const auto text = hwmon_config_text(kRoot,
                                      "      - name: dp\n"
                                      "        chip: cdu\n"
                                      "        label: delta\n"
                                      "        quantity: pressure\n");
  expect_error(text, "point 'dp': hwmon has no sensors of quantity 'pressure'",
               "quantity: pressure");
}

TEST(HwmonConfig, BadSensorSaysHowToWriteIt) {
  const auto text = hwmon_config_text(kRoot,
                                      "      - name: t\n"
                                      "        chip: coretemp\n"
                                      "        sensor: temp1_max\n");
  expect_error(text, "write sensor: temp1 and attribute: max", "sensor: temp1_max");
}

TEST(HwmonConfig, UnknownAttribute) {
  const auto text = hwmon_config_text(kRoot,
                                      "      - name: t\n"
                                      "        chip: coretemp\n"
                                      "        sensor: temp1\n"
                                      "        attribute: alarm\n");
  expect_error(text, "point 't': unknown attribute 'alarm'", "attribute: alarm");
}

TEST(HwmonConfig, PathRules) {
  expect_error(hwmon_config_text(kRoot,
                                 "      - name: abs\n"
                                 "        path: /etc/passwd\n"
                                 "        unit: W\n"),
               "point 'abs': 'path' must be relative to the root", "path: /etc/passwd");
  expect_error(hwmon_config_text(kRoot,
                                 "      - name: up\n"
                                 "        unit: W\n"
                                 "        path: hwmon0/../../x\n"),
               "point 'up': 'path' must be relative to the root", "path: hwmon0/..");
  expect_error(hwmon_config_text(kRoot,
                                 "      - name: pc\n"
                                 "        path: hwmon0/temp1_input\n"
                                 "        chip: coretemp\n"),
               "point 'pc': 'chip' does not apply with 'path'", "chip: coretemp");
}

TEST(HwmonConfig, IndexRange) {
  expect_error(hwmon_config_text(kRoot,
                                 "      - name: neg\n"
                                 "        chip: coretemp\n"
                                 "        sensor: temp1\n"
                                 "        index: -1\n"),
               "point 'neg': 'index' must be 0 to", "index: -1");
}

TEST(HwmonConfig, RootMustBeAbsolute) {
  const auto text =
      hwmon_config_text("relative/hwmon", "      - {name: t, chip: c, sensor: temp1}\n");
  expect_error(text, "'root' must be an absolute path", "root: 'relative/hwmon'");
}

TEST(HwmonConfig, UnknownPointKeyIsReported) {
  const auto text = hwmon_config_text(kRoot,
                                      "      - name: t\n"
                                      "        chp: coretemp\n"
                                      "        chip: coretemp\n"
                                      "        sensor: temp1\n");
  expect_error(text, "unknown key 'chp'", "chp: coretemp");
}

TEST(HwmonConfig, ReportsEveryBadPoint) {
  const auto text =
      hwmon_config_text(kRoot,
                        "      - {name: a, sensor: temp1}\n"
                        "      - {name: b, chip: x, sensor: bogus1}\n"
                        "      - {name: c, chip: x, sensor: fan1, quantity: voltage}\n");
  Diagnostics diags;
  EXPECT_FALSE(parse(text, diags));
  EXPECT_TRUE(find_diagnostic(diags, "point 'a': 'chip' is required")) << dump(diags);
  EXPECT_TRUE(find_diagnostic(diags, "point 'b': sensor 'bogus1'")) << dump(diags);
  EXPECT_TRUE(find_diagnostic(diags, "point 'c': quantity 'voltage' does not match fan1_input"))
      << dump(diags);
}

}  // namespace
}  // namespace rackwatch
