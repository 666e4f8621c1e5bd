// A BMC that answers every request after 4 s must not cost another source a
// reading. Beside a Modbus device polled every second, two redfish sources
// ask such slow services: one every second (each request gives up at its
// 1 s timeout: the source times out and goes dormant), one every 5 s (each
// answer comes within its 5 s request timeout, but a poll of many requests
// runs past its deadline: polls time out and ticks find them still
// running). Over the whole run every tick of the Modbus device has its
// message, with every point good, and none of its polls missed its deadline
// or found the one before still running. At SIGTERM the slow service's
// session is still ended, and the daemon exits 0.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <optional>
#include <set>

#include <boost/json.hpp>

#include "rackwatch/v1/telemetry.pb.h"
#include "support/agent_state.hpp"
#include "support/fairness.hpp"
#include "support/modbus_peer.hpp"
#include "support/mosquitto.hpp"
#include "support/process.hpp"
#include "support/redfish_server.hpp"
#include "support/run.hpp"
#include "support/temp_dir.hpp"
#include "support/test_subscriber.hpp"
#include "support/wait.hpp"

namespace rackwatch::test {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

const std::string kBase = "rackwatch/v1/hall-f/r04";
const std::filesystem::path kSmallBmc = std::filesystem::path(RACKWATCH_SOURCE_DIR) / "tests/fixtures/redfish/small-bmc";
constexpr int kPoints = test::kFairnessPoints;
constexpr auto kBmcDelay = 4s;

// A uint64 of the status JSON comes as a string, a uint32 as a number.
std::int64_t number(const boost::json::value& v) { return v.is_string() ? json_int(v) : v.to_number<std::int64_t>(); }

RedfishServer::Options slow_bmc() {
  RedfishServer::Options o;
  o.dir = kSmallBmc;
  o.delay = kBmcDelay;
  return o;
}

class RedfishFairnessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_.start();
    ModbusPeer::Options options;
    options.unit_maps = {{1, test::fairness_device_map()}};
    peer_.emplace(options);
    write_file(dir_ / "device.yaml", test::fairness_device_profile());
    write_file(dir_ / "bmc.password", "secret-pass\n");
    ::chmod((dir_ / "bmc.password").c_str(), 0600);
  }

  std::string redfish(const std::string& name, const RedfishServer& bmc, const std::string& interval) const {
    return "  - {name: " + name + ", type: redfish, interval: " + interval + ", url: '" + bmc.url() +
           "', user: admin, password_file: " + (dir_ / "bmc.password").string() + "}\n";
  }

  void start_agent() {
    const std::string sources = "  - {name: u1, type: modbus, interval: 1s, timeout: 800ms, tcp: '" + peer_->endpoint() +
                                "', unit: 1, profile: " + (dir_ / "device.yaml").string() + "}\n" +
                                redfish("bmc-1s", bmc_1s_, "1s") + redfish("bmc-5s", bmc_5s_, "5s");
    write_file(dir_ / "agent.yaml", agent_config_head("hall-f", "r04", "redfish-fairness", broker_.uri(), dir_.path()) +
                                        "sources:\n" + sources);
    sub_.emplace(broker_.uri(), kBase + "/telemetry");
    agent_.emplace(std::vector<std::string>{bin("rackwatchd"), "--config", (dir_ / "agent.yaml").string()},
                   dir_.path());
  }

  std::vector<v1::Telemetry> of(const std::string& source) {
    return decoded<v1::Telemetry>(*sub_, kBase + "/telemetry", source);
  }

  std::map<std::string, std::int64_t> device_counters(const std::string& source, std::string& state) {
    std::map<std::string, std::int64_t> counters;
    auto r = rackwatch_verb(socket(), {"devices", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    if (r.exit_code != 0) return counters;
    const auto doc = boost::json::parse(r.out);
    for (const auto& d : doc.at("devices").at("devices").as_array()) {
      if (d.at("source").as_string() != source) continue;
      state = std::string(d.at("state").as_string());
      for (const auto& c : d.at("counters").as_array()) {
        counters[std::string(c.at("name").as_string())] = number(c.at("value"));
      }
    }
    return counters;
  }

  std::string socket() const { return (dir_ / "diag.sock").string(); }

  TempDir dir_{"rackwatch-redfish-fairness"};
  Mosquitto broker_;
  std::optional<ModbusPeer> peer_;
  RedfishServer bmc_1s_{slow_bmc()};
  RedfishServer bmc_5s_{slow_bmc()};
  std::optional<TestSubscriber> sub_;
  std::optional<Process> agent_;  // last: stopped before the rest goes
};

TEST_F(RedfishFairnessTest, ABmcThatAnswersIn4sCostsTheModbusDeviceNoPoll) {
  start_agent();
  ASSERT_TRUE(wait_until([&] { return !of("u1").empty(); }, 10s)) << agent_->log();
  const auto start_ms = of("u1").front().time_ms();
  // The slow services' checks need a few of their 4-5 s answers: a
  // shortened watch (RACKWATCH_FAIRNESS_SECONDS) is kept at 15 s at least.
  const auto watch = std::max<std::chrono::seconds>(fairness_watch_length(), 15s);
  const auto until = std::chrono::steady_clock::now() + watch;
  ASSERT_TRUE(wait_until([&] { return std::chrono::steady_clock::now() >= until; }, watch + 5s,
                         std::chrono::milliseconds{500}));

  // u1: after its first poll, every tick has a message, each with every point good and right.
  std::set<std::int64_t> ticks;
  std::int64_t latest_offset = 0;  // reported, not judged: how long after its tick a sample was read
  for (const auto& t : of("u1")) {
    ticks.insert(t.time_ms());
    ASSERT_EQ(t.samples_size(), kPoints);
    for (int i = 0; i < kPoints; ++i) {
      const auto& s = t.samples(i);
      latest_offset = std::max(latest_offset, static_cast<std::int64_t>(s.time_offset_ms()));
      ASSERT_EQ(s.quality(), v1::QUALITY_GOOD) << "u1 at " << t.time_ms() << ": " << s.reason() << "\n"
                                                << agent_->log();
      EXPECT_EQ(s.value(), 100 + s.point() % kPoints);
    }
  }
  const auto span_ticks = (*ticks.rbegin() - start_ms) / 1000 + 1;
  const auto state = agent_state(socket());
  ASSERT_TRUE(state);
  const auto& u1 = source_state(*state, "u1");
  const auto missed = number(u1.at("missed_ticks"));
  EXPECT_GE(static_cast<std::int64_t>(ticks.size()) + missed, span_ticks)
      << "u1 lost polls: " << ticks.size() << " messages over " << span_ticks << " ticks";
  EXPECT_GE(span_ticks, watch.count() - 2);
  // No poll of u1 was late for its tick's deadline, none found the one before still running.
  EXPECT_EQ(number(u1.at("timeouts")), 0) << agent_->log();
  EXPECT_EQ(number(u1.at("overruns")), 0) << agent_->log();
  std::cout << "u1: " << ticks.size() << " polls over " << span_ticks << " ticks, all " << kPoints
            << " points good; " << missed << " ticks missed by a busy machine; 0 timeouts, 0 overruns; last poll "
            << number(u1.at("last_poll_us")) << " us; samples read at most " << latest_offset
            << " ms after their tick\n";

  // bmc-1s: every request gives up at 1 s, before the answer: dormant, saying why.
  std::string bmc1_state;
  auto bmc1 = device_counters("bmc-1s", bmc1_state);
  EXPECT_EQ(bmc1_state, "dormant") << agent_->log();
  EXPECT_GE(bmc1["timeouts"], 3);
  EXPECT_EQ(bmc1["logins"] - bmc1["login_failures"], 0) << "no login ever answered in time";
  EXPECT_THAT(std::string(source_state(*state, "bmc-1s").at("last_error").as_string()), HasSubstr("timeout"));
  std::cout << "bmc-1s: " << bmc1_state << ", " << bmc1["timeouts"] << " request timeouts, " << bmc1["polls"]
            << " polls, " << bmc1["dormant_polls"] << " of them dormant; runner: "
            << number(source_state(*state, "bmc-1s").at("timeouts")) << " poll timeouts\n";

  // bmc-5s: answers come within the request timeout, but a poll of many
  // requests runs past its deadline, and the ticks after it find it running.
  const auto& bmc5 = source_state(*state, "bmc-5s");
  EXPECT_GE(number(bmc5.at("timeouts")), 1) << agent_->log();
  if (watch >= 15s) {
    EXPECT_GE(number(bmc5.at("overruns")), 1) << agent_->log();
  }
  EXPECT_EQ(bmc_5s_.logins(), 1u);
  EXPECT_GE(bmc_5s_.count("GET /redfish/v1/"), 1u) << "the slow answers were taken in";
  std::cout << "bmc-5s: " << number(bmc5.at("polls")) << " polls, " << number(bmc5.at("timeouts")) << " timed out, "
            << number(bmc5.at("overruns")) << " ticks overrun; the service answered " << bmc_5s_.requests().size()
            << " requests\n";

  // A clean stop still ends the slow service's session (on a connection of
  // its own: a poll's GET is under way), and exits 0.
  const auto stopping = std::chrono::steady_clock::now();
  const auto exit_status = agent_->stop(20s);
  std::cout << "stopped in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - stopping).count()
            << " ms\n";
  ASSERT_TRUE(exit_status) << agent_->log();
  EXPECT_TRUE(WIFEXITED(*exit_status) && WEXITSTATUS(*exit_status) == 0)
      << Process::describe(*exit_status) << agent_->log();
  EXPECT_EQ(bmc_5s_.deleted_sessions(), std::vector<std::string>{"/redfish/v1/SessionService/Sessions/1"})
      << agent_->log();
}

}  // namespace
}  // namespace rackwatch::test
