// Thresholds in the running agent: an hwmon temperature stepped across its
// critical limit raises exactly one alarm, wobbling inside the hysteresis
// raises nothing more, falling below limit minus hysteresis clears it; the
// retained active-alarm topic follows each state; protoc decodes the events.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "rackwatch/v1/telemetry.pb.h"
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

const std::string kBase = "rackwatch/v1/hall-a/r21";

class AlarmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_.start();
    set_temp(40.0);
    write_file(dir_ / "hwmon/hwmon0/name", "coretemp\n");
    write_file(dir_ / "agent.yaml", R"(agent: {site: hall-a, rack: r21, id: alarm-agent}
mqtt: {brokers: [)" + broker_.uri() + R"(]}
outbox: {dir: )" + (dir_ / "outbox").string() + R"(}
diag: {socket: )" + (dir_ / "diag.sock").string() + R"(}
sources:
  - name: board
    type: hwmon
    interval: 200ms
    root: )" + (dir_ / "hwmon").string() + R"(
    points:
      - name: inlet
        chip: coretemp
        sensor: temp1
        thresholds: {high_critical: 45, hysteresis: 3}
)");
  }
  void set_temp(double c) {
    write_file(dir_ / "hwmon/hwmon0/temp1_input", std::to_string(static_cast<long>(c * 1000)) + "\n");
  }
  std::vector<v1::AlarmEvent> events() {
    std::vector<v1::AlarmEvent> out;
    for (const auto& m : sub_->messages()) {
      v1::AlarmEvent e;
      if (m->get_topic() == kBase + "/alarm" && e.ParseFromString(m->get_payload_str())) out.push_back(e);
    }
    return out;
  }
  // The retained active set as a late subscriber sees it.
  std::optional<v1::ActiveAlarms> active() {
    auto m = TestSubscriber::read_retained(broker_.uri(), kBase + "/alarms", 3s);
    if (!m) return std::nullopt;
    v1::ActiveAlarms a;
    if (!a.ParseFromString((*m)->get_payload_str())) return std::nullopt;
    return a;
  }
  // Waits for `n` telemetry messages more than now: the agent has seen the value.
  void let_it_poll(std::size_t n = 3) {
    auto count = [&] {
      std::size_t c = 0;
      for (const auto& m : sub_->messages()) c += m->get_topic() == kBase + "/telemetry";
      return c;
    };
    const auto target = count() + n;
    ASSERT_TRUE(wait_until([&] { return count() >= target; }, 5s));
  }

  TempDir dir_{"rackwatch-alarm"};
  Mosquitto broker_;
  std::optional<TestSubscriber> sub_;
  std::optional<Process> agent_;
};

TEST_F(AlarmTest, CrossingTheLimitRaisesOnceAndClearsPastTheHysteresis) {
  sub_.emplace(broker_.uri(), kBase + "/#");
  agent_.emplace(std::vector<std::string>{bin("rackwatchd"), "--config", (dir_ / "agent.yaml").string()},
                 dir_.path());
  let_it_poll();
  EXPECT_TRUE(events().empty());

  set_temp(46);
  ASSERT_TRUE(wait_until([&] { return events().size() == 1; }, 5s)) << agent_->log();
  // Wobbling above limit minus hysteresis (42): nothing more.
  for (double t : {44.0, 46.5, 42.5, 45.5}) {
    set_temp(t);
    let_it_poll();
  }
  EXPECT_EQ(events().size(), 1u);
  auto a = active();
  ASSERT_TRUE(a);
  ASSERT_EQ(a->alarms_size(), 1);
  EXPECT_EQ(a->alarms(0).point_id(), "board.inlet");
  EXPECT_EQ(a->alarms(0).kind(), "high_critical");

  set_temp(41.5);
  ASSERT_TRUE(wait_until([&] { return events().size() == 2; }, 5s)) << agent_->log();
  let_it_poll();
  const auto all = events();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_TRUE(all[0].raised());
  EXPECT_EQ(all[0].severity(), v1::AlarmEvent::SEVERITY_CRITICAL);
  EXPECT_EQ(all[0].value(), 46);
  EXPECT_EQ(all[0].limit(), 45);
  EXPECT_EQ(all[0].kind(), "high_critical");
  EXPECT_FALSE(all[1].raised());
  EXPECT_EQ(all[1].value(), 41.5);
  EXPECT_EQ(all[1].sequence(), all[0].sequence() + 1);
  a = active();
  ASSERT_TRUE(a);
  EXPECT_EQ(a->alarms_size(), 0);

  // protoc reads an event with nothing but the .proto file.
  std::string payload;
  for (const auto& m : sub_->messages()) {
    if (m->get_topic() == kBase + "/alarm") {
      payload = m->get_payload_str();
      break;
    }
  }
  auto decoded = protoc_decode("rackwatch.v1.AlarmEvent", payload, dir_.path());
  EXPECT_EQ(decoded.exit_code, 0) << decoded.err;
  EXPECT_THAT(decoded.out, HasSubstr("point_id: \"board.inlet\""));
  EXPECT_THAT(decoded.out, HasSubstr("severity: SEVERITY_CRITICAL"));
  EXPECT_THAT(decoded.out, HasSubstr("raised: true"));
}

TEST(AlarmConfigTest, ThresholdMistakesAreReportedAtTheirLines) {
  TempDir dir("rackwatch-alarm");
  write_file(dir.path() / "bad.yaml", R"(agent: {site: s, rack: r}
mqtt: {brokers: [tcp://127.0.0.1:1883]}
sources:
  - name: pdu
    type: sim
    interval: 1s
    points:
      - name: total
        signal: pdu.total.power
        thresholds: {high_caution: 100, high_critical: 90, hysteresis: -1, severity: bad, colour: red}
)");
  auto r = run({bin("rackwatch"), "check-config", (dir.path() / "bad.yaml").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("bad.yaml:10:"));
  EXPECT_THAT(r.err, HasSubstr("'high_critical' must not be below 'high_caution'"));
  EXPECT_THAT(r.err, HasSubstr("'hysteresis' must not be negative"));
  EXPECT_THAT(r.err, HasSubstr("'severity' must be caution or critical, found 'bad'"));
  EXPECT_THAT(r.err, HasSubstr("unknown key 'colour' in thresholds"));
}

}  // namespace
}  // namespace rackwatch::test
