// rackwatchd as a Sparkplug B edge node, against a real Mosquitto, checked
// by an independent decoder: Eclipse Tahu's JavaScript codec (npm
// sparkplug-payload), installed under the build tree by
// tests/support/sparkplug/install.sh. The test collects the raw payloads in
// the order the broker delivered them, and checks what the codec makes of them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "support/agent_state.hpp"
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

std::string node_topic(const std::string& type) { return "spBv1.0/hall-t/" + type + "/r99"; }
std::string device_topic(const std::string& type, const std::string& device) {
  return node_topic(type) + "/" + device;
}

// `pdu_points`: the pdu source's point list items.
std::string config_for(const std::string& broker, const std::filesystem::path& dir,
                       const std::string& pdu_points = "      - {name: l1, signal: pdu.l1.power}\n"
                                                       "      - {name: l2, signal: pdu.l2.power}\n") {
  return R"(agent: {site: hall-t, rack: r99, id: spb-agent}
mqtt:
  brokers: [)" + broker + R"(]
  format: sparkplug
  reconnect_min: 100ms
  reconnect_max: 500ms
  keepalive: 5s
outbox:
  dir: )" + (dir / "outbox").string() + R"(
diag: {socket: )" + (dir / "diag.sock").string() + R"(}
sources:
  - name: pdu
    type: sim
    interval: 200ms
    seed: 3
    points:
)" + pdu_points + R"(  - name: cdu
    type: sim
    interval: 500ms
    points:
      - {name: supply, signal: cdu.supply_temp}
      - {name: return, signal: cdu.return_temp}
derived:
  - name: delta_t
    quantity: temperature
    expr: cdu.return - cdu.supply
)";
}

using Decoded = SparkplugDecoded;

class SparkplugTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!decoder_.install(why)) GTEST_SKIP() << why;
    broker_.start();
  }

  void start_agent() {
    write_file(dir_ / "agent.yaml", config_for(broker_.uri(), dir_.path()));
    agent_ = std::make_unique<Process>(
        std::vector<std::string>{bin("rackwatchd"), "--config", (dir_ / "agent.yaml").string()}, dir_.path());
  }
  void start_agent_with(const std::string& pdu_points) {
    write_file(dir_ / "agent.yaml", config_for(broker_.uri(), dir_.path(), pdu_points));
    agent_ = std::make_unique<Process>(
        std::vector<std::string>{bin("rackwatchd"), "--config", (dir_ / "agent.yaml").string()}, dir_.path());
  }

  // Writes the config with `pdu_points` and has the agent reload it.
  void reload_with(const std::string& pdu_points) {
    write_file(dir_ / "agent.yaml", config_for(broker_.uri(), dir_.path(), pdu_points));
    const auto r = rackwatch_verb((dir_ / "diag.sock").string(), {"reload"});
    ASSERT_EQ(r.exit_code, 0) << r.err << diagnostics();
  }
  std::int64_t pending() {
    auto st = agent_state((dir_ / "diag.sock").string());
    return st ? json_int(st->at("outbox").at("pending")) : -1;
  }

  std::string diagnostics() { return agent_ ? "--- agent log ---\n" + agent_->log() : ""; }

  // Every message `sub` received, decoded by the codec, in order.
  std::vector<Decoded> decode(const std::vector<mqtt::const_message_ptr>& messages) {
    return decoder_.decode(messages, dir_ / "payloads");
  }

  std::size_t count(const std::vector<mqtt::const_message_ptr>& messages, const std::string& topic) {
    std::size_t n = 0;
    for (const auto& m : messages) n += m->get_topic() == topic ? 1u : 0u;
    return n;
  }

  TempDir dir_{"rackwatch-spb"};
  SparkplugDecoder decoder_;
  static Mosquitto::Options persistent() {
    Mosquitto::Options o;
    o.persistence = true;
    return o;
  }
  Mosquitto broker_{persistent()};
  std::unique_ptr<Process> agent_;
};

// Births first and in order, data by the births' aliases, seq continuous
// over every message of a session, bdSeq one more after a restart, an
// NDEATH with the session's bdSeq at SIGTERM and, as the will, at SIGKILL.
TEST_F(SparkplugTest, BirthsAliasesSeqAndBdSeqAcrossARestartAndAKill) {
  TestSubscriber sub(broker_.uri(), "spBv1.0/#");
  start_agent();
  auto enough_data = [&](std::size_t births) {
    return [&, births] {
      const auto m = sub.messages();
      return count(m, node_topic("NBIRTH")) >= births && count(m, device_topic("DDATA", "pdu")) >= 6 * births &&
             count(m, device_topic("DDATA", "cdu")) >= 2 * births && count(m, node_topic("NDATA")) >= births;
    };
  };
  ASSERT_TRUE(wait_until(enough_data(1), 20s)) << diagnostics();
  ASSERT_TRUE(agent_->stop().has_value()) << diagnostics();
  ASSERT_TRUE(sub.wait_for_topic(node_topic("NDEATH"), 10s)) << diagnostics();
  start_agent();
  ASSERT_TRUE(wait_until(enough_data(2), 20s)) << diagnostics();
  agent_->kill();
  ASSERT_TRUE(wait_until([&] { return count(sub.messages(), node_topic("NDEATH")) >= 2; }, 20s))
      << "no will after SIGKILL\n" << broker_.log();

  const auto all = decode(sub.messages());
  ASSERT_FALSE(all.empty());
  ASSERT_EQ(all.front().type(), "NBIRTH");

  int session = -1;
  std::vector<std::int64_t> bd_seqs;
  std::vector<std::int64_t> deaths;
  std::int64_t expected_seq = 0;
  std::map<std::string, std::set<std::int64_t>> aliases;  // by topic's device ("" for the node)
  std::size_t births_seen = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const auto& d = all[i];
    SCOPED_TRACE("message " + std::to_string(i) + " on " + d.topic);
    const auto type = d.type();
    if (type == "NDEATH") {
      // bdSeq only, no seq.
      EXPECT_FALSE(d.payload.contains("seq"));
      ASSERT_TRUE(d.metric("bdSeq"));
      deaths.push_back(*d.metric("bdSeq"));
      continue;
    }
    if (type == "NBIRTH") {
      ++session;
      births_seen = 0;
      aliases.clear();
      expected_seq = 0;
      ASSERT_TRUE(d.metric("bdSeq"));
      bd_seqs.push_back(*d.metric("bdSeq"));
      ASSERT_TRUE(d.metric("Node Control/Rebirth"));
      EXPECT_EQ(*d.metric("Node Control/Rebirth"), 0);
    }
    EXPECT_EQ(d.seq(), expected_seq);
    expected_seq = (expected_seq + 1) % 256;
    const auto device = d.topic.size() > node_topic(type).size() ? d.topic.substr(node_topic(type).size() + 1) : "";
    if (type == "NBIRTH" || type == "DBIRTH") {
      if (type == "DBIRTH") {
        // The births come together: NBIRTH, then each device's.
        EXPECT_EQ(all[i - 1 - births_seen].type(), "NBIRTH");
        ++births_seen;
      }
      for (const auto& m : d.metrics()) {
        const auto& o = m.as_object();
        ASSERT_TRUE(o.contains("name"));
        ASSERT_TRUE(o.contains("type"));
        ASSERT_TRUE(o.contains("timestamp"));
        if (o.contains("alias")) aliases[device].insert(o.at("alias").to_number<std::int64_t>());
      }
      continue;
    }
    ASSERT_TRUE(type == "NDATA" || type == "DDATA") << type;
    EXPECT_EQ(births_seen, 2u) << "data before the DBIRTHs";
    for (const auto& m : d.metrics()) {
      const auto& o = m.as_object();
      EXPECT_FALSE(o.contains("name"));
      ASSERT_TRUE(o.contains("alias"));
      EXPECT_TRUE(aliases[device].count(o.at("alias").to_number<std::int64_t>()))
          << "alias " << o.at("alias") << " not born on " << (device.empty() ? "the node" : device);
    }
  }
  ASSERT_EQ(session, 1);
  ASSERT_EQ(bd_seqs.size(), 2u);
  EXPECT_EQ(bd_seqs[1], (bd_seqs[0] + 1) % 256);
  // SIGTERM's NDEATH and the will at SIGKILL, each with its session's bdSeq.
  EXPECT_THAT(deaths, ::testing::ElementsAre(bd_seqs[0], bd_seqs[1]));
}

// A host's NCMD with Node Control/Rebirth = true: the births again on the
// same connection (the same bdSeq), seq from 0, data by the new births' aliases.
TEST_F(SparkplugTest, AnNcmdRebirthSendsTheBirthsAgainOnTheSameConnection) {
  TestSubscriber sub(broker_.uri(), "spBv1.0/#");
  start_agent();
  ASSERT_TRUE(wait_until([&] { return count(sub.messages(), device_topic("DDATA", "pdu")) >= 3; }, 20s))
      << diagnostics();
  sub.publish(node_topic("NCMD"), sparkplug_rebirth_command());
  ASSERT_TRUE(wait_until(
      [&] {
        const auto m = sub.messages();
        std::size_t after = 0;
        bool reborn = false;
        for (const auto& x : m) {
          if (x->get_topic() == node_topic("NBIRTH") && count(m, node_topic("NBIRTH")) >= 2) reborn = true;
          if (reborn && x->get_topic() == device_topic("DDATA", "pdu")) ++after;
        }
        return count(m, node_topic("NBIRTH")) >= 2 && after >= 3;
      },
      20s))
      << diagnostics();

  std::vector<Decoded> all;
  for (auto& d : decode(sub.messages())) {
    if (d.type() != "NCMD") all.push_back(std::move(d));
  }
  std::vector<std::size_t> births;
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (all[i].type() == "NBIRTH") births.push_back(i);
  }
  ASSERT_EQ(births.size(), 2u);
  const auto& first = all[births[0]];
  const auto& second = all[births[1]];
  EXPECT_EQ(second.seq(), 0);
  EXPECT_EQ(second.metric("bdSeq"), first.metric("bdSeq"));
  EXPECT_EQ(second.metric("Node Control/Rebirth"), 0);
  ASSERT_GE(all.size(), births[1] + 3);
  EXPECT_EQ(all[births[1] + 1].type(), "DBIRTH");
  EXPECT_EQ(all[births[1] + 2].type(), "DBIRTH");
  // Continuous from the rebirth on: the messages already in flight before it
  // went out before it.
  std::int64_t seq = 0;
  for (std::size_t i = births[1]; i < all.size(); ++i) {
    SCOPED_TRACE(all[i].topic);
    EXPECT_EQ(all[i].seq(), seq);
    seq = (seq + 1) % 256;
  }
}

// Readings stored while the broker was away go out after the rebirth as
// is_historical, with the times they were taken, not the time of sending.
TEST_F(SparkplugTest, ReplayedReadingsAreHistoricalWithTheirOwnTimestamps) {
  // A persistent session, kept by the broker across its restart: what the
  // agent sends before the watcher is back waits for it.
  std::optional<mqtt::const_message_ptr> first_birth;
  {
    TestSubscriber first(broker_.uri(), "spBv1.0/#", "spb-watcher", 10s);
    start_agent();
    first_birth = first.wait_for_topic(node_topic("NBIRTH"), 20s);
    ASSERT_TRUE(first_birth) << diagnostics();
    ASSERT_TRUE(broker_.wait_saved(10s));
  }
  const auto first_bd_seq = decode({*first_birth}).at(0).metric("bdSeq");
  ASSERT_TRUE(first_bd_seq);
  broker_.kill();
  const auto socket = (dir_ / "diag.sock").string();
  ASSERT_TRUE(wait_until(
      [&] {
        auto st = agent_state(socket);
        return st && json_int(st->at("outbox").at("pending")) >= 5;
      },
      20s))
      << diagnostics();
  broker_.restart();
  TestSubscriber sub(broker_.uri(), "spBv1.0/#", "spb-watcher", 10s);
  ASSERT_TRUE(wait_until(
      [&] {
        for (const auto& m : sub.messages()) {
          if (m->get_topic() == device_topic("DDATA", "pdu")) return count(sub.messages(), node_topic("NBIRTH")) >= 1;
        }
        return false;
      },
      20s))
      << diagnostics();
  ASSERT_TRUE(wait_until(
      [&] {
        auto st = agent_state(socket);
        return st && json_int(st->at("outbox").at("pending")) == 0;
      },
      20s))
      << diagnostics();
  const auto all = decode(sub.messages());
  // The births of the connection after the outage: what was stored before
  // them is history.
  std::int64_t born_ms = 0;
  std::optional<std::int64_t> bd_seq;
  for (const auto& d : all) {
    if (d.type() != "NBIRTH") continue;
    born_ms = d.payload.at("timestamp").to_number<std::int64_t>();
    bd_seq = d.metric("bdSeq");
  }
  ASSERT_GT(born_ms, 0);
  // One more than the connection before the outage: the attempts that
  // failed while the broker was away took none.
  ASSERT_TRUE(bd_seq);
  EXPECT_EQ(*bd_seq, (*first_bd_seq + 1) % 256);
  std::size_t historical = 0;
  for (const auto& d : all) {
    if (d.type() != "DDATA" && d.type() != "NDATA") continue;
    for (const auto& m : d.metrics()) {
      const auto& o = m.as_object();
      if (!o.contains("isHistorical") || !o.at("isHistorical").as_bool()) continue;
      ++historical;
      // Taken before the connection, with its own time; sent after it.
      EXPECT_LE(o.at("timestamp").to_number<std::int64_t>(), born_ms);
      EXPECT_GE(d.payload.at("timestamp").to_number<std::int64_t>(), born_ms);
    }
  }
  EXPECT_GE(historical, 5u) << diagnostics();

  // Nothing lost: pdu's l1, polled every 200 ms, from its first historical
  // reading to the last one received, every poll.
  std::optional<std::int64_t> l1;
  for (const auto& d : all) {
    if (d.type() != "DBIRTH" || d.device() != "pdu") continue;
    for (const auto& m : d.metrics()) {
      if (m.at("name").as_string() == "l1") l1 = m.at("alias").to_number<std::int64_t>();
    }
  }
  ASSERT_TRUE(l1);
  std::set<std::int64_t> taken;
  bool from_history = false;
  for (const auto& d : all) {
    if (d.type() != "DDATA" || d.device() != "pdu") continue;
    for (const auto& m : d.metrics()) {
      const auto& o = m.as_object();
      if (o.at("alias").to_number<std::int64_t>() != *l1) continue;
      from_history = from_history || (o.contains("isHistorical") && o.at("isHistorical").as_bool());
      if (from_history) taken.insert(o.at("timestamp").to_number<std::int64_t>());
    }
  }
  ASSERT_GE(taken.size(), 5u);
  std::int64_t widest = 0;
  for (auto it = std::next(taken.begin()); it != taken.end(); ++it) widest = std::max(widest, *it - *std::prev(it));
  EXPECT_LT(widest, 700) << "a gap of " << widest << " ms between readings of a 200 ms poll, over "
                         << taken.size() << " readings";
}

// Two reloads while the broker is away (l3 added, then l2 removed): the
// births after it say the last catalog, every stored reading of a point
// that stays goes out by its current alias, historical, and no poll of l1
// or of l3 since it was added is missing. l2's stored readings have no
// metric any more.
TEST_F(SparkplugTest, ReloadsDuringAnOutageLoseNoReadingOfAPointThatStays) {
  const std::string l1 = "      - {name: l1, signal: pdu.l1.power}\n";
  const std::string l2 = "      - {name: l2, signal: pdu.l2.power}\n";
  const std::string l3 = "      - {name: l3, signal: pdu.l3.power}\n";
  {
    TestSubscriber first(broker_.uri(), "spBv1.0/#", "spb-watcher", 10s);
    start_agent_with(l1 + l2);
    ASSERT_TRUE(first.wait_for_topic(device_topic("DDATA", "pdu"), 20s)) << diagnostics();
    ASSERT_TRUE(broker_.wait_saved(10s));
  }
  broker_.kill();
  ASSERT_TRUE(wait_until([&] { return pending() >= 5; }, 20s)) << diagnostics();
  reload_with(l1 + l2 + l3);
  const auto after_first = pending();
  ASSERT_TRUE(wait_until([&] { return pending() >= after_first + 8; }, 20s)) << diagnostics();
  reload_with(l1 + l3);
  const auto after_second = pending();
  ASSERT_TRUE(wait_until([&] { return pending() >= after_second + 8; }, 20s)) << diagnostics();
  broker_.restart();
  TestSubscriber sub(broker_.uri(), "spBv1.0/#", "spb-watcher", 10s);
  ASSERT_TRUE(wait_until([&] { return pending() == 0; }, 30s)) << diagnostics();
  ASSERT_TRUE(wait_until([&] { return count(sub.messages(), device_topic("DDATA", "pdu")) >= 30; }, 20s))
      << diagnostics();

  const auto all = decode(sub.messages());
  // Aliases of the last births of pdu, by name.
  std::map<std::string, std::int64_t> alias;
  std::size_t last_birth = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (all[i].type() != "DBIRTH" || all[i].device() != "pdu") continue;
    alias.clear();
    last_birth = i;
    for (const auto& m : all[i].metrics()) alias[std::string(m.at("name").as_string())] = m.at("alias").to_number<std::int64_t>();
  }
  ASSERT_EQ(alias.size(), 2u) << "the last births are the last catalog's";
  ASSERT_TRUE(alias.count("l1") && alias.count("l3"));
  std::map<std::int64_t, std::set<std::int64_t>> taken;  // alias → times
  std::size_t historical = 0;
  for (std::size_t i = last_birth + 1; i < all.size(); ++i) {
    const auto& d = all[i];
    if (d.type() != "DDATA" || d.device() != "pdu") continue;
    for (const auto& m : d.metrics()) {
      const auto& o = m.as_object();
      const auto a = o.at("alias").to_number<std::int64_t>();
      EXPECT_TRUE(a == alias["l1"] || a == alias["l3"]) << "alias " << a << " not born in the last DBIRTH";
      taken[a].insert(o.at("timestamp").to_number<std::int64_t>());
      if (o.contains("isHistorical") && o.at("isHistorical").as_bool()) ++historical;
    }
  }
  EXPECT_GE(historical, 20u);
  for (const auto& name : {"l1", "l3"}) {
    const auto& times = taken[alias[name]];
    ASSERT_GE(times.size(), 10u) << name;
    std::int64_t widest = 0;
    for (auto it = std::next(times.begin()); it != times.end(); ++it) widest = std::max(widest, *it - *std::prev(it));
    EXPECT_LT(widest, 700) << name << ": a gap of " << widest << " ms in " << times.size() << " readings";
  }
  // l1 goes back to before the first reload: its readings of the first catalog came through.
  EXPECT_LT(*taken[alias["l1"]].begin(), *taken[alias["l3"]].begin() - 500);
}

}  // namespace
}  // namespace rackwatch::test
