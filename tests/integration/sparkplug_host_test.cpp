// rackwatchd as a Sparkplug B edge node, the parts a SCADA host leans on:
// a dormant device's death and rebirth beside a healthy one, the primary
// host's STATE (births wait for it online; offline ends the connection and
// the readings wait), and alarms as metric properties. Against a real
// Mosquitto and a real Modbus server, decoded by Eclipse Tahu's codec.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "support/agent_state.hpp"
#include "support/modbus_peer.hpp"
#include "support/mosquitto.hpp"
#include "support/process.hpp"
#include "support/run.hpp"
#include "support/sparkplug_decoder.hpp"
#include "support/temp_dir.hpp"
#include "support/test_subscriber.hpp"
#include "support/wait.hpp"
#include "sparkplug_b/sparkplug_b.pb.h"

namespace rackwatch::test {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

std::string node_topic(const std::string& type) { return "spBv1.0/hall-h/" + type + "/r12"; }
std::string device_topic(const std::string& type, const std::string& device) {
  return node_topic(type) + "/" + device;
}

std::string state_payload(bool online, std::int64_t timestamp) {
  return std::string("{\"online\": ") + (online ? "true" : "false") + ", \"timestamp\": " + std::to_string(timestamp) +
         "}";
}

class SparkplugHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!decoder_.install(why)) GTEST_SKIP() << why;
    broker_.start();
  }

  // `sparkplug`: the mqtt.sparkplug mapping's entries; `sources`: list items.
  void start_agent(const std::string& sparkplug, const std::string& sources) {
    write_file(dir_ / "agent.yaml", R"(agent: {site: hall-h, rack: r12, id: spb-host-agent}
mqtt:
  brokers: [)" + broker_.uri() + R"(]
  format: sparkplug
  sparkplug: {)" + sparkplug + R"(}
  reconnect_min: 100ms
  reconnect_max: 300ms
  keepalive: 5s
outbox:
  dir: )" + (dir_ / "outbox").string() + R"(
diag: {socket: )" + (dir_ / "diag.sock").string() + R"(}
sources:
)" + sources);
    agent_ = std::make_unique<Process>(
        std::vector<std::string>{bin("rackwatchd"), "--config", (dir_ / "agent.yaml").string()}, dir_.path());
  }

  std::string diagnostics() { return agent_ ? "--- agent log ---\n" + agent_->log() : ""; }

  std::vector<SparkplugDecoded> decode(const std::vector<mqtt::const_message_ptr>& messages) {
    return decoder_.decode(messages, dir_ / "payloads");
  }

  static std::size_t count(const std::vector<mqtt::const_message_ptr>& messages, const std::string& topic) {
    std::size_t n = 0;
    for (const auto& m : messages) n += m->get_topic() == topic ? 1u : 0u;
    return n;
  }
  // Messages on `topic` after the `nth` (from 1) on `after`.
  static std::size_t count_after(const std::vector<mqtt::const_message_ptr>& messages, const std::string& after,
                                 std::size_t nth, const std::string& topic) {
    std::size_t seen = 0;
    std::size_t n = 0;
    for (const auto& m : messages) {
      if (seen >= nth && m->get_topic() == topic) ++n;
      if (m->get_topic() == after) ++seen;
    }
    return n;
  }

  std::int64_t pending() {
    auto st = agent_state((dir_ / "diag.sock").string());
    return st ? json_int(st->at("outbox").at("pending")) : -1;
  }

  // seq 0 on each NBIRTH and one more (mod 256) on every later message but
  // NDEATH; returns the number of sessions seen.
  static int expect_seq_continuous(const std::vector<SparkplugDecoded>& all) {
    int sessions = 0;
    std::int64_t expected = 0;
    for (std::size_t i = 0; i < all.size(); ++i) {
      const auto type = all[i].type();
      if (type == "NDEATH" || type == "NCMD" || type == "DCMD" || type == "STATE") continue;
      if (type == "NBIRTH") {
        ++sessions;
        expected = 0;
      }
      EXPECT_EQ(all[i].seq(), expected) << "message " << i << " on " << all[i].topic;
      expected = (expected + 1) % 256;
    }
    return sessions;
  }

  TempDir dir_{"rackwatch-spb-host"};
  SparkplugDecoder decoder_;
  Mosquitto broker_;
  std::unique_ptr<Process> agent_;
};

constexpr const char* kPduSim = R"(  - name: pdu
    type: sim
    interval: 200ms
    seed: 5
    points:
      - {name: l1, signal: pdu.l1.power}
)";

// A Modbus unit that stops answering goes dormant: DDEATH, its readings
// without a value not sent as data; when it answers again, DBIRTH with its
// values, then data. The sim PDU beside it loses no poll meanwhile.
TEST_F(SparkplugHostTest, ADormantDeviceDiesAndIsBornAgainWhileTheOtherGoesOn) {
  ModbusPeer::Options options;
  options.map = "holding 0 u16 2300\nholding 1 s16 310\n";
  ModbusPeer peer(options);
  write_file(dir_ / "psu.yaml", R"(description: a small power supply
points:
  - {name: power, address: 0, quantity: power}
  - {name: temp, address: 1, type: s16, precision: 1, quantity: temperature}
)");
  TestSubscriber sub(broker_.uri(), "spBv1.0/#");
  start_agent("", std::string(kPduSim) + "  - {name: psu, type: modbus, interval: 200ms, tcp: '" + peer.endpoint() +
                      "', unit: 1, profile: " + (dir_ / "psu.yaml").string() +
                      ", request_timeout: 100ms, dormant_after: 2, reprobe_min: 500ms, reprobe_max: 1s}\n");
  ASSERT_TRUE(wait_until([&] { return count(sub.messages(), device_topic("DDATA", "psu")) >= 3; }, 20s))
      << diagnostics();
  peer.set_faults("drop-every 1\n");
  ASSERT_TRUE(sub.wait_for_topic(device_topic("DDEATH", "psu"), 20s)) << diagnostics();
  // Dead a while: the PDU goes on, the PSU sends nothing.
  ASSERT_TRUE(wait_until(
      [&] { return count_after(sub.messages(), device_topic("DDEATH", "psu"), 1, device_topic("DDATA", "pdu")) >= 8; },
      20s))
      << diagnostics();
  peer.set_faults("");
  ASSERT_TRUE(wait_until(
      [&] {
        const auto m = sub.messages();
        return count(m, device_topic("DBIRTH", "psu")) >= 2 &&
               count_after(m, device_topic("DBIRTH", "psu"), 2, device_topic("DDATA", "psu")) >= 2;
      },
      20s))
      << diagnostics();

  const auto all = decode(sub.messages());
  EXPECT_EQ(expect_seq_continuous(all), 1);
  enum { before, dead, reborn } phase = before;
  std::size_t pdu_while_dead = 0;
  std::set<std::int64_t> pdu_times;
  for (const auto& d : all) {
    SCOPED_TRACE(d.topic);
    const auto type = d.type();
    if (d.device() == "pdu" && type == "DDATA") {
      for (const auto& m : d.metrics()) pdu_times.insert(m.at("timestamp").to_number<std::int64_t>());
    }
    if (d.device() != "psu") {
      if (phase == dead && type == "DDATA") ++pdu_while_dead;
      continue;
    }
    if (type == "DDEATH") {
      EXPECT_EQ(phase, before);
      EXPECT_TRUE(d.metrics().empty());
      phase = dead;
    } else if (type == "DBIRTH" && phase == dead) {
      phase = reborn;
      ASSERT_EQ(d.metrics().size(), 2u);
      EXPECT_EQ(d.metrics()[0].at("name").as_string(), "power");
    } else if (type == "DDATA") {
      EXPECT_NE(phase, dead) << "data of a dead device";
      if (phase == reborn) {
        for (const auto& m : d.metrics()) {
          const auto* q = sparkplug_property(m.as_object(), "Quality");
          ASSERT_TRUE(q);
          EXPECT_EQ(q->to_number<std::int64_t>(), 192);
        }
      }
    }
  }
  EXPECT_EQ(phase, reborn);
  EXPECT_GE(pdu_while_dead, 8u);
  // The healthy device's readings, every poll, through it all.
  std::int64_t widest = 0;
  for (auto it = std::next(pdu_times.begin()); it != pdu_times.end(); ++it) {
    widest = std::max(widest, *it - *std::prev(it));
  }
  EXPECT_LT(widest, 700) << "the PDU's 200 ms polls have a gap of " << widest << " ms";
}

// With a primary host: nothing but the subscriptions until its STATE says
// online; then the births and the readings stored meanwhile, historical.
// Its offline: NDEATH with the session's bdSeq, a new connection, waiting
// again, and the readings of the wait replayed after the next online.
TEST_F(SparkplugHostTest, BirthsWaitForThePrimaryHostAndItsOfflineEndsTheSession) {
  TestSubscriber sub(broker_.uri(), "spBv1.0/#");
  const auto state = "spBv1.0/STATE/scada-1";
  sub.publish(state, state_payload(false, 1000), 5s, true);
  start_agent("primary_host_id: scada-1", kPduSim);
  ASSERT_TRUE(wait_until([&] { return pending() >= 10; }, 20s)) << diagnostics();
  EXPECT_EQ(count(sub.messages(), node_topic("NBIRTH")), 0u) << "born before the primary host was online";
  EXPECT_THAT(agent_->log(), ::testing::HasSubstr("waiting for primary host scada-1"));
  const auto waiting = agent_state((dir_ / "diag.sock").string());
  ASSERT_TRUE(waiting);
  EXPECT_THAT(json::serialize(waiting->at("broker")), ::testing::HasSubstr("primary host scada-1 to say online"));

  sub.publish(state, state_payload(true, 2000), 5s, true);
  ASSERT_TRUE(sub.wait_for_topic(node_topic("NBIRTH"), 20s)) << diagnostics();
  ASSERT_TRUE(wait_until([&] { return pending() == 0; }, 20s)) << diagnostics();

  sub.publish(state, state_payload(true, 1500), 5s, true);  // older: ignored
  sub.publish(state, state_payload(false, 3000), 5s, true);
  ASSERT_TRUE(sub.wait_for_topic(node_topic("NDEATH"), 20s)) << diagnostics();
  ASSERT_TRUE(wait_until([&] { return pending() >= 10; }, 20s)) << diagnostics();
  EXPECT_EQ(count(sub.messages(), node_topic("NBIRTH")), 1u) << "born again while the host is offline";

  sub.publish(state, state_payload(true, 4000), 5s, true);
  ASSERT_TRUE(wait_until([&] { return count(sub.messages(), node_topic("NBIRTH")) >= 2; }, 20s)) << diagnostics();
  ASSERT_TRUE(wait_until([&] { return pending() == 0; }, 20s)) << diagnostics();
  ASSERT_TRUE(wait_until(
      [&] { return count_after(sub.messages(), node_topic("NBIRTH"), 2, device_topic("DDATA", "pdu")) >= 20; }, 20s))
      << diagnostics();

  const auto all = decode(sub.messages());
  EXPECT_EQ(expect_seq_continuous(all), 2);
  std::vector<std::int64_t> births;
  std::vector<std::int64_t> deaths;
  std::set<std::int64_t> taken;
  std::size_t historical = 0;
  for (const auto& d : all) {
    if (d.type() == "NBIRTH") births.push_back(*d.metric("bdSeq"));
    if (d.type() == "NDEATH") deaths.push_back(*d.metric("bdSeq"));
    if (d.type() != "DDATA") continue;
    for (const auto& m : d.metrics()) {
      const auto& o = m.as_object();
      taken.insert(o.at("timestamp").to_number<std::int64_t>());
      if (o.contains("isHistorical") && o.at("isHistorical").as_bool()) ++historical;
    }
  }
  ASSERT_EQ(births.size(), 2u);
  ASSERT_EQ(deaths.size(), 1u);
  EXPECT_EQ(deaths[0], births[0]);
  EXPECT_EQ(births[1], (births[0] + 1) % 256);
  EXPECT_GE(historical, 15u);  // the two waits, 10 records each, one of them a catalog
  // Nothing lost: every 200 ms poll from the first reading to the last.
  std::int64_t widest = 0;
  for (auto it = std::next(taken.begin()); it != taken.end(); ++it) widest = std::max(widest, *it - *std::prev(it));
  EXPECT_LT(widest, 700) << "a gap of " << widest << " ms in " << taken.size() << " readings\n" << diagnostics();
}

// Limits and the catalog's description ride on the births' metrics; an
// alarm is its point's metric with alarmEvent, and the next births say the
// active condition in `alarm`.
TEST_F(SparkplugHostTest, AlarmsAndLimitsAreMetricProperties) {
  TestSubscriber sub(broker_.uri(), "spBv1.0/#");
  start_agent("", R"(  - name: pdu
    type: sim
    interval: 200ms
    points:
      - {name: l1, signal: pdu.l1.power, thresholds: {high_caution: 1, high_critical: 1000000000}}
derived:
  - name: twice
    quantity: power
    expr: pdu.l1 * 2
)");
  auto raised = [](const mqtt::const_message_ptr& m) {
    if (m->get_topic() != device_topic("DDATA", "pdu")) return false;
    sparkplug_b::Payload p;
    if (!p.ParseFromString(m->get_payload_str())) return false;
    for (const auto& x : p.metrics()) {
      for (int i = 0; i < x.properties().keys_size(); ++i) {
        if (x.properties().keys(i) == "alarmEvent") return true;
      }
    }
    return false;
  };
  ASSERT_TRUE(sub.wait_for(raised, 20s)) << diagnostics();
  sub.publish(node_topic("NCMD"), sparkplug_rebirth_command());
  ASSERT_TRUE(wait_until([&] { return count(sub.messages(), device_topic("DBIRTH", "pdu")) >= 2; }, 20s))
      << diagnostics();

  const auto all = decode(sub.messages());
  const json::object* l1_birth = nullptr;
  const json::object* event = nullptr;
  const json::object* derived = nullptr;
  for (const auto& d : all) {
    for (const auto& m : d.metrics()) {
      const auto& o = m.as_object();
      if (d.type() == "DBIRTH" && o.at("name").as_string() == "l1") l1_birth = &o;
      if (d.type() == "NBIRTH" && o.at("name").as_string() == "Derived/twice") derived = &o;
      if (d.type() == "DDATA" && !event && sparkplug_property(o, "alarmEvent")) event = &o;
    }
  }
  ASSERT_TRUE(l1_birth && event && derived);
  auto text = [](const json::object& metric, const char* key) {
    const auto* v = sparkplug_property(metric, key);
    return v ? json::serialize(*v) : std::string("(none)");
  };
  EXPECT_EQ(text(*event, "alarmEvent"), "\"raised high_caution\"");
  if (event->contains("isHistorical") && event->at("isHistorical").as_bool()) {
    // Raised before the first connection: stored, sent as history, without
    // an active set (the births say that).
    EXPECT_EQ(text(*event, "alarm"), "(none)");
  } else {
    EXPECT_EQ(text(*event, "alarm"), "\"high_caution\"");
  }
  EXPECT_EQ(text(*l1_birth, "alarm"), "\"high_caution\"");  // the birth after it
  EXPECT_EQ(text(*l1_birth, "highCaution"), "1");  // as the codec gives a Double of 1
  EXPECT_EQ(text(*l1_birth, "engUnit"), "\"W\"");
  EXPECT_EQ(text(*derived, "quantity"), "\"power\"");
  ASSERT_TRUE(derived->contains("metadata")) << json::serialize(*derived);
  EXPECT_THAT(std::string(derived->at("metadata").at("description").as_string()), ::testing::HasSubstr("pdu.l1 * 2"));
}

}  // namespace
}  // namespace rackwatch::test
