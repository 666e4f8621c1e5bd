// `rackwatch probe` on a fake hwmon tree, as an operator would run it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>

#include "support/run.hpp"

namespace rackwatch::test {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

class ProbeHwmonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Readable by an unprivileged user too: the unreadable-file case runs
    // the probe as one when the test runs as root.
    fs::permissions(dir_.path(), fs::perms::owner_all | fs::perms::group_read |
                                     fs::perms::group_exec | fs::perms::others_read |
                                     fs::perms::others_exec);
    const auto root = dir_ / "hwmon";
    // Numbered out of order on purpose: chips are found by name, not number.
    write_file(root / "hwmon3/name", "coretemp\n");
    write_file(root / "hwmon3/temp1_label", "Package id 0\n");
    write_file(root / "hwmon3/temp1_input", "45250\n");
    write_file(root / "hwmon3/temp2_label", "Core 0\n");
    write_file(root / "hwmon3/temp2_input", "garbage\n");
    write_file(root / "hwmon1/name", "ina3221\n");
    write_file(root / "hwmon1/power1_input", "12500000\n");  // µW
    write_file(root / "hwmon1/curr1_input", "1500\n");       // mA
    write_file(root / "hwmon1/in1_input", "12050\n");        // mV
    write_file(root / "hwmon1/energy1_input", "7200000000\n");  // µJ = 2 Wh
    write_file(root / "hwmon1/fan1_input", "9000\n");
    write_file(root / "hwmon1/curr2_input", "2000\n");       // made unreadable below
    write_file(root / "hwmon0/name", "sht3x\n");
    write_file(root / "hwmon0/humidity1_input", "45500\n");  // m%RH
    chmod((root / "hwmon1/curr2_input").c_str(), 0);
    write_file(dir_ / "probe.yaml", R"(agent: {site: s, rack: r}
mqtt: {brokers: [tcp://127.0.0.1:1]}
sources:
  - name: board
    type: hwmon
    interval: 1s
    root: )" + root.string() + R"(
    points:
      - {name: package, chip: coretemp, label: Package id 0, quantity: temperature}
      - {name: core0, chip: coretemp, label: Core 0, quantity: temperature}
      - {name: shelf_power, chip: ina3221, sensor: power1}
      - {name: shelf_current, chip: ina3221, sensor: curr1}
      - {name: bus_voltage, chip: ina3221, sensor: in1}
      - {name: energy, chip: ina3221, sensor: energy1}
      - {name: fan, chip: ina3221, sensor: fan1}
      - {name: humidity, chip: sht3x, sensor: humidity1}
      - {name: missing, chip: ina3221, sensor: temp9}
      - {name: locked, chip: ina3221, sensor: curr2}
)");
    chmod((dir_ / "probe.yaml").c_str(), 0644);
  }

  RunResult probe_json() {
    std::vector<std::string> argv{bin("rackwatch"), "probe", "--config", (dir_ / "probe.yaml").string(),
                                  "--json"};
    // Root reads a mode-000 file regardless: probe as nobody to see what the
    // service user would.
    if (geteuid() == 0) {
      argv.insert(argv.begin(), {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"});
    }
    return run(argv);
  }

  TempDir dir_{"rackwatch-probe"};
};

TEST_F(ProbeHwmonTest, ReadsCanonicalValuesAndExplainsBadOnes) {
  auto r = probe_json();
  EXPECT_EQ(r.exit_code, 1) << "some points are bad: exit 1\n" << r.err;
  auto doc = boost::json::parse(r.out);
  std::map<std::string, boost::json::object> by_point;
  for (const auto& v : doc.at("readings").as_array()) {
    const auto& o = v.as_object();
    EXPECT_EQ(o.at("source").as_string(), "board");
    by_point[std::string(o.at("point").as_string())] = o;
  }
  ASSERT_EQ(by_point.size(), 10u) << r.out;
  auto value = [&](const char* p) { return by_point.at(p).at("value").to_number<double>(); };
  auto unit = [&](const char* p) { return std::string(by_point.at(p).at("unit").as_string()); };
  auto quality = [&](const char* p) { return std::string(by_point.at(p).at("quality").as_string()); };
  auto reason = [&](const char* p) {
    auto& o = by_point.at(p);
    return o.contains("reason") ? std::string(o.at("reason").as_string()) : std::string();
  };

  EXPECT_DOUBLE_EQ(value("package"), 45.25);
  EXPECT_EQ(unit("package"), "°C");
  EXPECT_DOUBLE_EQ(value("shelf_power"), 12.5);
  EXPECT_EQ(unit("shelf_power"), "W");
  EXPECT_DOUBLE_EQ(value("shelf_current"), 1.5);
  EXPECT_EQ(unit("shelf_current"), "A");
  EXPECT_DOUBLE_EQ(value("bus_voltage"), 12.05);
  EXPECT_EQ(unit("bus_voltage"), "V");
  EXPECT_NEAR(value("energy"), 2.0, 1e-12);
  EXPECT_EQ(unit("energy"), "Wh");
  EXPECT_DOUBLE_EQ(value("fan"), 9000);
  EXPECT_EQ(unit("fan"), "RPM");
  EXPECT_DOUBLE_EQ(value("humidity"), 45.5);
  EXPECT_EQ(unit("humidity"), "%RH");
  for (const char* good : {"package", "shelf_power", "shelf_current", "bus_voltage", "energy", "fan",
                           "humidity"}) {
    EXPECT_EQ(quality(good), "good") << good << ": " << reason(good);
  }

  EXPECT_EQ(quality("core0"), "bad");
  EXPECT_TRUE(by_point.at("core0").at("value").is_null());
  EXPECT_THAT(reason("core0"), HasSubstr("garbage"));
  EXPECT_THAT(reason("core0"), HasSubstr("temp2_input"));
  EXPECT_EQ(quality("missing"), "bad");
  EXPECT_THAT(reason("missing"), HasSubstr("temp9_input"));
  EXPECT_EQ(quality("locked"), "bad");
  EXPECT_THAT(reason("locked"), HasSubstr("permission denied"));
}

TEST_F(ProbeHwmonTest, TableOutputForPeople) {
  auto r = run({bin("rackwatch"), "probe", "--config", (dir_ / "probe.yaml").string(), "--source",
                "board"});
  EXPECT_THAT(r.out, HasSubstr("SOURCE"));
  EXPECT_THAT(r.out, HasSubstr("package"));
  EXPECT_THAT(r.out, HasSubstr("45.25"));
  auto unknown = run({bin("rackwatch"), "probe", "--config", (dir_ / "probe.yaml").string(),
                      "--source", "nope"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(unknown.err, HasSubstr("no source named 'nope'"));
}

}  // namespace
}  // namespace rackwatch::test
