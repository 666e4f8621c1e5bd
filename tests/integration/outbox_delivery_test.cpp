// No reading lost: the real daemon, a real Mosquitto killed and restarted,
// the agent stopped and killed mid-outage, a full outbox, a damaged outbox.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <map>
#include <regex>
#include <set>

#include "rackwatch/v1/telemetry.pb.h"
#include "support/agent_state.hpp"
#include "support/mosquitto.hpp"
#include "support/net.hpp"
#include "support/process.hpp"
#include "support/run.hpp"
#include "support/temp_dir.hpp"
#include "support/test_subscriber.hpp"
#include "support/wait.hpp"

namespace rackwatch::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const std::string kBase = "rackwatch/v1/hall-o/r07";

// Seconds of broker outage in OutageLosesNothing (the issue asks for 60;
// RACKWATCH_OUTAGE_SECONDS shortens it for a quick local run).
std::chrono::seconds outage_length() {
  if (const char* env = std::getenv("RACKWATCH_OUTAGE_SECONDS")) return std::chrono::seconds(std::atoi(env));
  return 60s;
}

struct Seen {
  std::map<std::string, std::vector<std::uint64_t>> by_boot;  // arrival order
};

Seen telemetry_seen(const std::vector<mqtt::const_message_ptr>& messages) {
  Seen seen;
  for (const auto& m : messages) {
    if (m->get_topic() != kBase + "/telemetry") continue;
    v1::Telemetry t;
    if (!t.ParseFromString(m->get_payload_str())) continue;
    seen.by_boot[t.boot_id()].push_back(t.sequence());
  }
  return seen;
}

std::set<std::uint64_t> distinct(const std::vector<std::uint64_t>& v) { return {v.begin(), v.end()}; }

// Arrival order with repeats removed: delivery is at least once, so a
// message in flight at a disconnect may arrive again later; order is judged
// on first arrivals.
std::vector<std::uint64_t> first_arrivals(const std::vector<std::uint64_t>& v) {
  std::set<std::uint64_t> seen;
  std::vector<std::uint64_t> out;
  for (auto s : v) {
    if (seen.insert(s).second) out.push_back(s);
  }
  return out;
}

// The sequence numbers 1..n without those in `missing`.
std::set<std::uint64_t> range(std::uint64_t first, std::uint64_t last) {
  std::set<std::uint64_t> out;
  for (auto i = first; i <= last; ++i) out.insert(i);
  return out;
}

class OutboxDeliveryTest : public ::testing::Test {
 protected:
  OutboxDeliveryTest() : broker_(Mosquitto::Options{true, "max_queued_messages 0\nmax_inflight_messages 0\n", 10s}) {}

  // One source at 100 ms: 10 readings a second; `points` sim points each.
  std::string config(const std::string& fsync, std::size_t points = 4,
                     const std::string& max_size = "64MiB") {
    std::string text = R"(agent: {site: hall-o, rack: r07, id: outbox-agent}
mqtt:
  brokers: [)" + broker_.uri() + R"(]
  reconnect_min: 100ms
  reconnect_max: 1s
  keepalive: 5s
outbox:
  dir: )" + (dir_ / "outbox").string() + R"(
  fsync: )" + fsync + R"(
  fsync_interval: 200ms
  max_size: )" + max_size + R"(
diag: {socket: )" + (dir_ / "diag.sock").string() + R"(}
sources:
  - name: pdu
    type: sim
    interval: 100ms
    points:
)";
    for (std::size_t i = 0; i < points; ++i) {
      text += "      - {name: p" + std::to_string(i) + ", signal: pdu.l" + std::to_string(i % 3 + 1) +
              ".power}\n";
    }
    return text;
  }

  std::unique_ptr<Process> start_agent(const std::string& text, const std::string& log_name) {
    write_file(dir_ / "agent.yaml", text);
    Process::Options options;
    options.log_name = log_name;
    return std::make_unique<Process>(
        std::vector<std::string>{bin("rackwatchd"), "--verbose", "--config", (dir_ / "agent.yaml").string()},
        dir_.path(), options);
  }

  // A subscriber whose session the broker keeps across its own restarts.
  std::unique_ptr<TestSubscriber> subscriber() {
    return std::make_unique<TestSubscriber>(broker_.uri(), kBase + "/#", "outbox-test-subscriber", 10s);
  }

  // The boot id an agent's log names.
  static std::string boot_of(const std::string& log) {
    std::smatch m;
    static const std::regex re("boot ([0-9a-f]{32})");
    return std::regex_search(log, m, re) ? m[1].str() : std::string();
  }

  // The last telemetry sequence the agent logged as stored.
  static std::uint64_t last_stored(const std::string& log) {
    static const std::regex re("stored telemetry #([0-9]+)");
    std::uint64_t last = 0;
    for (auto it = std::sregex_iterator(log.begin(), log.end(), re); it != std::sregex_iterator(); ++it) {
      last = std::stoull((*it)[1]);
    }
    return last;
  }

  std::optional<boost::json::value> state() { return agent_state((dir_ / "diag.sock").string()); }

  // Waits until the running agent holds no record of an earlier boot, then
  // until `sub` has a message the agent stored after that: the broker passes
  // one client's messages on in order, so all of the backlog is in.
  bool backlog_delivered(TestSubscriber& sub, std::chrono::seconds timeout) {
    std::int64_t stored_then = 0;
    std::string boot;
    const bool drained = wait_until(
        [&] {
          const auto st = state();
          if (!st) return false;
          const auto oldest = json_int(st->at("outbox").at("oldest_ms"));
          stored_then = json_int(st->at("telemetry_sequence"));
          boot = std::string(st->at("boot_id").as_string());
          return oldest == 0 || oldest >= json_int(st->at("start_time_ms"));
        },
        timeout);
    return drained && wait_until(
                          [&] {
                            for (auto s : telemetry_seen(sub.messages()).by_boot[boot]) {
                              if (static_cast<std::int64_t>(s) > stored_then) return true;
                            }
                            return false;
                          },
                          timeout);
  }

  // The running agent drops whole segments while this reads the directory:
  // a file gone between the listing and its size counts nothing.
  std::uint64_t outbox_bytes() {
    std::uint64_t total = 0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir_ / "outbox", ec)) {
      std::error_code gone;
      const auto size = e.is_regular_file(gone) ? e.file_size(gone) : 0;
      if (!gone) total += size;
    }
    return total;
  }

  TempDir dir_{"rackwatch-outbox-it"};
  Mosquitto broker_;
};

TEST_F(OutboxDeliveryTest, OutageLosesNothing) {
  broker_.start();
  auto sub = subscriber();
  auto agent = start_agent(config("interval"), "agent.log");
  ASSERT_TRUE(sub->wait_for([](const auto& m) { return m->get_topic() == kBase + "/telemetry"; }, 10s))
      << agent->log();
  ASSERT_TRUE(broker_.wait_saved(10s)) << "the broker saves the subscriber's session every second";
  broker_.kill();
  // What arrived before the outage counts too.
  auto before = sub->messages();
  sub.reset();
  std::this_thread::sleep_for(outage_length());
  // Read while the broker is still down: all of these are backlog. (Read
  // later, fresh readings sent after the reconnect would count too, and they
  // may rightly overtake the backlog.)
  const auto taken_by_now = last_stored(agent->log());
  broker_.restart();
  sub = subscriber();
  auto all_messages = [&] {
    auto all = before;
    auto now = sub->messages();
    all.insert(all.end(), now.begin(), now.end());
    return all;
  };

  // Everything taken during the outage arrives, in order, then fresh readings.
  ASSERT_GT(taken_by_now, outage_length().count() * 8u) << "about 10 readings a second were taken";
  ASSERT_TRUE(wait_until(
      [&] {
        auto seen = telemetry_seen(all_messages());
        for (const auto& [boot, seqs] : seen.by_boot) {
          if (distinct(seqs).count(taken_by_now + 5)) return true;
        }
        return false;
      },
      60s, 100ms))
      << agent->log();
  agent->stop(10s);
  auto seen = telemetry_seen(all_messages());
  ASSERT_EQ(seen.by_boot.size(), 1u);
  const auto& seqs = seen.by_boot.begin()->second;
  const auto got = distinct(seqs);
  // The subscriber was there before the agent started: every reading, from the first.
  EXPECT_EQ(got, range(1, *got.rbegin()));
  // The backlog, which is what was taken while the broker was away, arrived in order.
  std::vector<std::uint64_t> backlog;
  for (auto s : first_arrivals(seqs)) {
    if (s <= taken_by_now) backlog.push_back(s);
  }
  EXPECT_TRUE(std::is_sorted(backlog.begin(), backlog.end()));
}

// Stopped (SIGTERM) while the broker is away, then started again: what was
// taken before the stop arrives once the broker is back.
TEST_F(OutboxDeliveryTest, RestartDuringOutageLosesNothing) {
  struct Case {
    std::string how;    // term: SIGTERM, kill: SIGKILL
    std::string fsync;
  };
  for (const auto& [how, fsync] : {Case{"term", "interval"}, Case{"kill", "always"}, Case{"kill", "interval"}}) {
    SCOPED_TRACE(how + " with fsync " + fsync);
    broker_.start();
    auto sub = subscriber();
    ASSERT_TRUE(broker_.wait_saved(10s)) << "the subscriber's session is saved before the broker is killed";
    broker_.kill();

    auto first = start_agent(config(fsync), "first-" + how + "-" + fsync + ".log");
    ASSERT_TRUE(wait_until([&] { return last_stored(first->log()) >= 20; }, 15s)) << first->log();
    if (how == "term") {
      auto status = first->stop(10s);
      ASSERT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << first->log();
    } else {
      first->kill();
    }
    const auto taken = last_stored(first->log());
    const auto first_log = first->log();
    const auto first_boot = boot_of(first_log);
    ASSERT_FALSE(first_boot.empty()) << first_log;

    broker_.restart();
    sub = subscriber();
    auto second = start_agent(config(fsync), "second-" + how + "-" + fsync + ".log");
    // fsync interval after SIGKILL: at most the readings of the last interval
    // (200 ms at 10 a second) may be missing, and only at the end.
    const std::uint64_t allowed = how == "kill" && fsync == "interval" ? 3 : 0;
    ASSERT_TRUE(wait_until(
        [&] {
          const auto got = distinct(telemetry_seen(sub->messages()).by_boot[first_boot]);
          return got.count(taken - allowed) > 0;
        },
        30s))
        << "first run:\n" << first_log << "second run:\n" << second->log();
    ASSERT_TRUE(backlog_delivered(*sub, 30s)) << second->log();
    second->stop(10s);
    auto seqs = telemetry_seen(sub->messages()).by_boot[first_boot];
    const auto got = distinct(seqs);
    // Every reading the first run stored, from 1 on, in order; after a kill
    // with fsync interval a gap is allowed only in the last interval.
    EXPECT_EQ(*got.begin(), 1u);
    EXPECT_GE(*got.rbegin() + allowed, taken);
    EXPECT_EQ(got, range(1, *got.rbegin())) << "no gap before the end";
    const auto order = first_arrivals(seqs);
    EXPECT_TRUE(std::is_sorted(order.begin(), order.end()));
    broker_.kill();
    sub.reset();
    fs::remove_all(dir_ / "outbox");
  }
}

TEST_F(OutboxDeliveryTest, AFullOutboxDropsTheOldestAndCountsThemExactly) {
  broker_.start();
  auto sub = subscriber();
  // A clean stop saves the subscriber's session (a kill keeps only what the
  // last autosave wrote): what the agent sends after the restart, before the
  // subscriber is back, waits for it instead of being lost to it.
  broker_.stop();
  // 400 points a reading: about 6 KiB a message, 60 KiB a second into a 1 MiB cap.
  auto agent = start_agent(config("interval", 400, "1MiB"), "agent.log");
  std::uint64_t peak = 0;
  ASSERT_TRUE(wait_until(
      [&] {
        peak = std::max(peak, outbox_bytes());
        return agent->log().find("dropped") != std::string::npos && last_stored(agent->log()) > 300;
      },
      90s, 20ms))
      << agent->log();
  EXPECT_LE(peak, 1u << 20) << "the outbox stays under its cap";
  broker_.restart();
  sub = subscriber();
  // Once the backlog is through, a clean stop publishes the final counters.
  ASSERT_TRUE(wait_until(
      [&] {
        auto seen = telemetry_seen(sub->messages());
        return !seen.by_boot.empty() && distinct(seen.by_boot.begin()->second).count(last_stored(agent->log()) - 5);
      },
      60s, 100ms));
  ASSERT_TRUE(agent->stop(10s));
  const auto offline = sub->wait_for(
      [](const auto& m) {
        if (m->get_topic() != kBase + "/status") return false;
        v1::AgentStatus s;
        return s.ParseFromString(m->get_payload_str()) && s.state() == v1::AgentStatus::STATE_OFFLINE;
      },
      10s);
  ASSERT_TRUE(offline);
  v1::AgentStatus status;
  ASSERT_TRUE(status.ParseFromString((*offline)->get_payload_str()));
  auto seen = telemetry_seen(sub->messages());
  ASSERT_EQ(seen.by_boot.size(), 1u);
  const auto got = distinct(seen.by_boot.begin()->second);
  const auto taken = status.telemetry_sequence();
  ASSERT_GT(status.outbox().dropped(), 0u);
  // The oldest record, dropped first, is the catalog stored at start, ahead
  // of the readings made for it; the others dropped are readings.
  const auto dropped_readings = status.outbox().dropped() - 1;
  EXPECT_EQ(taken - got.size(), dropped_readings) << "taken " << taken << ", received " << got.size();
  // The dropped ones are the oldest.
  EXPECT_EQ(got, range(dropped_readings + 1, taken));
}

TEST_F(OutboxDeliveryTest, ADamagedOutboxDeliversEveryIntactRecord) {
  // Fill an outbox with the broker away (its port chosen, nothing there yet), then stop.
  const auto port = test::free_port();
  auto text = config("interval");
  const std::string unstarted = broker_.uri();
  text.replace(text.find(unstarted), unstarted.size(), "tcp://127.0.0.1:" + std::to_string(port));
  auto agent = start_agent(text, "first.log");
  ASSERT_TRUE(wait_until([&] { return last_stored(agent->log()) >= 30; }, 15s)) << agent->log();
  agent->stop(10s);
  const auto taken = last_stored(agent->log());
  const auto first_boot = boot_of(agent->log());
  ASSERT_FALSE(first_boot.empty()) << agent->log();

  // Damage it: one flipped byte in the middle of a segment, and a torn tail.
  std::vector<fs::path> segments;
  for (const auto& e : fs::directory_iterator(dir_ / "outbox")) {
    if (e.path().extension() == ".rwq") segments.push_back(e.path());
  }
  ASSERT_FALSE(segments.empty());
  std::sort(segments.begin(), segments.end());
  const auto& seg = segments.back();
  const auto size = fs::file_size(seg);
  {
    std::fstream f(seg, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(size / 2));
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x10);
    f.seekp(static_cast<std::streamoff>(size / 2));
    f.write(&c, 1);
  }
  fs::resize_file(seg, size - 7);
  write_file(dir_ / "outbox" / "notes.txt", "not ours\n");

  broker_.start(port);
  auto sub = subscriber();
  agent = start_agent(config("interval"), "second.log");
  // Wait for the backlog itself: every intact record of the first run.
  ASSERT_TRUE(wait_until(
      [&] { return distinct(telemetry_seen(sub->messages()).by_boot[first_boot]).size() >= taken - 2; },
      20s))
      << agent->log();
  agent->stop(10s);
  const auto log = agent->log();
  EXPECT_THAT(log, ::testing::HasSubstr("skipped"));
  EXPECT_THAT(log, ::testing::HasSubstr("notes.txt"));

  auto seen = telemetry_seen(sub->messages());
  const auto old_boot = distinct(seen.by_boot[first_boot]);
  // All but the damaged record and the torn last one.
  std::string missing;
  for (std::uint64_t i = 1; i <= taken; ++i) {
    if (!old_boot.count(i)) missing += " #" + std::to_string(i);
  }
  EXPECT_EQ(old_boot.size(), taken - 2) << "taken " << taken << ", missing" << missing << "\n" << log;
  EXPECT_FALSE(old_boot.count(taken));
}

// The disk fills (a file-size limit makes every write past 16 KiB fail, as
// ENOSPC would): readings the outbox cannot store are held in memory and
// still reach the broker; the status counts the failed writes.
TEST_F(OutboxDeliveryTest, AFullDiskLosesNoReadingWhileTheBrokerIsThere) {
  broker_.start();
  auto sub = subscriber();
  write_file(dir_ / "agent.yaml", config("interval"));
  Process::Options options;
  options.log_name = "agent.log";
  auto agent = std::make_unique<Process>(
      std::vector<std::string>{"prlimit", "--fsize=16384", "--", bin("rackwatchd"), "--verbose", "--config",
                               (dir_ / "agent.yaml").string()},
      dir_.path(), options);
  ASSERT_TRUE(wait_until([&] { return agent->log().find("held in memory") != std::string::npos; }, 30s))
      << agent->log();
  // More readings taken with the disk full.
  ASSERT_TRUE(wait_until(
      [&] {
        const auto st = state();
        return st && json_int(st->at("outbox").at("write_errors")) >= 15;
      },
      15s))
      << agent->log();
  ASSERT_TRUE(agent->running()) << agent->log();
  auto status = agent->stop(10s);
  ASSERT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << agent->log();

  const auto offline = sub->wait_for(
      [](const auto& m) {
        v1::AgentStatus s;
        return m->get_topic() == kBase + "/status" && s.ParseFromString(m->get_payload_str()) &&
               s.state() == v1::AgentStatus::STATE_OFFLINE;
      },
      10s);
  ASSERT_TRUE(offline);
  v1::AgentStatus st;
  ASSERT_TRUE(st.ParseFromString((*offline)->get_payload_str()));
  EXPECT_GT(st.outbox().write_errors(), 10u);
  EXPECT_EQ(st.messages_dropped(), 0u);
  auto seen = telemetry_seen(sub->messages());
  ASSERT_EQ(seen.by_boot.size(), 1u);
  EXPECT_EQ(distinct(seen.by_boot.begin()->second), range(1, st.telemetry_sequence()));
}

}  // namespace
}  // namespace rackwatch::test
