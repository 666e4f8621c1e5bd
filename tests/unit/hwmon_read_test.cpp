#include "sources/hwmon/hwmon_read.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>

#include "hwmon_fake_sysfs.hpp"

namespace rackwatch {
namespace {

using test::FakeSysfs;

TEST(HwmonRead, ParsesSysfsIntegers) {
  EXPECT_EQ(parse_sysfs_integer("45000\n"), 45000.0);
  EXPECT_EQ(parse_sysfs_integer("-1500\n"), -1500.0);
  EXPECT_EQ(parse_sysfs_integer("  7 \n"), 7.0);
  EXPECT_EQ(parse_sysfs_integer("0"), 0.0);
  // Past int64: an energy counter near its wrap-around.
  EXPECT_EQ(parse_sysfs_integer("18446744073709551615\n"), 18446744073709551615.0);
  for (auto bad : {"", "\n", "N/A\n", "12.5\n", "45000 mC", "0x10", "+5", "1 2", "-",
                   "-99999999999999999999"}) {
    EXPECT_FALSE(parse_sysfs_integer(bad)) << '"' << bad << '"';
  }
}

TEST(HwmonRead, ReadsAnAttribute) {
  FakeSysfs fs;
  fs.write("hwmon0/temp1_input", "45000");
  auto r = read_integer_file(fs.path("hwmon0/temp1_input"));
  ASSERT_TRUE(r.value) << r.reason;
  EXPECT_EQ(*r.value, 45000.0);
  EXPECT_TRUE(r.reason.empty());
}

TEST(HwmonRead, MissingFileIsNamed) {
  FakeSysfs fs;
  const auto p = fs.path("hwmon0/temp9_input");
  auto r = read_integer_file(p);
  EXPECT_FALSE(r.value);
  EXPECT_EQ(r.error, ENOENT);
  EXPECT_EQ(r.reason, "no such file: " + p);
}

TEST(HwmonRead, GarbageIsQuoted) {
  FakeSysfs fs;
  fs.write("t", "N/A");
  auto r = read_integer_file(fs.path("t"));
  EXPECT_FALSE(r.value);
  EXPECT_EQ(r.error, 0);
  EXPECT_EQ(r.reason, "not an integer: 'N/A' in " + fs.path("t"));

  fs.write("bin", std::string("4\x01\xff", 3), false);
  EXPECT_EQ(read_integer_file(fs.path("bin")).reason,
            "not an integer: '4\\x01\\xff' in " + fs.path("bin"));

  fs.write("empty", "", false);
  EXPECT_EQ(read_integer_file(fs.path("empty")).reason,
            "not an integer: '' in " + fs.path("empty"));
}

TEST(HwmonRead, OverlongFileIsNotAnInteger) {
  FakeSysfs fs;
  // A number that fits the read buffer, followed by more than fits.
  fs.write("long", "45000" + std::string(70, ' ') + "x");
  auto r = read_integer_file(fs.path("long"));
  EXPECT_FALSE(r.value);
  EXPECT_NE(r.reason.find("not an integer: '45000"), std::string::npos) << r.reason;
  EXPECT_NE(r.reason.find("...'"), std::string::npos) << r.reason;
}

TEST(HwmonRead, DirectoryGivesStrerror) {
  FakeSysfs fs;
  fs.make_dir("hwmon0/temp1_input");
  auto r = read_integer_file(fs.path("hwmon0/temp1_input"));
  EXPECT_FALSE(r.value);
  EXPECT_EQ(r.error, EISDIR);
  EXPECT_EQ(r.reason, "is a directory: " + fs.path("hwmon0/temp1_input"));
}

TEST(HwmonRead, UnreadableFileIsPermissionDenied) {
  if (::geteuid() == 0) GTEST_SKIP() << "running as root: chmod 000 does not stop root reading";
  FakeSysfs fs;
  fs.write("secret", "1");
  fs.chmod("secret", 0);
  auto r = read_integer_file(fs.path("secret"));
  EXPECT_FALSE(r.value);
  EXPECT_EQ(r.error, EACCES);
  EXPECT_EQ(r.reason, "permission denied: " + fs.path("secret"));
}

TEST(HwmonRead, DescribesErrnos) {
  EXPECT_EQ(describe_read_error(ENODATA, "/x"), "no data (sensor disabled): /x");
  EXPECT_EQ(describe_read_error(EIO, "/x"), "input/output error: /x");
  EXPECT_EQ(describe_read_error(EPERM, "/x"), "permission denied: /x");
  EXPECT_EQ(describe_read_error(ENXIO, "/x"), "no such device or address: /x");
}

TEST(HwmonRead, ReadsSmallFilesWithinLimit) {
  FakeSysfs fs;
  fs.write("name", "coretemp");
  auto f = read_small_file(fs.path("name"));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f.text, "coretemp\n");
  auto cut = read_small_file(fs.path("name"), 4);
  EXPECT_EQ(cut.text, "core");
  EXPECT_EQ(trim_sysfs(" a b \n"), "a b");
}

}  // namespace
}  // namespace rackwatch
