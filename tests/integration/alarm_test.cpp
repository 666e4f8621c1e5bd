// Thresholds in the running agent: an hwmon temperature stepped across its
// critical limit raises exactly one alarm, wobbling inside the hysteresis
// raises nothing more, falling below limit minus hysteresis clears it; the
// same on the simulated rack, where a scripted load step beyond the CDU's
// capacity drives the supply temperature over its limit and back; the
// retained active-alarm topic follows each state; protoc decodes the events.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>

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
#if !RACKWATCH_WITH_HWMON
    GTEST_SKIP() << "this agent reads an hwmon tree; the build has RACKWATCH_WITH_HWMON off";
#endif
    broker_.start();
    set_temp(40.0);
    write_file(dir_ / "hwmon/hwmon0/name", "coretemp\n");
    write_file(dir_ / "agent.yaml", agent_config_head("hall-a", "r21", "alarm-agent", broker_.uri(), dir_.path()) + R"(sources:
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
  std::vector<v1::AlarmEvent> events() { return decoded<v1::AlarmEvent>(*sub_, kBase + "/alarm"); }
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
  // The diag snapshot shows it too.
  auto status = rackwatch_verb((dir_ / "diag.sock").string(), {"status"});
  EXPECT_THAT(status.out, HasSubstr("alarms    1 active"));
  EXPECT_THAT(status.out, HasSubstr("CRITICAL  board.inlet high_critical: value 46, limit 45, for "));

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
  status = rackwatch_verb((dir_ / "diag.sock").string(), {"status"});
  EXPECT_THAT(status.out, HasSubstr("alarms    none active"));

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

// The simulated rack: 90 kW (72 kW to the liquid) is within the CDU's
// 100 kW, a step to 150 kW (120 kW) is 20 kW over it and lifts the supply by
// about 2.5 K (20 kW / (115 L/min · 0.9957 kg/L / 60 · 4186 J/kg·K)), from
// 30 °C to about 32.5 °C, over the 32 °C limit; back at 90 kW it returns to
// 30 °C, below 32 - 1. The supply's own noise is ±0.2 K.
TEST(SimAlarmTest, ALoadStepBeyondCoolingCapacityRaisesTheSupplyAlarmOnceAndClearsIt) {
  TempDir dir("rackwatch-alarm");
  Mosquitto broker;
  broker.start();
  const std::string base = "rackwatch/v1/hall-b/r07";
  write_file(dir.path() / "agent.yaml", agent_config_head("hall-b", "r07", "sim-alarm", broker.uri(), dir.path()) + R"(sources:
  - name: cdu
    type: sim
    interval: 250ms
    seed: 7
    load:
      base_kw: 90
      swing_kw: 0
      noise_kw: 0.5
      max_kw: 160
      steps:
        - {after: 3s, base_kw: 150}
        - {after: 10s, base_kw: 90}
    cooling: {supply_c: 30, flow_lpm: 115, capacity_kw: 100}
    points:
      - name: supply
        signal: cdu.supply_temp
        thresholds: {high_critical: 32, hysteresis: 1}
)");
  TestSubscriber sub(broker.uri(), base + "/#");
  Process agent({bin("rackwatchd"), "--config", (dir.path() / "agent.yaml").string()}, dir.path());

  auto events = [&] { return decoded<v1::AlarmEvent>(sub, base + "/alarm"); };
  auto retained = [&] {
    auto m = TestSubscriber::read_retained(broker.uri(), base + "/alarms", 3s);
    v1::ActiveAlarms a;
    if (!m || !a.ParseFromString((*m)->get_payload_str())) a.set_agent_id("unreadable");
    return a;
  };

  ASSERT_TRUE(wait_until([&] { return events().size() == 1; }, 15s)) << agent.log();
  const auto raised_set = retained();
  EXPECT_EQ(raised_set.agent_id(), "sim-alarm");
  ASSERT_EQ(raised_set.alarms_size(), 1);
  EXPECT_EQ(raised_set.alarms(0).point_id(), "cdu.supply");
  EXPECT_EQ(raised_set.alarms(0).kind(), "high_critical");
  EXPECT_TRUE(raised_set.alarms(0).raised());

  ASSERT_TRUE(wait_until([&] { return events().size() == 2; }, 15s)) << agent.log();
  // Four more polls at 30 °C, counted by their telemetry: nothing else is
  // raised or cleared.
  auto polls = [&] { return decoded<v1::Telemetry>(sub, base + "/telemetry").size(); };
  const auto polls_at_clear = polls();
  ASSERT_TRUE(wait_until([&] { return polls() >= polls_at_clear + 4; }, 10s)) << agent.log();
  const auto all = events();
  ASSERT_EQ(all.size(), 2u) << agent.log();
  EXPECT_TRUE(all[0].raised());
  EXPECT_EQ(all[0].point_id(), "cdu.supply");
  EXPECT_EQ(all[0].severity(), v1::AlarmEvent::SEVERITY_CRITICAL);
  EXPECT_EQ(all[0].limit(), 32);
  EXPECT_GE(all[0].value(), 32);
  EXPECT_NEAR(all[0].value(), 32.5, 0.4);
  EXPECT_FALSE(all[1].raised());
  EXPECT_LT(all[1].value(), 31);
  EXPECT_EQ(all[1].sequence(), all[0].sequence() + 1);
  EXPECT_EQ(retained().alarms_size(), 0);

  // Every supply reading before the raise was below the limit: the alarm is
  // a transition the step caused, not a value the agent started with. By
  // each sample's own time (tick + offset: a loaded machine reads a little
  // after the tick), whatever order the messages arrived in.
  std::size_t before = 0;
  for (const auto& t : decoded<v1::Telemetry>(sub, base + "/telemetry")) {
    for (const auto& sample : t.samples()) {
      if (t.time_ms() + sample.time_offset_ms() >= all[0].time_ms()) continue;
      EXPECT_LT(sample.value(), 31) << "at " << t.time_ms() + sample.time_offset_ms();
      ++before;
    }
  }
  EXPECT_GE(before, 4u);

  // The live sequence of active sets: none at connect, one alarm, then none.
  std::vector<int> sizes;
  for (const auto& a : decoded<v1::ActiveAlarms>(sub, base + "/alarms")) sizes.push_back(a.alarms_size());
  EXPECT_EQ(sizes, (std::vector<int>{0, 1, 0}));

  for (const auto& e : all) {
    std::string payload;
    e.SerializeToString(&payload);
    auto decoded = protoc_decode("rackwatch.v1.AlarmEvent", payload, dir.path());
    EXPECT_EQ(decoded.exit_code, 0) << decoded.err;
    EXPECT_THAT(decoded.out, HasSubstr("point_id: \"cdu.supply\""));
    EXPECT_THAT(decoded.out, HasSubstr(e.raised() ? "raised: true" : "kind: \"high_critical\""));
  }
}

// The retained active set is state of the boot that published it: a new
// boot on the same rack replaces it at connect, an empty set included, so a
// late subscriber never sees the alarms of an agent that is gone.
TEST(AlarmRestartTest, ANewBootReplacesTheRetainedSetOfTheLastAtConnect) {
  TempDir dir("rackwatch-alarm-restart");
  Mosquitto broker;
  broker.start();
  const std::string base = "rackwatch/v1/hall-c/r09";
  auto retained = [&] {
    auto m = TestSubscriber::read_retained(broker.uri(), base + "/alarms", 2s);
    v1::ActiveAlarms a;
    if (!m || !a.ParseFromString((*m)->get_payload_str())) a.set_agent_id("none");
    return a;
  };
  const std::string source = R"(sources:
  - name: cdu
    type: sim
    interval: 250ms
    points:
      - name: supply
        signal: cdu.supply_temp
)";
  write_file(dir.path() / "first.yaml", agent_config_head("hall-c", "r09", "first", broker.uri(), dir.path()) +
                                            source + "        thresholds: {high_critical: 10, hysteresis: 1}\n");
  v1::ActiveAlarms first_set;
  {
    Process first({bin("rackwatchd"), "--config", (dir.path() / "first.yaml").string()}, dir.path());
    ASSERT_TRUE(wait_until(
        [&] {
          first_set = retained();
          return first_set.agent_id() == "first" && first_set.alarms_size() == 1;
        },
        15s))
        << first.log();
    ASSERT_TRUE(first.signal(SIGTERM));
    ASSERT_TRUE(first.wait_exit(10s)) << first.log();
  }
  EXPECT_EQ(retained().boot_id(), first_set.boot_id());  // what a late subscriber would see until the next boot

  // The next boot has no thresholds at all, so it raises and clears nothing.
  write_file(dir.path() / "second.yaml",
             agent_config_head("hall-c", "r09", "second", broker.uri(), dir.path()) + source);
  Process second({bin("rackwatchd"), "--config", (dir.path() / "second.yaml").string()}, dir.path());
  v1::ActiveAlarms now;
  EXPECT_TRUE(wait_until(
      [&] {
        now = retained();
        return now.agent_id() == "second";
      },
      15s))
      << "the retained set is still the first boot's (" << now.agent_id() << ")\n"
      << second.log();
  EXPECT_EQ(now.alarms_size(), 0);
  EXPECT_NE(now.boot_id(), first_set.boot_id());
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
