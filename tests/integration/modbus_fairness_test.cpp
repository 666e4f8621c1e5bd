// One sick device must not cost a healthy one a reading on a shared link.
// Three units behind one Modbus TCP gateway — unit 1 answers, unit 2 never
// does, unit 3 answers after 3 s while the gateway serves the others — and
// a serial bus with a silent unit beside a live one: over the whole run
// every poll of the live unit is complete and good, and the others are
// probed in the link's idle time, go dormant and are re-probed on schedule.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>

#include <boost/json.hpp>

#include "rackwatch/v1/telemetry.pb.h"
#include "support/agent_state.hpp"
#include "support/fairness.hpp"
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

const std::string kBase = "rackwatch/v1/hall-f/r03";
constexpr int kPoints = test::kFairnessPoints;

// How long the link is watched.
std::chrono::seconds watch_length() { return fairness_watch_length(); }

class ModbusFairnessTest : public ::testing::Test {
 protected:
  void SetUp() override { broker_.start(); }

  // `link` is the source's link key and value ("tcp: '…'" or "rtu: {…}").
  void start_agent(const std::string& link, const std::vector<int>& units) {
    write_file(dir_ / "device.yaml", test::fairness_device_profile());
    std::string sources;
    for (int unit : units) {
      sources += "  - {name: u" + std::to_string(unit) + ", type: modbus, interval: 1s, timeout: 800ms, " + link +
                 ", unit: " + std::to_string(unit) + ", profile: " + (dir_ / "device.yaml").string() +
                 ", reprobe_min: 5s}\n";
    }
    write_file(dir_ / "agent.yaml", R"(agent: {site: hall-f, rack: r03, id: fairness-agent}
mqtt:
  brokers: [)" + broker_.uri() + R"(]
outbox: {dir: )" + (dir_ / "outbox").string() + R"(}
diag: {socket: )" + (dir_ / "diag.sock").string() + R"(}
sources:
)" + sources);
    sub_.emplace(broker_.uri(), kBase + "/telemetry");
    agent_.emplace(std::vector<std::string>{bin("rackwatchd"), "--config", (dir_ / "agent.yaml").string()},
                   dir_.path());
  }

  std::vector<v1::Telemetry> of(const std::string& source) {
    return decoded<v1::Telemetry>(*sub_, kBase + "/telemetry", source);
  }

  // The live unit, watched for the whole run: after its first poll, every
  // tick has a message, each with every point good and right.
  void expect_every_poll_of_u1_good() {
    const auto first = of("u1");
    ASSERT_FALSE(first.empty());
    const auto start_ms = first.front().time_ms();
    const auto until = std::chrono::steady_clock::now() + watch_length();
    ASSERT_TRUE(wait_until([&] { return std::chrono::steady_clock::now() >= until; }, watch_length() + 5s,
                           std::chrono::milliseconds{500}));
    const auto all = of("u1");
    std::set<std::int64_t> ticks;
    for (const auto& t : all) {
      ticks.insert(t.time_ms());
      ASSERT_EQ(t.samples_size(), kPoints);
      for (int i = 0; i < kPoints; ++i) {
        const auto& s = t.samples(i);
        ASSERT_EQ(s.quality(), v1::QUALITY_GOOD) << "u1 at " << t.time_ms() << ": " << s.reason() << "\n"
                                                  << agent_->log();
        EXPECT_EQ(s.value(), 100 + s.point() % kPoints);
      }
    }
    const auto span_ticks = (*ticks.rbegin() - start_ms) / 1000 + 1;
    const auto state = agent_state((dir_ / "diag.sock").string());
    ASSERT_TRUE(state);
    const auto missed = json_int(source_state(*state, "u1").at("missed_ticks"));
    EXPECT_GE(static_cast<std::int64_t>(ticks.size()) + missed, span_ticks)
        << "u1 lost polls: " << ticks.size() << " messages over " << span_ticks << " ticks";
    EXPECT_GE(span_ticks, watch_length().count() - 2);
    std::cout << "u1: " << ticks.size() << " polls over " << span_ticks << " ticks, all " << kPoints
              << " points good; " << missed << " ticks missed by a busy machine\n";
  }

  // A silent or slow unit: dormant, after probes, and probed again since.
  void expect_dormant_and_reprobed(const std::string& source) {
    auto r = rackwatch_verb((dir_ / "diag.sock").string(), {"devices", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto doc = boost::json::parse(r.out);
    for (const auto& d : doc.at("devices").at("devices").as_array()) {
      if (d.at("source").as_string() != source) continue;
      std::map<std::string, std::int64_t> counters;
      for (const auto& c : d.at("counters").as_array()) {
        counters[std::string(c.at("name").as_string())] = json_int(c.at("value"));
      }
      EXPECT_EQ(d.at("state").as_string(), "dormant") << r.out;
      // Three to go dormant, then one at 5 s, 10 s later, 20 s later: a
      // minute holds at least two re-probes.
      EXPECT_GE(counters["probes"], watch_length() >= 30s ? 5 : 3) << source << ": " << r.out;
      EXPECT_EQ(counters["answers"], 0) << source;
      std::cout << source << ": " << counters["probes"] << " probes, " << counters["not_sent"]
                << " not sent (no idle time), dormant " << counters["dormant"] << " times\n";
      return;
    }
    ADD_FAILURE() << "no device " << source << " in " << r.out;
  }

  TempDir dir_{"rackwatch-fairness"};
  Mosquitto broker_;
  std::optional<TestSubscriber> sub_;
  std::optional<Process> agent_;
};

TEST_F(ModbusFairnessTest, OnAGatewayASilentAndASlowUnitCostTheLiveOneNoPoll) {
  ModbusPeer::Options options;
  options.unit_maps = {{1, test::fairness_device_map()}, {3, test::fairness_device_map()}};  // unit 2 is not served: silence
  options.extra_args = {"--slow-unit", "3", "3000"};
  ModbusPeer peer(options);
  start_agent("tcp: '" + peer.endpoint() + "'", {1, 2, 3});
  ASSERT_TRUE(wait_until([&] { return !of("u1").empty(); }, 10s)) << agent_->log();
  expect_every_poll_of_u1_good();
  expect_dormant_and_reprobed("u2");
  expect_dormant_and_reprobed("u3");
  // The gateway saw the slow unit's requests, each answered too late.
  int late = 0;
  for (const auto& s : peer.served()) late += s.unit == 3 && s.outcome == "late";
  EXPECT_GE(late, 3);
}

TEST_F(ModbusFairnessTest, OnASerialBusASilentUnitCostsTheLiveOneNoPoll) {
  ModbusPeer::Options options;
  options.rtu = true;
  options.unit_maps = {{1, test::fairness_device_map()}};  // unit 2 never answers
  ModbusPeer peer(options);
  start_agent("rtu: {device: " + peer.pty_path() + ", baud: 19200}", {1, 2});
  ASSERT_TRUE(wait_until([&] { return !of("u1").empty(); }, 10s)) << agent_->log();
  expect_every_poll_of_u1_good();
  expect_dormant_and_reprobed("u2");
}

}  // namespace
}  // namespace rackwatch::test
