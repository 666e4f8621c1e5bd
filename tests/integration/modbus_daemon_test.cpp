// Modbus end to end: rackwatchd polls two devices behind one Modbus TCP
// gateway (the libmodbus peer) and publishes them to a real Mosquitto — the
// healthy one's values decoded, the silent one's bad with the reason and
// then dormant; `rackwatch probe` reads the same devices and shows their
// health and counters. Over RTU over TCP, two devices behind one serial
// device server are read through one connection.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

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

std::optional<v1::Telemetry> telemetry(const mqtt::const_message_ptr& m, const std::string& source) {
  if (m->get_topic() != kBase + "/telemetry") return std::nullopt;
  v1::Telemetry t;
  if (!t.ParseFromString(m->get_payload_str()) || t.source() != source) return std::nullopt;
  return t;
}

// The agent's config: MQTT to `broker`, its files in `dir`, then `sources`.
std::string agent_config(const Mosquitto& broker, const TempDir& dir, const std::string& sources) {
  return R"(agent: {site: hall-m, rack: r07, id: modbus-agent}
mqtt:
  brokers: [)" + broker.uri() + R"(]
  reconnect_min: 100ms
  reconnect_max: 500ms
outbox:
  dir: )" + (dir / "outbox").string() + R"(
diag: {socket: )" + (dir / "diag.sock").string() + R"(}
sources:
)" + sources;
}

class ModbusDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_.start();
    ModbusPeer::Options options;
    options.unit_maps = {{1, kMap}};  // unit 9 is not served: a gateway with no answer for it
    peer_.emplace(options);
    write_file(dir_ / "device.yaml", kProfile);
    write_file(dir_ / "agent.yaml", agent_config(broker_, dir_, R"(  - {name: psu, type: modbus, interval: 300ms, tcp: ')" + peer_->endpoint() + R"(', unit: 1, profile: )" +
                                         (dir_ / "device.yaml").string() + R"(}
  - {name: ghost, type: modbus, interval: 300ms, tcp: ')" + peer_->endpoint() + R"(', unit: 9, profile: )" +
                                         (dir_ / "device.yaml").string() +
                                         R"(, request_timeout: 100ms, dormant_after: 2, reprobe_min: 1m}
)"));
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
  EXPECT_THAT(human.out, ::testing::ContainsRegex("ghost +degraded +never\n +polls=1 requests=1 not_sent=0 probes=1 answers=0 timeouts=1 "));
  EXPECT_THAT(human.out, ::testing::ContainsRegex("psu +ok +[0-9-]+ [0-9:.]+\n +polls=1 requests=1 not_sent=0 probes=1 answers=1 timeouts=0 "));
}

// Two devices behind one serial device server, RTU frames over TCP: both
// published with their decoded values, good, over a single connection.
TEST(ModbusRtuOverTcpDaemonTest, PublishesTwoDevicesBehindOneGatewayOverOneConnection) {
  TempDir dir{"rackwatch-modbus-rtu-tcp-daemon"};
  Mosquitto broker;
  broker.start();
  ModbusPeer::Options options;
  options.rtu_over_tcp = true;
  options.unit_maps = {{1, kMap}, {2, kMap}};
  ModbusPeer peer(options);
  write_file(dir / "device.yaml", kProfile);
  const std::string common = ", type: modbus, interval: 300ms, rtu_over_tcp: '" + peer.endpoint() +
                             "', inter_request_delay: 5ms, profile: " + (dir / "device.yaml").string() + "}\n";
  write_file(dir / "agent.yaml", agent_config(broker, dir,
                                              "  - {name: psu, unit: 1" + common + "  - {name: pump, unit: 2" + common));

  TestSubscriber sub(broker.uri(), kBase + "/#");
  Process agent({bin("rackwatchd"), "--config", (dir / "agent.yaml").string()}, dir.path());
  for (const std::string source : {"psu", "pump"}) {
    SCOPED_TRACE(source);
    auto good = sub.wait_for(
        [&](const auto& m) {
          auto t = telemetry(m, source);
          return t && t->samples_size() == 3 && t->samples(0).quality() == v1::QUALITY_GOOD;
        },
        10s);
    ASSERT_TRUE(good) << agent.log();
    const auto t = *telemetry(*good, source);
    for (const auto& s : t.samples()) EXPECT_EQ(s.quality(), v1::QUALITY_GOOD) << s.reason();
    EXPECT_EQ(t.samples(0).value(), 2300);
    EXPECT_EQ(t.samples(1).value(), 25);
    EXPECT_EQ(t.samples(2).value(), 12.5);
  }
  // No sample of either source was ever bad.
  for (const auto& m : sub.messages()) {
    for (const std::string source : {"psu", "pump"}) {
      if (auto t = telemetry(m, source)) {
        for (const auto& s : t->samples()) EXPECT_EQ(s.quality(), v1::QUALITY_GOOD) << source << ": " << s.reason();
      }
    }
  }
  std::set<int> units;
  for (const auto& r : peer.served()) {
    EXPECT_EQ(r.outcome, "ok");
    units.insert(r.unit);
  }
  EXPECT_EQ(units, (std::set<int>{1, 2}));
  EXPECT_EQ(peer.connections_accepted(), 1) << "sources on one gateway share its connection";
}

}  // namespace
}  // namespace rackwatch::test
