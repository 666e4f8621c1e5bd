// Alarm kinds beyond a plain limit, in the running agent against a real
// broker, as a subscriber decodes them (and, while active, in the retained
// active set and `rackwatch status`):
// - a leak raises one `state` alarm per point, at the point's own severity,
//   and it stays;
// - `stale` is raised when a point's reads stop being good, not before
//   `stale_after` polls without a good one, and cleared by the next good one;
// - `sensor_failed` is raised after `failed_delay` of failed reads, with the
//   read's reason and no value, and never where `sensor_failed: false`;
// - a `delay` lets a spike shorter than it pass and raises a condition that
//   holds longer;
// - an active alarm survives a reload that keeps its thresholds (neither
//   cleared nor raised again) and leaves the active set when a reload
//   removes them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

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
namespace fs = std::filesystem;

const std::string kBase = "rackwatch/v1/hall-k/r05";

// One sample of one point as a subscriber sees it.
struct Reading {
  std::int64_t tick_ms = 0;  // the poll's scheduled tick
  std::int64_t time_ms = 0;  // when the value was read
  double value = 0;
  v1::Quality quality = v1::QUALITY_UNKNOWN;
};

class AlarmKindsTest : public ::testing::Test {
 protected:
  void SetUp() override { broker_.start(); }

  void write_config(const std::string& sources) {
    write_file(dir_ / "agent.yaml",
               agent_config_head("hall-k", "r05", "kinds-agent", broker_.uri(), dir_.path()) + "sources:\n" + sources);
  }
  // The subscriber listens before the agent starts, so it sees every message.
  void start(const std::string& sources) {
    write_config(sources);
    sub_.emplace(broker_.uri(), kBase + "/#");
    agent_.emplace(std::vector<std::string>{bin("rackwatchd"), "--config", (dir_ / "agent.yaml").string()},
                   dir_.path());
  }

  std::vector<v1::AlarmEvent> events() const { return decoded<v1::AlarmEvent>(*sub_, kBase + "/alarm"); }
  std::vector<v1::AlarmEvent> events_of(const std::string& point_id) const {
    std::vector<v1::AlarmEvent> out;
    for (auto& e : events()) {
      if (e.point_id() == point_id) out.push_back(e);
    }
    return out;
  }
  // Telemetry messages so far, of one source or of all.
  std::size_t polls(const std::string& source = {}) const {
    std::size_t n = 0;
    for (const auto& t : decoded<v1::Telemetry>(*sub_, kBase + "/telemetry")) n += source.empty() || t.source() == source;
    return n;
  }
  // Waits until `n` more telemetry messages than now have arrived: proof
  // that the agent has polled (and decided alarms) n more times.
  bool let_it_poll(std::size_t n, const std::string& source = {}) const {
    const auto target = polls(source) + n;
    return wait_until([&] { return polls(source) >= target; }, 15s);
  }
  std::vector<v1::Catalog> catalogs() const { return decoded<v1::Catalog>(*sub_, kBase + "/catalog"); }
  // The sample of `point_id` in `t`, found through the catalog `t` refers to.
  static std::optional<v1::Sample> sample_of(const v1::Telemetry& t, const std::string& point_id,
                                             const std::vector<v1::Catalog>& catalogs) {
    for (const auto& c : catalogs) {
      if (c.catalog_id() != t.catalog_id()) continue;
      for (const auto& s : t.samples()) {
        if (static_cast<int>(s.point()) < c.points_size() && c.points(static_cast<int>(s.point())).id() == point_id) {
          return s;
        }
      }
      return std::nullopt;
    }
    return std::nullopt;
  }
  // Every reading of `point_id` received so far, in order.
  std::vector<Reading> readings_of(const std::string& point_id) const {
    const auto known = catalogs();
    std::vector<Reading> out;
    for (const auto& t : decoded<v1::Telemetry>(*sub_, kBase + "/telemetry")) {
      if (auto s = sample_of(t, point_id, known)) {
        out.push_back({t.time_ms(), t.time_ms() + s->time_offset_ms(), s->value(), s->quality()});
      }
    }
    return out;
  }
  // Waits until the active set last published has `n` alarms.
  bool active_set_has(int n) const {
    return wait_until(
        [&] {
          const auto sets = decoded<v1::ActiveAlarms>(*sub_, kBase + "/alarms");
          return !sets.empty() && sets.back().alarms_size() == n;
        },
        15s);
  }
  // The active set as a late subscriber sees it (agent id "none" when there is none).
  v1::ActiveAlarms retained_set() const {
    auto m = TestSubscriber::read_retained(broker_.uri(), kBase + "/alarms", 3s);
    v1::ActiveAlarms a;
    if (!m || !a.ParseFromString((*m)->get_payload_str())) a.set_agent_id("none");
    return a;
  }
  RunResult verb(std::vector<std::string> args) const {
    return rackwatch_verb((dir_ / "diag.sock").string(), std::move(args));
  }
  std::string log() const { return agent_ ? agent_->log() : std::string(); }

  TempDir dir_{"rackwatch-alarm-kinds"};
  Mosquitto broker_;
  std::optional<TestSubscriber> sub_;
  std::optional<Process> agent_;  // last: stopped before the rest goes
};

// Two points read the same drip tray: severity critical is the default, so
// only the one that says caution proves the key is read.
TEST_F(AlarmKindsTest, ALeakRaisesOneStateAlarmPerPointAtItsOwnSeverityAndItStays) {
  start(R"(  - name: air
    type: sim
    interval: 250ms
    leak_after: 2s
    points:
      - name: tray
        signal: leak
        thresholds: {alarm_when: 1, severity: critical}
      - name: floor
        signal: leak
        thresholds: {alarm_when: 1, severity: caution}
)");
  ASSERT_TRUE(wait_until([&] { return events().size() >= 2; }, 15s)) << log();
  // The leak stays: four more polls raise and clear nothing.
  ASSERT_TRUE(let_it_poll(4)) << log();
  ASSERT_EQ(events().size(), 2u) << log();

  for (const auto& [id, severity] : {std::pair{"air.tray", v1::AlarmEvent::SEVERITY_CRITICAL},
                                     std::pair{"air.floor", v1::AlarmEvent::SEVERITY_CAUTION}}) {
    SCOPED_TRACE(id);
    const auto mine = events_of(id);
    ASSERT_EQ(mine.size(), 1u);
    const auto& e = mine[0];
    EXPECT_TRUE(e.raised());
    EXPECT_EQ(e.kind(), "state");
    EXPECT_EQ(e.severity(), severity);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e.value(), 1);
    ASSERT_TRUE(e.has_limit());
    EXPECT_EQ(e.limit(), 1) << "the limit of a state alarm is its alarm_when";
    // A transition the leak caused: dry readings first, and the alarm
    // raised by the first wet one.
    std::size_t dry = 0;
    std::optional<Reading> first_wet;
    for (const auto& r : readings_of(id)) {
      EXPECT_EQ(r.quality, v1::QUALITY_GOOD);
      if (r.value != 0) {
        first_wet = r;
        break;
      }
      ++dry;
    }
    EXPECT_GE(dry, 2u);
    ASSERT_TRUE(first_wet);
    EXPECT_EQ(first_wet->value, 1);
    EXPECT_EQ(e.time_ms(), first_wet->time_ms);
  }

  ASSERT_TRUE(active_set_has(2)) << log();
  const auto set = retained_set();
  EXPECT_EQ(set.agent_id(), "kinds-agent");
  ASSERT_EQ(set.alarms_size(), 2);
  for (const auto& a : set.alarms()) {
    EXPECT_EQ(a.kind(), "state");
    EXPECT_TRUE(a.raised());
    EXPECT_EQ(a.value(), 1);
  }
  const auto status = verb({"status"});
  EXPECT_THAT(status.out, HasSubstr("alarms    2 active"));
  EXPECT_THAT(status.out, HasSubstr("CRITICAL  air.tray state: value 1, limit 1, for "));
  EXPECT_THAT(status.out, HasSubstr("caution   air.floor state: value 1, limit 1, for "));
}

// A removed hwmon file: every poll still delivers, but without a good
// reading — the way a point stops being fresh in this agent (each tick
// gives every point a reading, good or not). `sensor_failed: false` keeps
// stale alone in the picture; putting the file back clears it.
TEST_F(AlarmKindsTest, StaleIsRaisedAfterStaleAfterPollsWithoutAGoodReadingAndClearedByTheNext) {
#if !RACKWATCH_WITH_HWMON
  GTEST_SKIP() << "this agent reads an hwmon tree; the build has RACKWATCH_WITH_HWMON off";
#endif
  const auto input = dir_ / "hwmon/hwmon0/temp1_input";
  // Written beside and renamed into place: a poll never reads half a value.
  const auto put = [&](const std::string& text) {
    write_file(dir_ / "staging", text);
    fs::rename(dir_ / "staging", input);
  };
  write_file(dir_ / "hwmon/hwmon0/name", "coretemp\n");
  put("40000\n");
  start(R"(  - name: board
    type: hwmon
    interval: 250ms
    root: )" + (dir_ / "hwmon").string() + R"(
    points:
      - name: inlet
        chip: coretemp
        sensor: temp1
        thresholds: {stale_after: 3, sensor_failed: false}
)");
  ASSERT_TRUE(let_it_poll(3)) << log();
  ASSERT_TRUE(events().empty()) << log();

  fs::remove(input);
  ASSERT_TRUE(wait_until([&] { return !events().empty(); }, 15s)) << log();
  const auto raised = events()[0];
  EXPECT_EQ(raised.point_id(), "board.inlet");
  EXPECT_EQ(raised.kind(), "stale");
  EXPECT_TRUE(raised.raised());
  EXPECT_EQ(raised.severity(), v1::AlarmEvent::SEVERITY_SENSOR_FAILED);
  EXPECT_FALSE(raised.has_value()) << "no value, never a 0 that reads as normal";
  EXPECT_FALSE(raised.has_limit());
  EXPECT_THAT(raised.reason(), HasSubstr("no good reading for 3 polls"));
  // Not before three polls had come without a good reading.
  std::optional<Reading> last_good;
  std::size_t bad = 0;
  for (const auto& r : readings_of("board.inlet")) {
    if (r.tick_ms > raised.time_ms()) break;
    if (r.quality == v1::QUALITY_GOOD) {
      last_good = r;
      bad = 0;
    } else {
      ++bad;
    }
  }
  ASSERT_TRUE(last_good);
  EXPECT_GE(bad, 3u);
  EXPECT_GE(raised.time_ms() - last_good->time_ms, 3 * 250);

  ASSERT_TRUE(active_set_has(1)) << log();
  auto set = retained_set();
  ASSERT_EQ(set.alarms_size(), 1);
  EXPECT_EQ(set.alarms(0).kind(), "stale");
  EXPECT_FALSE(set.alarms(0).has_value());
  EXPECT_THAT(verb({"status"}).out, HasSubstr("failed    board.inlet stale: no value: no good reading for 3 polls"));

  put("41500\n");
  ASSERT_TRUE(wait_until([&] { return events().size() >= 2; }, 15s)) << log();
  ASSERT_TRUE(let_it_poll(4)) << log();
  const auto all = events();
  ASSERT_EQ(all.size(), 2u) << "raised once, cleared once";
  EXPECT_EQ(all[1].kind(), "stale");
  EXPECT_FALSE(all[1].raised());
  ASSERT_TRUE(all[1].has_value()) << "cleared by a good reading, which it carries";
  EXPECT_EQ(all[1].value(), 41.5);
  EXPECT_EQ(all[1].sequence(), all[0].sequence() + 1);
  ASSERT_TRUE(active_set_has(0)) << log();
  set = retained_set();
  EXPECT_EQ(set.agent_id(), "kinds-agent");
  EXPECT_EQ(set.alarms_size(), 0);
}

// Two points whose reads fail from the first poll, alike but for
// `sensor_failed: false` on the second (which keeps a limit, so it has
// thresholds that merely leave failures out).
TEST_F(AlarmKindsTest, SensorFailedIsRaisedAfterFailedDelayWithTheReasonAndNoValueUnlessTurnedOff) {
  start(R"(  - name: cdu
    type: sim
    interval: 250ms
    fail: [cdu.flow, cdu.pressure]
    points:
      - name: flow
        signal: cdu.flow
        thresholds: {low_critical: 50, failed_delay: 1s}
      - name: pressure
        signal: cdu.pressure
        thresholds: {high_critical: 500, failed_delay: 1s, sensor_failed: false}
)");
  ASSERT_TRUE(wait_until([&] { return !events().empty(); }, 15s)) << log();
  // Both failed at the same polls: four polls after the first raise, the
  // second point would have been raised long since.
  ASSERT_TRUE(let_it_poll(4)) << log();
  EXPECT_TRUE(events_of("cdu.pressure").empty()) << "sensor_failed: false raises nothing";
  const auto all = events();
  // One event: a failed read (0 on the wire) is no evidence of a low flow.
  ASSERT_EQ(all.size(), 1u) << log();

  const auto& e = all[0];
  EXPECT_EQ(e.point_id(), "cdu.flow");
  EXPECT_EQ(e.kind(), "sensor_failed");
  EXPECT_TRUE(e.raised());
  EXPECT_EQ(e.severity(), v1::AlarmEvent::SEVERITY_SENSOR_FAILED);
  EXPECT_EQ(e.reason(), "simulated failure");
  EXPECT_FALSE(e.has_value()) << "absent, not 0: " << e.value();
  EXPECT_FALSE(e.has_limit()) << "absent, not 0: " << e.limit();
  // Raised only once the reads had failed for failed_delay.
  const auto readings = readings_of("cdu.flow");
  ASSERT_FALSE(readings.empty());
  for (const auto& r : readings) EXPECT_EQ(r.quality, v1::QUALITY_BAD);
  EXPECT_GE(e.time_ms() - readings.front().time_ms, 1000);

  ASSERT_TRUE(active_set_has(1)) << log();
  const auto set = retained_set();
  ASSERT_EQ(set.alarms_size(), 1);
  EXPECT_EQ(set.alarms(0).point_id(), "cdu.flow");
  EXPECT_FALSE(set.alarms(0).has_value());
  EXPECT_FALSE(set.alarms(0).has_limit());
  const auto status = verb({"status"});
  EXPECT_THAT(status.out, HasSubstr("alarms    1 active"));
  EXPECT_THAT(status.out, HasSubstr("failed    cdu.flow sensor_failed: no value: simulated failure, for "));
}

// The load, 90 kW with 0.5 kW of noise, steps to 150 kW for 750 ms (about
// three polls) at 3 s, and again for 4 s at 7 s; the limit, 120 kW, lies
// far from both levels; the delay is 2 s. All on the agent's own clock, so
// a slow test cannot lengthen the spike.
TEST_F(AlarmKindsTest, ADelayLetsASpikeShorterThanItPassAndRaisesAConditionThatHoldsLonger) {
  constexpr double kLimit = 120'000;
  start(R"(  - name: pdu
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
        - {after: 3750ms, base_kw: 90}
        - {after: 7s, base_kw: 150}
        - {after: 11s, base_kw: 90}
    points:
      - name: total
        signal: pdu.total.power
        thresholds: {high_critical: 120000, delay: 2s}
)");

  // What arrived, in arrival order, up to the eighth poll (2 s) after the
  // spike: the spike's readings and any alarm among them.
  struct Spike {
    std::optional<std::int64_t> first_above, last_above;
    std::size_t polls_after = 0;
    std::size_t alarms = 0;
  };
  constexpr std::size_t kPollsAfter = 8;
  const auto spike = [&] {
    Spike s;
    const auto known = catalogs();
    for (const auto& m : sub_->messages()) {
      if (m->get_topic() == kBase + "/alarm") ++s.alarms;
      v1::Telemetry t;
      if (m->get_topic() != kBase + "/telemetry" || !t.ParseFromString(m->get_payload_str())) continue;
      const auto sample = sample_of(t, "pdu.total", known);
      if (!sample) continue;
      const auto at = t.time_ms() + sample->time_offset_ms();
      if (sample->value() >= kLimit && s.polls_after == 0) {
        if (!s.first_above) s.first_above = at;
        s.last_above = at;
      } else if (s.first_above && ++s.polls_after == kPollsAfter) {
        break;
      }
    }
    return s;
  };
  Spike seen;
  ASSERT_TRUE(wait_until(
      [&] {
        seen = spike();
        return seen.polls_after == kPollsAfter;
      },
      15s))
      << "the spike was not seen through: " << (seen.first_above ? "seen" : "not seen") << "\n"
      << log();
  EXPECT_LT(*seen.last_above - *seen.first_above, 2000) << "the spike is shorter than the delay";
  EXPECT_EQ(seen.alarms, 0u) << "a spike shorter than the delay raised an alarm";

  ASSERT_TRUE(wait_until([&] { return events().size() >= 2; }, 15s)) << log();
  ASSERT_TRUE(let_it_poll(4)) << log();
  const auto all = events();
  ASSERT_EQ(all.size(), 2u) << "raised once, cleared once";
  EXPECT_TRUE(all[0].raised());
  EXPECT_EQ(all[0].kind(), "high_critical");
  EXPECT_EQ(all[0].severity(), v1::AlarmEvent::SEVERITY_CRITICAL);
  EXPECT_EQ(all[0].limit(), kLimit);
  EXPECT_GE(all[0].value(), kLimit);
  EXPECT_FALSE(all[1].raised());
  EXPECT_LT(all[1].value(), kLimit);
  // Raised only after the condition had held for the whole delay.
  std::optional<std::int64_t> held_from;
  for (const auto& r : readings_of("pdu.total")) {
    if (r.time_ms <= *seen.last_above) continue;  // the spike
    if (r.value >= kLimit) {
      held_from = r.time_ms;
      break;
    }
  }
  ASSERT_TRUE(held_from);
  EXPECT_GE(all[0].time_ms() - *held_from, 2000);
}

// An alarm raised before two reloads: the first adds a source (ahead of the
// leak's, so the point's index moves) and keeps the leak's thresholds; the
// second removes them.
TEST_F(AlarmKindsTest, AReloadKeepsAnAlarmWhoseThresholdsStayAndClearsItWhenTheyAreRemoved) {
  const std::string air = R"(  - name: air
    type: sim
    interval: 250ms
    leak_after: 1s
    points:
      - name: leak
        signal: leak
)";
  const std::string leak_thresholds = "        thresholds: {alarm_when: 1, severity: critical}\n";
  const std::string pdu = R"(  - name: pdu
    type: sim
    interval: 250ms
    points:
      - {name: total, signal: pdu.total.power}
)";
  start(air + leak_thresholds);
  ASSERT_TRUE(wait_until([&] { return !events().empty(); }, 15s)) << log();
  const auto raised = events()[0];
  ASSERT_EQ(raised.point_id(), "air.leak");
  ASSERT_TRUE(raised.raised());
  ASSERT_TRUE(active_set_has(1)) << log();
  const auto before = retained_set();
  ASSERT_EQ(before.alarms_size(), 1);

  write_config(pdu + air + leak_thresholds);
  auto r = verb({"reload"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err << log();
  EXPECT_THAT(r.out, HasSubstr("added pdu"));
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("restarted air")));
  ASSERT_TRUE(let_it_poll(6, "air")) << log();
  EXPECT_EQ(events().size(), 1u) << "neither cleared nor raised again";
  const auto kept = retained_set();
  EXPECT_EQ(kept.boot_id(), before.boot_id());
  ASSERT_EQ(kept.alarms_size(), 1);
  EXPECT_EQ(kept.alarms(0).point_id(), "air.leak");
  EXPECT_EQ(kept.alarms(0).kind(), "state");
  EXPECT_EQ(kept.alarms(0).sequence(), raised.sequence()) << "the raising event of before the reload";
  EXPECT_EQ(kept.alarms(0).time_ms(), raised.time_ms());
  // A late subscriber finds the point through the catalog retained beside it.
  const auto catalog = catalogs().back();
  EXPECT_NE(catalog.catalog_id(), raised.catalog_id()) << "the reload changed the catalog";
  EXPECT_EQ(kept.alarms(0).catalog_id(), catalog.catalog_id());
  ASSERT_LT(static_cast<int>(kept.alarms(0).point()), catalog.points_size());
  EXPECT_EQ(catalog.points(static_cast<int>(kept.alarms(0).point())).id(), "air.leak");
  auto status = verb({"status"});
  EXPECT_THAT(status.out, HasSubstr("alarms    1 active"));
  EXPECT_THAT(status.out, HasSubstr("CRITICAL  air.leak state: value 1, limit 1, for "));

  // Without thresholds the point has no alarm: the active set drops it at
  // once, retained, and a cleared event says why, so that a subscriber
  // keeping state from the events does not hold the raise for ever.
  const auto sets_before = decoded<v1::ActiveAlarms>(*sub_, kBase + "/alarms").size();
  write_config(pdu + air);
  r = verb({"reload"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err << log();
  EXPECT_THAT(r.out, HasSubstr("restarted air"));
  ASSERT_TRUE(wait_until(
      [&] {
        const auto sets = decoded<v1::ActiveAlarms>(*sub_, kBase + "/alarms");
        return sets.size() > sets_before && sets.back().alarms_size() == 0;
      },
      15s))
      << log();
  ASSERT_TRUE(let_it_poll(6, "air")) << log();
  for (const auto& e : events()) EXPECT_FALSE(e.raised() && e.sequence() != raised.sequence()) << "raised again";
  const auto all = events();
  ASSERT_EQ(all.size(), 2u) << "the raise, then one clear";
  EXPECT_FALSE(all[1].raised());
  EXPECT_EQ(all[1].point_id(), "air.leak");
  EXPECT_EQ(all[1].kind(), "state");
  EXPECT_EQ(all[1].sequence(), raised.sequence() + 1);
  EXPECT_FALSE(all[1].has_value());
  EXPECT_THAT(all[1].reason(), HasSubstr("withdrawn by a reload"));
  const auto after = retained_set();
  EXPECT_EQ(after.boot_id(), before.boot_id());
  EXPECT_EQ(after.alarms_size(), 0);
  status = verb({"status"});
  EXPECT_THAT(status.out, HasSubstr("alarms    none active"));
}

}  // namespace
}  // namespace rackwatch::test
