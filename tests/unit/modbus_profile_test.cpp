// Device profiles: every shipped profile loads and is sound (no register of
// one point inside another's, scale factors and bits where they make sense,
// nothing read from a range the profile marks unreadable); broken profiles
// are reported at the line of the mistake.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "sources/modbus/modbus_profile.hpp"
#include "sources/profile_file.hpp"
#include "support/shipped_profiles.hpp"
#include "support/temp_dir.hpp"

namespace rackwatch::modbus {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::vector<fs::path> shipped_profiles() { return test::shipped_profiles(ProfileKind::modbus); }
using test::lines_of;

bool overlaps(const RegisterRange& a, const RegisterRange& b) {
  return a.table == b.table && a.address < b.address + b.count && b.address < a.address + a.count;
}

TEST(ModbusProfileTest, TheProfilesAreShipped) {
  std::set<std::string> names;
  for (const auto& p : shipped_profiles()) names.insert(p.stem().string());
  for (const char* expected : {"orv3-psu", "orv3-bbu", "orv3-rpu", "sunspec-201-meter", "sunspec-202-meter",
                               "sunspec-203-meter", "sunspec-204-meter", "rdhx-cdab"}) {
    EXPECT_TRUE(names.count(expected)) << expected;
  }
}

TEST(ModbusProfileTest, EveryShippedProfileLoadsAndIsSound) {
  for (const auto& path : shipped_profiles()) {
    SCOPED_TRACE(path.string());
    Diagnostics d;
    auto profile = load_profile(path.string(), d);
    ASSERT_TRUE(profile) << lines_of(d);
    EXPECT_FALSE(profile->description.empty());
    ASSERT_GE(profile->points.size(), 8u);
    std::set<std::uint32_t> scale_factors;
    for (const auto& p : profile->points) {
      if (p.registers.scale_factor_address) scale_factors.insert(*p.registers.scale_factor_address);
    }
    for (std::size_t i = 0; i < profile->points.size(); ++i) {
      const auto& a = profile->points[i];
      SCOPED_TRACE(a.point.name);
      EXPECT_NE(a.point.unit, Unit::unspecified);
      for (const auto& u : profile->unreadable) EXPECT_FALSE(overlaps(a.registers.range(), u));
      // Registers of two points only meet when both are bits of one register.
      for (std::size_t k = i + 1; k < profile->points.size(); ++k) {
        const auto& b = profile->points[k];
        if (!overlaps(a.registers.range(), b.registers.range())) continue;
        EXPECT_TRUE(a.registers.format.type == ValueType::bit && b.registers.format.type == ValueType::bit)
            << a.point.name << " and " << b.point.name << " share registers";
        if (a.registers.range() == b.registers.range()) {
          EXPECT_NE(a.registers.format.bit, b.registers.format.bit) << b.point.name;
        }
      }
      // A scale factor is its own register, not a point's value.
      if (auto sf = a.registers.scale_factor_range()) {
        for (const auto& b : profile->points) EXPECT_FALSE(overlaps(*sf, b.registers.range())) << b.point.name;
      }
    }
  }
}

TEST(ModbusProfileTest, SunSpecMeterUsesScaleFactorsAndOrv3UsesFixedPoint) {
  Diagnostics d;
  auto meter = load_profile(std::string(RACKWATCH_SOURCE_DIR) + "/config/profiles/sunspec-203-meter.yaml", d);
  ASSERT_TRUE(meter) << lines_of(d);
  for (const auto& p : meter->points) {
    EXPECT_EQ(p.registers.format.scaling, Scaling::scale_factor) << p.point.name;
    EXPECT_TRUE(p.registers.format.sentinels) << p.point.name;
  }
  auto psu = load_profile(std::string(RACKWATCH_SOURCE_DIR) + "/config/profiles/orv3-psu.yaml", d);
  ASSERT_TRUE(psu) << lines_of(d);
  const auto* v = psu->find("output_voltage");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->registers.format.scaling, Scaling::fixed_point);
  auto rdhx = load_profile(std::string(RACKWATCH_SOURCE_DIR) + "/config/profiles/rdhx-cdab.yaml", d);
  ASSERT_TRUE(rdhx) << lines_of(d);
  std::size_t swapped = 0;
  for (const auto& p : rdhx->points) {
    swapped += p.registers.format.type == ValueType::f32 && p.registers.format.order == WordOrder::cdab;
  }
  EXPECT_GE(swapped, 5u);
}

// The SunSpec meters: each names its model, and every register it reads
// (a point's, a scale factor's) lies in that model's data.
TEST(ModbusProfileTest, SunSpecMetersNameTheirModels) {
  for (int model : {201, 202, 203, 204}) {
    SCOPED_TRACE(model);
    Diagnostics d;
    auto meter = load_profile(std::string(RACKWATCH_SOURCE_DIR) + "/config/profiles/sunspec-" +
                                  std::to_string(model) + "-meter.yaml",
                              d);
    ASSERT_TRUE(meter) << lines_of(d);
    ASSERT_TRUE(meter->sunspec);
    EXPECT_EQ(meter->sunspec->id, model);
    EXPECT_EQ(meter->sunspec->length, 105);
    EXPECT_EQ(meter->sunspec->data_start, 40072);
    for (const auto& p : meter->points) {
      EXPECT_EQ(p.registers.format.scaling, Scaling::scale_factor) << p.point.name;
      EXPECT_GE(p.registers.address, 40072) << p.point.name;
      EXPECT_LT(p.registers.address + p.registers.range().count, 40072 + 105 + 1) << p.point.name;
    }
  }
}

// Fault and leak bits are alarms out of the box; nothing else carries limits.
TEST(ModbusProfileTest, EveryFaultAndLeakBitOfAShippedProfileIsAnAlarm) {
  std::size_t alarms = 0;
  for (const auto& path : shipped_profiles()) {
    Diagnostics d;
    auto profile = load_profile(path.string(), d);
    ASSERT_TRUE(profile) << lines_of(d);
    for (const auto& p : profile->points) {
      SCOPED_TRACE(path.stem().string() + " " + p.point.name);
      if (p.point.quantity == "fault" || p.point.quantity == "leak") {
        ASSERT_TRUE(p.point.thresholds);
        EXPECT_EQ(p.point.thresholds->alarm_state, 1.0);
        ++alarms;
      } else {
        EXPECT_FALSE(p.point.thresholds);
      }
    }
  }
  EXPECT_EQ(alarms, 16u);
}

class ModbusProfileFileTest : public ::testing::Test {
 protected:
  std::optional<Profile> load(const std::string& text) {
    std::ofstream(dir_.path() / "p.yaml") << text;
    return load_profile((dir_.path() / "p.yaml").string(), diags_);
  }
  test::TempDir dir_{"rackwatch-profile"};
  Diagnostics diags_;
};

// A profile is operator input read by the service: bounded like the config.
TEST_F(ModbusProfileFileTest, DeepNestingAndHugeFilesAreRefusedBeforeParsing) {
  EXPECT_FALSE(load("description: x\npoints: " + std::string(50'000, '[') + "\n"));
  ASSERT_EQ(diags_.size(), 1u);
  EXPECT_EQ(diags_.items()[0].message, "nested deeper than 64 levels of [ ] or { }");
  EXPECT_EQ(diags_.items()[0].mark.line, 2);
  diags_ = Diagnostics{};
  EXPECT_FALSE(load("description: x\n# " + std::string(2 << 20, 'x') + "\n"));
  ASSERT_EQ(diags_.size(), 1u);
  EXPECT_EQ(diags_.items()[0].message, "cannot read profile: larger than 1024 KiB");
  // Only a regular file, whatever it claims to be: /dev/zero says 0 bytes and never ends.
  diags_ = Diagnostics{};
  EXPECT_FALSE(load_profile("/dev/zero", diags_));
  ASSERT_EQ(diags_.size(), 1u);
  EXPECT_EQ(diags_.items()[0].message, "cannot read profile: not a regular file (a character device)");
}

TEST_F(ModbusProfileFileTest, DefaultsApplyToEveryPointUnlessItSaysOtherwise) {
  auto p = load(R"(description: test
defaults: {table: input, type: s16, sentinels: false, quantity: temperature}
points:
  - {name: a, address: 0x10}
  - {name: b, address: 17, type: f32, order: cdab, table: holding}
  - {name: c, address: 30, precision: 7}
)");
  ASSERT_TRUE(p) << lines_of(diags_);
  ASSERT_EQ(p->points.size(), 3u);
  EXPECT_EQ(p->points[0].registers.table, Table::input_register);
  EXPECT_EQ(p->points[0].registers.address, 16);
  EXPECT_EQ(p->points[0].registers.format.type, ValueType::s16);
  EXPECT_FALSE(p->points[0].registers.format.sentinels);
  EXPECT_EQ(p->points[1].registers.table, Table::holding_register);
  EXPECT_EQ(p->points[1].registers.format.order, WordOrder::cdab);
  EXPECT_EQ(p->points[1].registers.range().count, 2);
  EXPECT_EQ(p->points[2].registers.format.scaling, Scaling::fixed_point);
  EXPECT_EQ(p->points[2].registers.format.precision, 7u);
  EXPECT_EQ(p->points[2].point.unit, Unit::degree_celsius);
}

TEST_F(ModbusProfileFileTest, MistakesAreReportedWhereTheyAre) {
  EXPECT_FALSE(load(R"(description: test
defaults: {type: u16, addres: 1}
unreadable:
  - {table: holding, first: 9, last: 3}
points:
  - {name: a, address: 1, quantity: power, type: f99}
  - {name: a, address: 70000, quantity: power}
  - {name: b, quantity: power}
  - {name: c, address: 2, quantity: leak, table: coil, bit: 3}
  - {name: d, address: 3, quantity: power, type: f32, scale_factor: 9}
  - {name: e, address: 4, quantity: power, precision: 3, scale_factor: 9}
  - {name: f, address: 65535, quantity: power, type: u32}
  - {name: g, address: 5}
)"));
  const auto text = lines_of(diags_);
  EXPECT_THAT(text, HasSubstr(":2:23: unknown key 'addres' in the profile's defaults"));
  EXPECT_THAT(text, HasSubstr(":4:38: 'last' must not be below 'first'")) << text;
  EXPECT_THAT(text, HasSubstr(":6:50: unknown type 'f99'"));
  EXPECT_THAT(text, HasSubstr(":7:12: duplicate point name 'a'"));
  EXPECT_THAT(text, HasSubstr(":7:24: 'address' must be a register address 0..65535"));
  EXPECT_THAT(text, HasSubstr(":8:5: missing required key 'address'"));
  EXPECT_THAT(text, HasSubstr("'bit' selects a bit of a register; a coil or discrete input has one"));
  EXPECT_THAT(text, HasSubstr(":10:69: 'scale_factor' applies to integer types only"));
  EXPECT_THAT(text, HasSubstr(":11:72: 'scale_factor' and 'precision' do not go together"));
  EXPECT_THAT(text, HasSubstr(":12:24: the value's registers run past address 65535"));
  EXPECT_THAT(text, HasSubstr(":13:5: point 'g' needs a quantity or a unit"));
}

TEST_F(ModbusProfileFileTest, YamlSyntaxErrorNamesTheFile) {
  EXPECT_FALSE(load("points: [\n"));
  EXPECT_THAT(lines_of(diags_), HasSubstr("p.yaml:"));
  EXPECT_THAT(lines_of(diags_), HasSubstr("YAML syntax"));
}

TEST_F(ModbusProfileFileTest, SunSpecBlockIsCheckedAgainstThePoints) {
  EXPECT_FALSE(load(R"(description: d
sunspec: {model: 203, length: 10, data_start: 100}
points:
  - {name: a, address: 100, type: s16, scale_factor: 104, quantity: power}
  - {name: b, address: 109, type: u32, scale_factor: 104, quantity: energy}
  - {name: c, address: 105, type: s16, scale_factor: 110, quantity: power}
)"));
  auto text = lines_of(diags_);
  EXPECT_THAT(text, HasSubstr("p.yaml:2:10: point 'b' needs holding register 109-110, outside model 203's data "
                              "(holding register 100-109): a SunSpec profile reads only its model"));
  EXPECT_THAT(text, HasSubstr("point 'c' needs holding register 110, outside model 203's data"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("point 'a'")));
  diags_ = Diagnostics{};
  EXPECT_FALSE(load(R"(description: d
sunspec: {model: 65535, length: 0, data_start: 1, extra: 1}
points: [{name: a, address: 100, quantity: power}]
)"));
  text = lines_of(diags_);
  EXPECT_THAT(text, HasSubstr("unknown key 'extra' in the profile's 'sunspec'"));
  EXPECT_THAT(text, HasSubstr("'model' must be a SunSpec model ID 1..65534"));
  EXPECT_THAT(text, HasSubstr("'length' must be the model's length in registers, 1..65535"));
  EXPECT_THAT(text, HasSubstr("'data_start' must be a register address 2..65535"));
}

TEST(ModbusProfileFind, NameIsLookedUpBesideTheConfigThenInstalled) {
  std::vector<std::string> tried;
  const std::string config = std::string(RACKWATCH_SOURCE_DIR) + "/config/rackwatchd.yaml";
  auto found = find_profile("orv3-psu", config, tried);
  ASSERT_TRUE(found);
  EXPECT_EQ(fs::path(*found), fs::path(RACKWATCH_SOURCE_DIR) / "config/profiles/orv3-psu.yaml");
  tried.clear();
  EXPECT_FALSE(find_profile("no-such-model", config, tried));
  ASSERT_EQ(tried.size(), 2u);
  EXPECT_THAT(tried[1], HasSubstr("rackwatch/profiles/no-such-model.yaml"));
  tried.clear();
  EXPECT_TRUE(find_profile("profiles/orv3-bbu.yaml", config, tried)) << "a path, relative to the config";
}

}  // namespace
}  // namespace rackwatch::modbus
