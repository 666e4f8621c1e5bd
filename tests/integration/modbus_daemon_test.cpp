// Modbus end to end: rackwatchd polls two devices behind one Modbus TCP
// gateway (the libmodbus peer) and publishes them to a real Mosquitto — the
// healthy one's values decoded, the silent one's bad with the reason and
// then dormant; `rackwatch probe` reads the same devices and shows their
// health and counters.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "rackwatch/v1/telemetry.pb.h"
#include "support/modbus_peer.hpp"
#include "support/mosquitto.hpp"
#include "support/process.hpp"
#include "support/run.hpp"
#include "support/temp_dir.hpp"
#include "support/test_subscriber.hpp"
#include "support/wait.hpp"

namespace rackwatch::test {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

const std::string kBase = "rackwatch/v1/hall-m/r07";

// 2300 → 2300 W; 3200 / 2^7 = 25 °C; 12.5 L/min as a word-swapped float.
constexpr const char* kMap = "holding 0 u16 2300\nholding 1 s16 3200\nholding 2 f32:cdab 12.5\n";
constexpr const char* kProfile = R"(description: a small test device
points:
  - {name: power, address: 0, quantity: power}
  - {name: temp, address: 1, type: s16, precision: 7, quantity: temperature}
  - {name: flow, address: 2, type: f32, order: cdab, quantity: flow}
)";

class ModbusDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_.start();
    ModbusPeer::Options options;
    options.unit_maps = {{1, kMap}};  // unit 9 is not served: a gateway with no answer for it
    peer_.emplace(options);
    write_file(dir_ / "device.yaml", kProfile);
    write_file(dir_ / "agent.yaml", R"(agent: {site: hall-m, rack: r07, id: modbus-agent}
mqtt:
  brokers: [)" + broker_.uri() + R"(]
  reconnect_min: 100ms
  reconnect_max: 500ms
outbox:
  dir: )" + (dir_ / "outbox").string() + R"(
diag: {socket: )" + (dir_ / "diag.sock").string() + R"(}
sources:
  - {name: psu, type: modbus, interval: 300ms, tcp: ')" + peer_->endpoint() + R"(', unit: 1, profile: )" +
                                         (dir_ / "device.yaml").string() + R"(}
  - {name: ghost, type: modbus, interval: 300ms, tcp: ')" + peer_->endpoint() + R"(', unit: 9, profile: )" +
                                         (dir_ / "device.yaml").string() +
                                         R"(, request_timeout: 100ms, dormant_after: 2, reprobe_min: 1m}
)");
  }

  static std::optional<v1::Telemetry> telemetry(const mqtt::const_message_ptr& m, const std::string& source) {
    if (m->get_topic() != kBase + "/telemetry") return std::nullopt;
    v1::Telemetry t;
    if (!t.ParseFromString(m->get_payload_str()) || t.source() != source) return std::nullopt;
    return t;
  }

  TempDir dir_{"rackwatch-modbus-daemon"};
  Mosquitto broker_;
  std::optional<ModbusPeer> peer_;
};

TEST_F(ModbusDaemonTest, PublishesDecodedValuesAndTheReasonsOfADeadDevice) {
  TestSubscriber sub(broker_.uri(), kBase + "/#");
  Process agent({bin("rackwatchd"), "--config", (dir_ / "agent.yaml").string()}, dir_.path());

  auto cat_msg = sub.wait_for_topic(kBase + "/catalog", 10s);
  ASSERT_TRUE(cat_msg) << agent.log();
  v1::Catalog cat;
  ASSERT_TRUE(cat.ParseFromString((*cat_msg)->get_payload_str()));
  ASSERT_EQ(cat.points_size(), 6);
  EXPECT_EQ(cat.points(1).id(), "psu.temp");
  EXPECT_EQ(cat.points(1).source_type(), "modbus");
  EXPECT_EQ(cat.points(2).unit_symbol(), "L/min");

  auto healthy = sub.wait_for([](const auto& m) { return telemetry(m, "psu").has_value(); }, 10s);
  ASSERT_TRUE(healthy) << agent.log();
  const auto t = *telemetry(*healthy, "psu");
  ASSERT_EQ(t.samples_size(), 3);
  for (const auto& s : t.samples()) EXPECT_EQ(s.quality(), v1::QUALITY_GOOD) << s.reason();
  EXPECT_EQ(t.samples(0).value(), 2300);
  EXPECT_EQ(t.samples(1).value(), 25);
  EXPECT_EQ(t.samples(2).value(), 12.5);

  // The silent unit: bad with the reason, then dormant, while psu goes on.
  auto dormant = sub.wait_for(
      [](const auto& m) {
        auto g = telemetry(m, "ghost");
        return g && g->samples_size() == 3 && g->samples(0).reason().find("dormant") != std::string::npos;
      },
      10s);
  ASSERT_TRUE(dormant) << agent.log();
  bool saw_timeout = false;
  for (const auto& m : sub.messages()) {
    if (auto g = telemetry(m, "ghost")) {
      for (const auto& s : g->samples()) EXPECT_EQ(s.quality(), v1::QUALITY_BAD);
      saw_timeout = saw_timeout || g->samples(0).reason().find("timeout: no answer from unit 9") != std::string::npos;
    }
  }
  EXPECT_TRUE(saw_timeout);
  EXPECT_THAT(agent.log(), HasSubstr("dormant after 2 consecutive failures"));
  const auto seq = t.sequence();
  EXPECT_TRUE(sub.wait_for(
      [&](const auto& m) {
        auto p = telemetry(m, "psu");
        return p && p->sequence() > seq + 4 && p->samples(0).quality() == v1::QUALITY_GOOD;
      },
      10s));
}

TEST_F(ModbusDaemonTest, ProbeShowsValuesAndDeviceHealth) {
  auto r = run({bin("rackwatch"), "probe", "--config", (dir_ / "agent.yaml").string(), "--json"});
  EXPECT_EQ(r.exit_code, 1) << "the ghost's readings are bad\n" << r.err;
  auto doc = boost::json::parse(r.out).as_object();
  const auto& readings = doc.at("readings").as_array();
  ASSERT_EQ(readings.size(), 6u);
  EXPECT_EQ(readings[1].at("point").as_string(), "temp");
  EXPECT_EQ(readings[1].at("value").to_number<double>(), 25.0);
  EXPECT_THAT(std::string(readings[3].at("reason").as_string()), HasSubstr("timeout"));

  std::map<std::string, boost::json::object> devices;
  for (const auto& d : doc.at("devices").as_array()) devices[std::string(d.at("source").as_string())] = d.as_object();
  ASSERT_EQ(devices.size(), 2u);
  const auto& psu = devices.at("psu");
  EXPECT_EQ(psu.at("state").as_string(), "ok");
  EXPECT_EQ(psu.at("counters").at("requests").to_number<int>(), 1) << "three points, one read";
  EXPECT_EQ(psu.at("counters").at("answers").to_number<int>(), 1);
  EXPECT_TRUE(psu.contains("last_success"));
  const auto& ghost = devices.at("ghost");
  EXPECT_EQ(ghost.at("state").as_string(), "degraded");
  EXPECT_EQ(ghost.at("counters").at("timeouts").to_number<int>(), 1);
  EXPECT_THAT(std::string(ghost.at("detail").as_string()), HasSubstr("no answer from unit 9"));
  EXPECT_THAT(std::string(ghost.at("notes").at(0).as_string()), HasSubstr("unit 9 on tcp 127.0.0.1:"));

  auto human = run({bin("rackwatch"), "probe", "--config", (dir_ / "agent.yaml").string()});
  EXPECT_THAT(human.out, HasSubstr("SOURCE  STATE"));
  EXPECT_THAT(human.out, ::testing::ContainsRegex("ghost +degraded +1 +0 +1 "));
  EXPECT_THAT(human.out, ::testing::ContainsRegex("psu +ok +1 +1 +0 "));
}

}  // namespace
}  // namespace rackwatch::test
