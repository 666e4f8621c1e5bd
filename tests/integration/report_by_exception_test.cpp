// Report by exception in the running agent, on an hwmon tree whose values the
// test sets: an absolute deadband sends only moves beyond it from the value
// last sent; a percent deadband is a share of that value, so it grows with
// it; a point that does not move is sent again once max_age has passed and
// not before; a poll with nothing to send sends no message; a change of
// quality or reason goes at once whatever the deadband; and when a message
// goes anyway, points past half their max_age ride along in it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <boost/json.hpp>

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
using ::testing::DoubleNear;
using ::testing::HasSubstr;
using ::testing::Pointwise;

const std::string kBase = "rackwatch/v1/hall-e/r05";
constexpr std::int64_t kIntervalMs = 200;

// One sample of a point as the subscriber got it.
struct Sent {
  std::uint64_t sequence = 0;
  std::int64_t time_ms = 0;  // the sample's own time (tick + offset): what max_age is measured on
  double value = 0;
  v1::Quality quality = v1::QUALITY_UNKNOWN;
  std::string reason;
};

// The agent's latest reading of a point, from its diag socket: sent or not.
struct Latest {
  std::optional<double> value;
  std::string quality;
  std::string reason;
  std::int64_t time_ms = 0;
};

std::int64_t integer(const boost::json::value& v) {
  // proto3 JSON writes 64-bit integers as strings.
  return v.is_string() ? std::stoll(std::string(v.as_string())) : v.to_number<std::int64_t>();
}

std::vector<double> values(const std::vector<Sent>& sent) {
  std::vector<double> out;
  for (const auto& s : sent) out.push_back(s.value);
  return out;
}

class ReportByExceptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
#if !RACKWATCH_WITH_HWMON
    GTEST_SKIP() << "this agent reads an hwmon tree; the build has RACKWATCH_WITH_HWMON off";
#endif
    broker_.start();
    write_file(chip_ / "name", "rbe\n");
  }

  // Starts the agent with `board`, the hwmon chip with `points` (YAML list
  // items), and `clock`, a simulated PDU without a deadband: each of its
  // polls is sent, so the agent is seen publishing while the board is quiet.
  void start(const std::string& points) {
    write_file(dir_ / "agent.yaml",
               agent_config_head("hall-e", "r05", "rbe-agent", broker_.uri(), dir_.path()) +
                   "sources:\n  - name: board\n    type: hwmon\n    interval: 200ms\n    root: " +
                   (dir_ / "hwmon").string() + "\n    points:\n" + points +
                   "  - name: clock\n    type: sim\n    interval: 200ms\n    points: [{name: power, signal: "
                   "pdu.total.power}]\n");
    sub_.emplace(broker_.uri(), kBase + "/#");
    agent_.emplace(std::vector<std::string>{bin("rackwatchd"), "--config", (dir_ / "agent.yaml").string()},
                   dir_.path());
    auto message = sub_->wait_for_topic(kBase + "/catalog", 15s);
    ASSERT_TRUE(message) << agent_->log();
    ASSERT_TRUE(catalog_.ParseFromString((*message)->get_payload_str()));
    for (int i = 0; i < catalog_.points_size(); ++i) index_[catalog_.points(i).id()] = static_cast<std::uint32_t>(i);
  }

  // Files are replaced whole (rename), so that a poll never reads one half
  // written: an empty read would be a bad reading, which is always news.
  void put(const std::string& file, const std::string& text) {
    const auto staged = dir_ / ("staged-" + file);
    write_file(staged, text);
    std::filesystem::rename(staged, chip_ / file);
  }
  // In the kernel's units: m°C, µW.
  void set_celsius(int n, double c) {
    put("temp" + std::to_string(n) + "_input", std::to_string(std::llround(c * 1000)) + "\n");
  }
  void set_watts(int n, double w) {
    put("power" + std::to_string(n) + "_input", std::to_string(std::llround(w * 1e6)) + "\n");
  }

  const v1::Point& point(const std::string& id) { return catalog_.points(static_cast<int>(index_.at(id))); }

  // Every telemetry message once (QoS 1 may repeat one), by sequence number.
  std::map<std::uint64_t, v1::Telemetry> telemetry() const {
    std::map<std::uint64_t, v1::Telemetry> out;
    for (auto& t : decoded<v1::Telemetry>(*sub_, kBase + "/telemetry")) out.emplace(t.sequence(), std::move(t));
    return out;
  }
  std::vector<v1::Telemetry> messages_of(const std::string& source) const {
    std::vector<v1::Telemetry> out;
    for (const auto& [seq, t] : telemetry()) {
      if (t.source() == source) out.push_back(t);
    }
    return out;
  }
  // The samples of point `id` the subscriber got, in sequence order.
  std::vector<Sent> sent(const std::string& id) const {
    const auto want = index_.at(id);
    std::vector<Sent> out;
    for (const auto& [seq, t] : telemetry()) {
      for (const auto& s : t.samples()) {
        if (s.point() != want) continue;
        out.push_back({seq, t.time_ms() + s.time_offset_ms(), s.value(), s.quality(), s.reason()});
      }
    }
    return out;
  }

  std::optional<boost::json::object> diag(std::vector<std::string> args) const {
    args.push_back("--json");
    const auto r = rackwatch_verb((dir_ / "diag.sock").string(), std::move(args));
    if (r.exit_code != 0 && r.exit_code != 1) return std::nullopt;  // 1: some reading is not good
    try {
      return boost::json::parse(r.out).as_object();
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  std::optional<Latest> latest(const std::string& id) const {
    auto j = diag({"read", "--source", "board"});
    if (!j) return std::nullopt;
    for (const auto& p : j->at("read").at("points").as_array()) {
      if (p.at("id").as_string() != id) continue;
      Latest out;
      if (const auto* v = p.as_object().if_contains("value"); v && v->is_number()) {
        out.value = v->to_number<double>();
      }
      out.quality = std::string(p.at("quality").as_string());
      out.reason = std::string(p.at("reason").as_string());
      out.time_ms = integer(p.at("time_ms"));
      return out;
    }
    return std::nullopt;
  }
  // The board's completed polls and the last telemetry sequence number taken.
  std::optional<std::pair<std::int64_t, std::uint64_t>> counters() const {
    auto j = diag({"status"});
    if (!j) return std::nullopt;
    const auto& st = j->at("status").as_object();
    for (const auto& s : st.at("sources").as_array()) {
      if (s.at("name").as_string() == "board") {
        const auto sequence = static_cast<std::uint64_t>(integer(st.at("telemetry_sequence")));
        return std::pair{integer(s.at("polls")), sequence};
      }
    }
    return std::nullopt;
  }

  // Everything the agent published until now has reached the subscriber:
  // every sequence number up to the last one it took. The outbox is ordered
  // and numbers each message it keeps, so nothing can still be on its way.
  void flush() {
    const auto c = counters();
    ASSERT_TRUE(c);
    ASSERT_TRUE(wait_until(
        [&] {
          const auto all = telemetry();
          for (std::uint64_t s = 1; s <= c->second; ++s) {
            if (!all.contains(s)) return false;
          }
          return true;
        },
        15s, 20ms))
        << "telemetry up to #" << c->second << " did not all arrive\n" << agent_->log();
  }

  // Waits until the agent's latest reading of `id` satisfies `holds` and it
  // has read the board twice more since, then until all it published by then
  // has arrived: what the subscriber has is all those polls were to send.
  // `first_seen`: the time of the first such reading the test saw, which is
  // at or after the first the agent took.
  void observe(const std::string& id, const std::function<bool(const Latest&)>& holds,
               std::int64_t* first_seen = nullptr) {
    std::int64_t first = 0;
    ASSERT_TRUE(wait_until(
        [&] {
          const auto l = latest(id);
          if (l && holds(*l)) first = l->time_ms;
          return first != 0;
        },
        15s, 50ms))
        << id << " never read as expected; latest: " << (latest(id) ? latest(id)->quality : "none") << "\n"
        << agent_->log();
    ASSERT_TRUE(wait_until(
        [&] {
          const auto l = latest(id);
          return l && holds(*l) && l->time_ms >= first + 2 * kIntervalMs;
        },
        15s, 50ms))
        << id << " did not hold for three polls";
    if (first_seen) *first_seen = first;
    ASSERT_NO_FATAL_FAILURE(flush());
  }
  void observe_value(const std::string& id, double v, std::int64_t* first_seen = nullptr) {
    observe(
        id,
        [v](const Latest& l) { return l.quality == "QUALITY_GOOD" && l.value && std::abs(*l.value - v) < 1e-6; },
        first_seen);
  }

  TempDir dir_{"rackwatch-rbe"};
  std::filesystem::path chip_ = dir_ / "hwmon/hwmon0";
  Mosquitto broker_;
  std::optional<TestSubscriber> sub_;
  std::optional<Process> agent_;
  v1::Catalog catalog_;
  std::map<std::string, std::uint32_t> index_;
};

struct Step {
  double value;
  bool news;         // sent, or held back by the deadband
  const char* why;
};

TEST_F(ReportByExceptionTest, AnAbsoluteDeadbandSendsOnlyMovesBeyondItFromTheLastValueSent) {
  set_celsius(1, 40.0);
  ASSERT_NO_FATAL_FAILURE(start("      - {name: temp, chip: rbe, sensor: temp1, deadband: 0.2, max_age: 1h}\n"));
  EXPECT_EQ(point("board.temp").deadband(), 0.2);
  EXPECT_FALSE(point("board.temp").deadband_percent());
  EXPECT_EQ(point("board.temp").max_age_ms(), 3'600'000u);
  ASSERT_TRUE(wait_until([&] { return sent("board.temp").size() == 1; }, 15s)) << agent_->log();

  const Step steps[] = {
      {40.15, false, "0.15 from 40, the last sent"},
      {39.85, false, "0.15 from 40, though 0.3 from the last read"},
      {40.25, true, "0.25 from 40"},
      {40.1, false, "0.15 from 40.25, now the last sent"},
      {40.0, true, "0.25 from 40.25"},
      {39.7, true, "0.3 from 40"},
  };
  std::vector<double> expected{40.0};
  for (const auto& step : steps) {
    SCOPED_TRACE(std::to_string(step.value) + ": " + step.why);
    set_celsius(1, step.value);
    std::int64_t seen = 0;
    ASSERT_NO_FATAL_FAILURE(observe_value("board.temp", step.value, &seen));
    if (step.news) expected.push_back(step.value);
    ASSERT_THAT(values(sent("board.temp")), Pointwise(DoubleNear(1e-9), expected));
    // News goes with the first poll that reads it.
    if (step.news) {
      EXPECT_LE(sent("board.temp").back().time_ms, seen);
    }
  }
  for (const auto& s : sent("board.temp")) EXPECT_EQ(s.quality, v1::QUALITY_GOOD) << s.reason;
}

TEST_F(ReportByExceptionTest, APercentDeadbandIsAShareOfTheLastValueSent) {
  set_watts(1, 10'000);
  ASSERT_NO_FATAL_FAILURE(start("      - {name: power, chip: rbe, sensor: power1, deadband: 1%, max_age: 1h}\n"));
  EXPECT_EQ(point("board.power").deadband(), 1.0);
  EXPECT_TRUE(point("board.power").deadband_percent());
  ASSERT_TRUE(wait_until([&] { return sent("board.power").size() == 1; }, 15s)) << agent_->log();

  const Step steps[] = {
      {10'060, false, "60 W from 10 kW: within its 1 %, 100 W"},
      {9'950, false, "50 W from 10 kW, though 110 W from the last read"},
      {10'120, true, "120 W from 10 kW"},
      {10'030, false, "90 W from 10.12 kW: within 101.2 W"},
      {20'000, true, "far beyond"},
      {20'150, false, "150 W from 20 kW: within its 1 %, now 200 W"},
      {19'750, true, "250 W from 20 kW"},
  };
  std::vector<double> expected{10'000};
  for (const auto& step : steps) {
    SCOPED_TRACE(std::to_string(step.value) + " W: " + step.why);
    set_watts(1, step.value);
    ASSERT_NO_FATAL_FAILURE(observe_value("board.power", step.value));
    if (step.news) expected.push_back(step.value);
    ASSERT_THAT(values(sent("board.power")), Pointwise(DoubleNear(1e-6), expected));
  }
}

TEST_F(ReportByExceptionTest, MaxAgeSendsAPointThatDoesNotMoveAgainOnceItHasPassedAndNotBefore) {
  set_celsius(1, 30.0);
  ASSERT_NO_FATAL_FAILURE(start("      - {name: temp, chip: rbe, sensor: temp1, max_age: 1s}\n"));
  EXPECT_EQ(point("board.temp").max_age_ms(), 1000u);
  ASSERT_TRUE(wait_until([&] { return sent("board.temp").size() >= 6; }, 20s)) << agent_->log();

  const auto all = sent("board.temp");
  for (std::size_t i = 1; i < all.size(); ++i) {
    SCOPED_TRACE("sample " + std::to_string(i));
    EXPECT_EQ(all[i].value, 30.0);
    EXPECT_EQ(all[i].quality, v1::QUALITY_GOOD) << all[i].reason;
    const auto gap = all[i].time_ms - all[i - 1].time_ms;
    EXPECT_GE(gap, 1000) << "sent again before max_age";
    // At the first poll once it has passed, measured between read times: at
    // 1000 ms, or at 1200 when this read came a little sooner after its tick
    // than the last one sent. Well before a second max_age in any case.
    EXPECT_LT(gap, 2000) << "not sent again when max_age had passed";
  }
  // Each of the board's messages carried it: the polls between sent none.
  EXPECT_EQ(messages_of("board").size(), all.size());
}

TEST_F(ReportByExceptionTest, APollWithNothingToSendSendsNoMessage) {
  set_celsius(1, 40.0);
  ASSERT_NO_FATAL_FAILURE(start("      - {name: temp, chip: rbe, sensor: temp1, deadband: 0.5, max_age: 1h}\n"));
  ASSERT_TRUE(wait_until([&] { return messages_of("board").size() == 1; }, 15s)) << agent_->log();
  const auto before = counters();
  ASSERT_TRUE(before);
  const auto clock_before = messages_of("clock").size();

  // A move inside the deadband, then ten more polls of the board (the diag
  // counts them) while the clock's messages keep arriving.
  set_celsius(1, 40.3);
  ASSERT_NO_FATAL_FAILURE(observe_value("board.temp", 40.3));
  ASSERT_TRUE(wait_until(
      [&] {
        const auto c = counters();
        return c && c->first >= before->first + 10 && messages_of("clock").size() >= clock_before + 10;
      },
      15s, 50ms))
      << agent_->log();
  ASSERT_NO_FATAL_FAILURE(flush());

  const auto board = messages_of("board");
  ASSERT_EQ(board.size(), 1u);
  EXPECT_EQ(board[0].samples_size(), 1);
  EXPECT_EQ(board[0].samples(0).value(), 40.0);
  // Every number the agent took is a message received, and none is empty.
  const auto all = telemetry();
  EXPECT_EQ(all.size(), all.rbegin()->first);
  for (const auto& [seq, t] : all) EXPECT_GT(t.samples_size(), 0) << "telemetry #" << seq;
}

TEST_F(ReportByExceptionTest, AChangeOfQualityOrReasonIsSentAtOnceDespiteTheDeadband) {
  set_celsius(1, 40.0);
  // A band wider than the value itself: a bad sample's value (0) is inside
  // it, and so is the good value coming back after it; only the quality and
  // the reason can make either news.
  ASSERT_NO_FATAL_FAILURE(start("      - {name: temp, chip: rbe, sensor: temp1, deadband: 50, max_age: 1h}\n"));
  ASSERT_TRUE(wait_until([&] { return sent("board.temp").size() == 1; }, 15s)) << agent_->log();
  const auto file = (chip_ / "temp1_input").string();

  // Each change goes with the first poll that reads it: its sample is no
  // later than the first such reading the test saw.
  std::int64_t seen = 0;
  std::filesystem::remove(chip_ / "temp1_input");
  ASSERT_NO_FATAL_FAILURE(observe(
      "board.temp", [](const Latest& l) { return l.reason.find("no such file") != std::string::npos; }, &seen));
  auto all = sent("board.temp");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].quality, v1::QUALITY_BAD);
  EXPECT_EQ(all[1].reason, "no such file: " + file);
  EXPECT_LE(all[1].time_ms, seen);

  // Still bad for the same reason: nothing new.
  const auto c = counters();
  ASSERT_TRUE(c);
  ASSERT_TRUE(wait_until([&] { auto n = counters(); return n && n->first >= c->first + 3; }, 15s, 50ms));
  ASSERT_NO_FATAL_FAILURE(flush());
  EXPECT_EQ(sent("board.temp").size(), 2u);

  // Bad for another reason: news.
  put("temp1_input", "garbage\n");
  ASSERT_NO_FATAL_FAILURE(observe(
      "board.temp", [](const Latest& l) { return l.reason.find("not an integer") != std::string::npos; }, &seen));
  all = sent("board.temp");
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[2].quality, v1::QUALITY_BAD);
  EXPECT_EQ(all[2].reason, "not an integer: 'garbage' in " + file);
  EXPECT_LE(all[2].time_ms, seen);

  // Good again, at the value last sent as good: news by its quality alone.
  set_celsius(1, 40.0);
  ASSERT_NO_FATAL_FAILURE(observe_value("board.temp", 40.0, &seen));
  all = sent("board.temp");
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[3].quality, v1::QUALITY_GOOD);
  EXPECT_EQ(all[3].value, 40.0);
  EXPECT_EQ(all[3].reason, "");
  EXPECT_LE(all[3].time_ms, seen);
}

// `a` moves when the test moves it; `b` never moves and has a max_age of
// 10 s. A message that `a` makes go carries `b` only once b's last sample
// sent is 5 s old (half its max_age), sooner than b's own max_age would.
TEST_F(ReportByExceptionTest, WhenAMessageGoesAnywayPointsPastHalfTheirMaxAgeRideAlong) {
  set_celsius(1, 40.0);
  set_celsius(2, 30.0);
  ASSERT_NO_FATAL_FAILURE(start("      - {name: a, chip: rbe, sensor: temp1, deadband: 0.2, max_age: 1h}\n"
                                "      - {name: b, chip: rbe, sensor: temp2, max_age: 10s}\n"));
  ASSERT_TRUE(wait_until([&] { return messages_of("board").size() == 1; }, 15s)) << agent_->log();
  const auto b0 = sent("board.b");
  ASSERT_EQ(b0.size(), 1u);
  const std::int64_t b_sent = b0[0].time_ms;

  // Soon after b was sent: a's message goes without it.
  set_celsius(1, 41.0);
  ASSERT_NO_FATAL_FAILURE(observe_value("board.a", 41.0));
  // Once b's last sample sent is past half its max_age.
  ASSERT_TRUE(wait_until(
      [&] {
        const auto l = latest("board.b");
        return l && l->time_ms >= b_sent + 5'000;
      },
      15s, 50ms));
  set_celsius(1, 42.0);
  ASSERT_NO_FATAL_FAILURE(observe_value("board.a", 42.0));

  const auto id_a = index_.at("board.a");
  const auto id_b = index_.at("board.b");
  // The rule over every message of the board: b is in one that goes anyway
  // (it carries a) only from half its max_age on, and alone only from its
  // whole max_age on. A message without b says that b's sample of that poll,
  // taken after a's, was not yet half max_age from the last sent.
  std::int64_t last_b = b_sent;
  int a_alone = 0;
  int rode_along = 0;
  const auto board = messages_of("board");
  for (std::size_t i = 1; i < board.size(); ++i) {
    SCOPED_TRACE("telemetry #" + std::to_string(board[i].sequence()));
    std::optional<v1::Sample> a, b;
    for (const auto& s : board[i].samples()) {
      if (s.point() == id_a) a = s;
      if (s.point() == id_b) b = s;
    }
    if (b) {
      const auto age = board[i].time_ms() + b->time_offset_ms() - last_b;
      EXPECT_GE(age * 2, 10'000) << "b rode along before half its max_age";
      if (!a) {
        EXPECT_GE(age, 10'000) << "b was sent alone before its max_age";
      }
      if (a && age < 10'000) ++rode_along;
      EXPECT_EQ(b->value(), 30.0);
      last_b += age;
    } else {
      ASSERT_TRUE(a);
      EXPECT_LT(board[i].time_ms() + a->time_offset_ms() - last_b, 5'000) << "b past half its max_age was left out";
      ++a_alone;
    }
  }
  EXPECT_GE(a_alone, 1) << "a's first move went without b";
  EXPECT_EQ(rode_along, 1) << "b rode along with a's second move";
  // And that second move is the message b rode in.
  const auto a_sent = sent("board.a");
  const auto b_all = sent("board.b");
  ASSERT_EQ(a_sent.size(), 3u);
  EXPECT_EQ(a_sent[2].value, 42.0);
  ASSERT_GE(b_all.size(), 2u);
  EXPECT_EQ(b_all[1].sequence, a_sent[2].sequence);
}

}  // namespace
}  // namespace rackwatch::test
