#include "sources/hwmon/hwmon_tree.hpp"

#include <gtest/gtest.h>

#include "hwmon_fake_sysfs.hpp"

namespace rackwatch {
namespace {

using test::FakeSysfs;

TEST(HwmonTree, ListsChipsInNumericOrder) {
  FakeSysfs fs;
  fs.write("hwmon10/name", "ten");
  fs.write("hwmon2/name", "two");
  fs.write("hwmon0/name", "zero");
  fs.write("hwmon3/device/name", "old");
  fs.make_dir("hwmon4");           // no name anywhere: not a chip
  fs.write("notachip/name", "x");  // not hwmonN
  HwmonTree tree(fs.root());
  std::string error;
  const auto& chips = tree.chips(error);
  EXPECT_TRUE(error.empty()) << error;
  ASSERT_EQ(chips.size(), 4u);
  EXPECT_EQ(chips[0].name, "zero");
  EXPECT_EQ(chips[1].name, "two");
  EXPECT_EQ(chips[2].name, "old");
  EXPECT_EQ(chips[2].dir, fs.path("hwmon3/device"));
  EXPECT_EQ(chips[3].name, "ten");
  EXPECT_EQ(chips[3].number, 10u);
}

TEST(HwmonTree, ResolvesSelectors) {
  FakeSysfs fs;
  fs.populate();
  HwmonTree tree(fs.root());

  HwmonSelector by_label;
  by_label.by = HwmonSelector::By::label;
  by_label.chip = "ina3221";
  by_label.label = "VIN";
  by_label.sensor.kind = HwmonKind::in;
  auto r = tree.resolve(by_label);
  ASSERT_TRUE(r.location) << r.error;
  EXPECT_EQ(r.location->file, fs.path("hwmon1/in1_input"));
  EXPECT_EQ(r.location->label_file, fs.path("hwmon1/in1_label"));

  // The label belongs to a voltage channel, not to a current one.
  by_label.sensor.kind = HwmonKind::curr;
  r = tree.resolve(by_label);
  EXPECT_FALSE(r.location);
  EXPECT_EQ(r.error, "chip 'ina3221' has no sensor labelled 'VIN' (searched curr*_label)");

  HwmonSelector by_sensor;
  by_sensor.chip = "coretemp";
  by_sensor.sensor = {HwmonKind::temp, 2};
  by_sensor.attribute = "max";
  r = tree.resolve(by_sensor);
  ASSERT_TRUE(r.location) << r.error;
  EXPECT_EQ(r.location->file, fs.path("hwmon0/temp2_max"));
  EXPECT_EQ(r.location->chip_name, "coretemp");

  HwmonSelector by_path;
  by_path.by = HwmonSelector::By::path;
  by_path.path = "hwmon4/fan1_input";
  r = tree.resolve(by_path);
  ASSERT_TRUE(r.location);
  EXPECT_EQ(r.location->file, fs.path("hwmon4/fan1_input"));
}

TEST(HwmonTree, NoticesAnotherChipUnderTheSameNumber) {
  FakeSysfs fs;
  fs.populate();
  HwmonSelector sel;
  sel.chip = "ina3221";
  sel.sensor = {HwmonKind::power, 1};
  HwmonLocation location;
  {
    HwmonTree tree(fs.root());
    auto r = tree.resolve(sel);
    ASSERT_TRUE(r.location);
    location = *r.location;
    EXPECT_TRUE(tree.is_current(location));
  }
  fs.rename("hwmon1", "hwmon9");
  fs.rename("hwmon2", "hwmon1");
  HwmonTree tree(fs.root());
  EXPECT_FALSE(tree.is_current(location));
  auto r = tree.resolve(sel);
  ASSERT_TRUE(r.location);
  EXPECT_EQ(r.location->file, fs.path("hwmon9/power1_input"));
}

TEST(HwmonTree, JoinsPaths) {
  EXPECT_EQ(hwmon_join("/a", "b"), "/a/b");
  EXPECT_EQ(hwmon_join("/a/", "b"), "/a/b");
}

}  // namespace
}  // namespace rackwatch
