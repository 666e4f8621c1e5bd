// SunSpec discovery in the running agent: rackwatchd reads a meter whose
// model 203 sits behind model 1 and a 213 in a chain from 50000, publishes
// its readings good, and publishes the catalog again — same catalog id —
// with the device as its common model describes it (manufacturer, model,
// serial number, version). `rackwatch probe` shows the base, the chain with
// addresses and the models read.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "core/config.hpp"
#include "core/diagnostics.hpp"
#include "rackwatch/v1/telemetry.pb.h"
#include "sources/builtin/builtin_types.hpp"
#include "support/modbus_expected.hpp"
#include "support/modbus_peer.hpp"
#include "support/modbus_profile_maps.hpp"
#include "support/mosquitto.hpp"
#include "support/process.hpp"
#include "support/run.hpp"
#include "support/sunspec_image.hpp"
#include "support/temp_dir.hpp"
#include "support/test_subscriber.hpp"

namespace rackwatch::test {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

const std::string kTopics = "rackwatch/v1/hall-s/r11";

class ModbusSunSpecDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_.start();
    const std::string profile = source_path("config/profiles/sunspec-203-meter.yaml");
    // The map: "SunS" at 50000, 1, 213, then 203 at 50196 (data from
    // 50198, 10126 past the profile's 40072), every point in its range.
    const Skeleton sk = skeleton(50000, {{1, 66}, {213, 124}, {203, 105}}, strings_);
    ProfileSpec spec = read_profile_yaml(profile);
    for (auto& p : spec.points) {
      p.address += 10126;
      if (p.scale_factor) *p.scale_factor += 10126;
    }
    auto agent_text = [&](const std::string& endpoint) {
      return R"(agent: {site: hall-s, rack: r11, id: sunspec-agent}
mqtt:
  brokers: [)" + broker_.uri() + R"(]
outbox: {dir: )" + (dir_ / "outbox").string() + R"(}
diag: {socket: )" + (dir_ / "diag.sock").string() + R"(}
sources:
  - {name: meter, type: modbus, interval: 300ms, tcp: ')" + endpoint + "', unit: 1, profile: " + profile +
             R"(, sunspec: {base: auto}}
)";
    };
    Diagnostics diags;
    const auto placeholder = parse_config(agent_text("127.0.0.1:1"), (dir_ / "agent.yaml").string(),
                                          builtin_source_types(), diags);
    ASSERT_TRUE(placeholder);
    ModbusPeer::Options options;
    options.unit_maps = {{1, "holding 40000-40001 unreadable\n" + sk.map +
                                 MapWriter(spec, placeholder->sources[0].points).normal()}};
    peer_.emplace(options);
    write_file(dir_ / "agent.yaml", agent_text(peer_->endpoint()));
  }

  TempDir dir_{"rackwatch-sunspec-daemon"};
  Mosquitto broker_;
  std::optional<ModbusPeer> peer_;
  Strings strings_;
};

TEST_F(ModbusSunSpecDaemonTest, TheCatalogCarriesWhatTheMeterSaysItIs) {
  TestSubscriber sub(broker_.uri(), kTopics + "/#");
  Process agent({bin("rackwatchd"), "--config", (dir_ / "agent.yaml").string()}, dir_.path());

  auto catalog_with_device = [](const mqtt::const_message_ptr& m) -> std::optional<v1::Catalog> {
    if (m->get_topic() != kTopics + "/catalog") return std::nullopt;
    v1::Catalog c;
    if (!c.ParseFromString(m->get_payload_str()) || c.devices_size() == 0) return std::nullopt;
    return c;
  };
  const auto found = sub.wait_for([&](const auto& m) { return catalog_with_device(m).has_value(); }, 15s);
  ASSERT_TRUE(found) << agent.log();
  const v1::Catalog catalog = *catalog_with_device(*found);
  ASSERT_EQ(catalog.devices_size(), 1);
  const auto& device = catalog.devices(0);
  EXPECT_EQ(device.name(), "meter");
  EXPECT_EQ(device.manufacturer(), strings_.manufacturer);
  EXPECT_EQ(device.model(), strings_.model);
  EXPECT_EQ(device.serial_number(), strings_.serial);
  EXPECT_EQ(device.version(), strings_.version);
  EXPECT_EQ(catalog.points_size(), 19);
  EXPECT_EQ(catalog.points(0).id(), "meter.current_total");
  // The devices are not points: the catalog id stays what it was before
  // discovery, and telemetry refers to it.
  for (const auto& m : sub.messages()) {
    if (m->get_topic() != kTopics + "/catalog") continue;
    v1::Catalog c;
    ASSERT_TRUE(c.ParseFromString(m->get_payload_str()));
    EXPECT_EQ(c.catalog_id(), catalog.catalog_id());
  }

  auto good_telemetry = [&](const mqtt::const_message_ptr& m) {
    if (m->get_topic() != kTopics + "/telemetry") return false;
    v1::Telemetry t;
    if (!t.ParseFromString(m->get_payload_str()) || t.samples_size() != 19) return false;
    for (const auto& s : t.samples()) {
      if (s.quality() != v1::QUALITY_GOOD) return false;
    }
    return t.catalog_id() == catalog.catalog_id();
  };
  EXPECT_TRUE(sub.wait_for(good_telemetry, 10s)) << agent.log();
  EXPECT_THAT(agent.log(), HasSubstr("SunSpec model 203 at holding register 50196, \"SunS\" at 50000"));
}

TEST_F(ModbusSunSpecDaemonTest, ProbeShowsTheChainAndTheDevice) {
  auto r = run({bin("rackwatch"), "probe", "--config", (dir_ / "agent.yaml").string(), "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto doc = boost::json::parse(r.out).as_object();
  const auto& devices = doc.at("devices").as_array();
  ASSERT_EQ(devices.size(), 1u);
  const auto& meter = devices[0].as_object();
  const auto& info = meter.at("device").as_object();
  EXPECT_EQ(info.at("manufacturer").as_string(), strings_.manufacturer);
  EXPECT_EQ(info.at("model").as_string(), strings_.model);
  EXPECT_EQ(info.at("serial_number").as_string(), strings_.serial);
  EXPECT_EQ(info.at("version").as_string(), strings_.version);
  std::string notes;
  for (const auto& n : meter.at("notes").as_array()) notes += std::string(n.as_string()) + "\n";
  EXPECT_THAT(notes, HasSubstr("SunSpec \"SunS\" at holding register 50000 (base auto; 0: 0x0000 0x0000; 40000: "
                               "exception 0x02 illegal data address)"));
  EXPECT_THAT(notes, HasSubstr("SunSpec chain: 1 at 50002 (66), 213 at 50070 (124), 203 at 50196 (105), end at 50303"));
  EXPECT_THAT(notes, HasSubstr("SunSpec models read: 1 (common: device info), 203 (the profile's, data from 50198); "
                               "skipped: 213"));
  EXPECT_EQ(meter.at("counters").at("sunspec_discoveries").to_number<int>(), 1);

  auto human = run({bin("rackwatch"), "probe", "--config", (dir_ / "agent.yaml").string()});
  EXPECT_EQ(human.exit_code, 0) << human.out << human.err;
  EXPECT_THAT(human.out, HasSubstr("meter: SunSpec chain: 1 at 50002 (66), 213 at 50070 (124), 203 at 50196 (105)"));
  EXPECT_THAT(human.out, HasSubstr("meter: device: manufacturer \"Rackwatch Test Meters\", model \"RT-3Y 400V\""));
}

}  // namespace
}  // namespace rackwatch::test
