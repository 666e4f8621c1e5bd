// What a subscriber of the native topics can rely on, tried as one would:
// every stored message decodable by a catalog it received, even after two
// reloads during an outage; the rack as it is now from retained messages
// alone for one that joins late; a will that says the agent as it was at
// its latest connect.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "rackwatch/v1/telemetry.pb.h"
#include "support/agent_state.hpp"
#include "support/mosquitto.hpp"
#include "support/process.hpp"
#include "support/run.hpp"
#include "support/temp_dir.hpp"
#include "support/test_subscriber.hpp"
#include "support/wait.hpp"

namespace rackwatch::test {
namespace {

using namespace std::chrono_literals;

const std::string kBase = "rackwatch/v1/hall-c/r03";

class SubscriberContractTest : public ::testing::Test {
 protected:
  void SetUp() override { broker_.start(); }

  // The pdu source's points (list items) and, optionally, point keys for all.
  void write_config(const std::string& pdu_points) {
    write_file(dir_ / "agent.yaml", R"(agent: {site: hall-c, rack: r03, id: contract-agent}
mqtt:
  brokers: [)" + broker_.uri() + R"(]
  reconnect_min: 100ms
  reconnect_max: 300ms
  keepalive: 5s
outbox: {dir: )" + (dir_ / "outbox").string() + R"(}
diag: {socket: )" + socket() + R"(}
sources:
  - name: pdu
    type: sim
    interval: 200ms
    points:
)" + pdu_points);
  }
  void start_agent() {
    agent_.emplace(std::vector<std::string>{bin("rackwatchd"), "--config", (dir_ / "agent.yaml").string()},
                   dir_.path());
  }
  void reload(const std::string& pdu_points) {
    write_config(pdu_points);
    const auto r = rackwatch_verb(socket(), {"reload"});
    ASSERT_EQ(r.exit_code, 0) << r.err << log();
  }
  std::string socket() const { return (dir_ / "diag.sock").string(); }
  std::string log() { return agent_ ? "--- agent log ---\n" + agent_->log() : ""; }
  std::optional<boost::json::value> state() { return agent_state(socket()); }
  std::int64_t pending() {
    auto st = state();
    return st ? json_int(st->at("outbox").at("pending")) : -1;
  }

  static Mosquitto::Options persistent() {
    Mosquitto::Options o;
    o.persistence = true;
    return o;
  }

  TempDir dir_{"rackwatch-contract"};
  Mosquitto broker_{persistent()};
  std::optional<Process> agent_;
};

const std::string kL1 = "      - {name: l1, signal: pdu.l1.power}\n";
const std::string kL2 = "      - {name: l2, signal: pdu.l2.power}\n";
const std::string kL3 = "      - {name: l3, signal: pdu.l3.power}\n";

// Two reloads while the broker is away (catalog X, then Y, then Z): a
// subscriber that comes back afterwards decodes every message of the
// backlog with a catalog it received, retained under its id.
TEST_F(SubscriberContractTest, ReloadsDuringAnOutageLeaveEveryBackloggedMessageDecodable) {
  write_config(kL1 + kL2);
  {
    TestSubscriber first(broker_.uri(), kBase + "/#", "contract-watcher", 10s);
    start_agent();
    ASSERT_TRUE(first.wait_for_topic(kBase + "/telemetry", 20s)) << log();
    ASSERT_TRUE(broker_.wait_saved(10s));
  }
  broker_.kill();
  ASSERT_TRUE(wait_until([&] { return pending() >= 5; }, 20s)) << log();
  reload(kL1 + kL2 + kL3);
  auto mark = pending();
  ASSERT_TRUE(wait_until([&] { return pending() >= mark + 5; }, 20s)) << log();
  reload(kL1 + kL3);
  mark = pending();
  ASSERT_TRUE(wait_until([&] { return pending() >= mark + 5; }, 20s)) << log();
  const auto taken = json_int(state()->at("telemetry_sequence"));
  broker_.restart();
  TestSubscriber sub(broker_.uri(), kBase + "/#", "contract-watcher", 10s);
  ASSERT_TRUE(wait_until([&] { return pending() == 0; }, 30s)) << log();
  std::set<std::uint64_t> sequences;
  ASSERT_TRUE(wait_until(
      [&] {
        sequences.clear();
        for (const auto& m : sub.messages()) {
          v1::Telemetry t;
          if (m->get_topic() == kBase + "/telemetry" && t.ParseFromString(m->get_payload_str())) {
            sequences.insert(t.sequence());
          }
        }
        return !sequences.empty() && *sequences.rbegin() >= static_cast<std::uint64_t>(taken);
      },
      20s))
      << log();

  // The catalogs received, by id. Queued telemetry of a persistent session
  // can come before the retained catalogs the broker hands over on the
  // subscription: a subscriber holds it (the contract), so all are used.
  std::map<std::string, v1::Catalog> catalogs;
  for (const auto& m : sub.messages()) {
    const auto& topic = m->get_topic();
    if (topic.rfind(kBase + "/catalog", 0) != 0) continue;
    v1::Catalog c;
    ASSERT_TRUE(c.ParseFromString(m->get_payload_str())) << topic;
    if (topic != kBase + "/catalog") {
      EXPECT_EQ(topic, kBase + "/catalog/" + c.catalog_id());
    }
    catalogs[c.catalog_id()] = c;
  }
  std::size_t decoded = 0;
  std::set<std::string> named;
  for (const auto& m : sub.messages()) {
    if (m->get_topic() != kBase + "/telemetry") continue;
    v1::Telemetry t;
    ASSERT_TRUE(t.ParseFromString(m->get_payload_str()));
    const auto c = catalogs.find(t.catalog_id());
    ASSERT_NE(c, catalogs.end()) << "telemetry #" << t.sequence() << " names catalog " << t.catalog_id()
                                 << ", never received";
    for (const auto& s : t.samples()) {
      ASSERT_LT(static_cast<int>(s.point()), c->second.points_size());
      named.insert(c->second.points(static_cast<int>(s.point())).id());
    }
    ++decoded;
  }
  EXPECT_GE(catalogs.size(), 3u) << "X, Y and Z";
  EXPECT_GE(decoded, 15u);
  EXPECT_THAT(named, ::testing::IsSupersetOf({"pdu.l1", "pdu.l2", "pdu.l3"}));
  // Every sequence since the subscriber came back, none missing.
  std::uint64_t expected = *sequences.begin();
  for (const auto s : sequences) EXPECT_EQ(s, expected++) << "a gap";
}

// Report by exception sends a point only when it moves: a subscriber that
// joins late reads every point's latest value from the retained snapshot
// within a second, as the agent has it.
TEST_F(SubscriberContractTest, ALateSubscriberSeesEveryPointFromRetainedMessagesAlone) {
  write_config("      - {name: l1, signal: pdu.l1.power, deadband: 1000000, max_age: 1h}\n"
               "      - {name: l2, signal: pdu.l2.power, deadband: 1000000, max_age: 1h}\n"
               "      - {name: f, signal: pdu.frequency, deadband: 1000000, max_age: 1h}\n");
  start_agent();
  ASSERT_TRUE(wait_until(
      [&] {
        auto st = state();
        return st && st->at("broker").at("connected").as_bool() && json_int(st->at("telemetry_sequence")) >= 1;
      },
      20s))
      << log();
  // A reconnect publishes the snapshot as the agent has it then.
  broker_.stop();
  broker_.restart();
  ASSERT_TRUE(wait_until([&] { return state() && state()->at("broker").at("connected").as_bool(); }, 20s)) << log();
  ASSERT_TRUE(broker_.wait_saved(10s));

  const auto joined = std::chrono::steady_clock::now();
  TestSubscriber late(broker_.uri(), kBase + "/#");
  auto snapshot = late.wait_for_topic(kBase + "/snapshot", 1s);
  ASSERT_TRUE(snapshot) << "no retained snapshot\n" << log();
  auto catalog = late.wait_for_topic(kBase + "/catalog", 1s);
  ASSERT_TRUE(catalog);
  EXPECT_LT(std::chrono::steady_clock::now() - joined, 3s);
  v1::Snapshot s;
  ASSERT_TRUE(s.ParseFromString((*snapshot)->get_payload_str()));
  v1::Catalog c;
  ASSERT_TRUE(c.ParseFromString((*catalog)->get_payload_str()));
  EXPECT_EQ(s.catalog_id(), c.catalog_id());
  ASSERT_EQ(s.samples_size(), c.points_size());
  for (int i = 0; i < s.samples_size(); ++i) {
    const auto& x = s.samples(i);
    SCOPED_TRACE(c.points(i).id());
    EXPECT_EQ(x.point(), static_cast<std::uint32_t>(i));
    EXPECT_EQ(x.quality(), v1::QUALITY_GOOD) << x.reason();
    EXPECT_GT(x.value(), 0);
    EXPECT_LE(x.time_offset_ms(), 0);
  }
  // Telemetry said each point once, at its first reading; the snapshot is
  // newer than that.
  EXPECT_GE(s.telemetry_sequence(), 1u);
}

// The will is the status offline as the agent was at its latest connect:
// after a reload (a new catalog) and a reconnect, a SIGKILL's will names
// the new catalog, carries the counters of that connect, and its time.
TEST_F(SubscriberContractTest, TheWillSaysTheAgentAsItWasAtItsLatestConnect) {
  write_config(kL1 + kL2);
  start_agent();
  TestSubscriber sub(broker_.uri(), kBase + "/#");
  ASSERT_TRUE(sub.wait_for_topic(kBase + "/telemetry", 20s)) << log();
  const auto first_catalog = std::string(state()->at("catalog_id").as_string());
  reload(kL1 + kL3);
  ASSERT_TRUE(wait_until([&] { return std::string(state()->at("catalog_id").as_string()) != first_catalog; }, 10s));
  const auto catalog = std::string(state()->at("catalog_id").as_string());
  ASSERT_TRUE(wait_until([&] { return json_int(state()->at("telemetry_sequence")) >= 10; }, 20s));
  broker_.stop();
  const auto before_reconnect_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  broker_.restart();
  TestSubscriber watcher(broker_.uri(), kBase + "/status");
  ASSERT_TRUE(wait_until([&] { return state()->at("broker").at("connected").as_bool(); }, 20s)) << log();
  const auto sequence_at_connect = json_int(state()->at("telemetry_sequence"));
  agent_->kill();
  // The broker may also hand over the will of the connection before the
  // restart (it kept it, or published it at its own stop): that one says
  // the agent at that earlier connect, with its earlier time.
  auto will = watcher.wait_for(
      [&](const mqtt::const_message_ptr& m) {
        v1::AgentStatus s;
        return s.ParseFromString(m->get_payload_str()) && s.state() == v1::AgentStatus::STATE_OFFLINE &&
               s.time_ms() >= before_reconnect_ms;
      },
      20s);
  ASSERT_TRUE(will) << "no will after SIGKILL\n" << broker_.log();
  v1::AgentStatus s;
  ASSERT_TRUE(s.ParseFromString((*will)->get_payload_str()));
  EXPECT_EQ(s.catalog_id(), catalog);
  // The counters of the connect: taken by then, not zero, not later.
  EXPECT_GE(s.telemetry_sequence(), 10u);
  EXPECT_LE(s.telemetry_sequence(), static_cast<std::uint64_t>(sequence_at_connect));
  EXPECT_GT(s.messages_published(), 0u);
}

}  // namespace
}  // namespace rackwatch::test
