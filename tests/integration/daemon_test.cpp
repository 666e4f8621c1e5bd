// rackwatchd end to end: the real daemon, a real Mosquitto, a subscriber.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include <sys/socket.h>
#include <sys/un.h>

#include <boost/json.hpp>
#include <algorithm>
#include <csignal>
#include <thread>
#include <sstream>

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
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kBase = "rackwatch/v1/hall-t/r99";

// Two simulated sources at a short interval; `extra` adds sources.
std::string config_for(const std::string& broker, const std::filesystem::path& outbox,
                       const std::string& extra = "") {
  return R"(agent: {site: hall-t, rack: r99, id: test-agent}
mqtt:
  brokers: [)" + broker + R"(]
  reconnect_min: 100ms
  reconnect_max: 500ms
  keepalive: 5s
outbox:
  dir: )" + outbox.string() + R"(
diag: {socket: )" + (outbox.parent_path() / "diag.sock").string() + R"(}
sources:
  - name: pdu
    type: sim
    interval: 200ms
    seed: 3
    points:
      - {name: l1, signal: pdu.l1.power}
      - {name: l2, signal: pdu.l2.power}
      - {name: l3, signal: pdu.l3.power}
      - {name: total, signal: pdu.total.power}
  - name: cdu
    type: sim
    interval: 500ms
    points:
      - {name: supply, signal: cdu.supply_temp}
      - {name: return, signal: cdu.return_temp}
)" + extra;
}

class DaemonTest : public ::testing::Test {
 protected:
  void start_agent(const std::string& extra = "") {
    write_file(dir_ / "agent.yaml", config_for(broker_.uri(), dir_ / "outbox", extra));
    agent_ = std::make_unique<Process>(
        std::vector<std::string>{bin("rackwatchd"), "--config", (dir_ / "agent.yaml").string()},
        dir_.path());
  }

  static std::optional<v1::Telemetry> telemetry(const mqtt::const_message_ptr& m) {
    if (m->get_topic() != kBase + "/telemetry") return std::nullopt;
    v1::Telemetry t;
    if (!t.ParseFromString(m->get_payload_str())) return std::nullopt;
    return t;
  }

  static std::optional<v1::AgentStatus> status(const std::optional<mqtt::const_message_ptr>& m) {
    if (!m) return std::nullopt;
    v1::AgentStatus s;
    if (!s.ParseFromString((*m)->get_payload_str())) return std::nullopt;
    return s;
  }

  std::string diagnostics() { return agent_ ? "--- agent log ---\n" + agent_->log() : ""; }

  // The ticks a source's loop woke too late for, as `rackwatch status --json` says.
  std::int64_t missed_ticks(const std::string& source) {
    const auto state = agent_state((dir_ / "diag.sock").string());
    if (!state) throw std::runtime_error("rackwatch status failed");
    return json_int(source_state(*state, source).at("missed_ticks"));
  }

  void SetUp() override { broker_.start(); }

  TempDir dir_{"rackwatch-daemon"};
  Mosquitto broker_;
  std::unique_ptr<Process> agent_;
};

TEST_F(DaemonTest, PublishesBirthCatalogAndTelemetryThatProtocDecodes) {
  TestSubscriber sub(broker_.uri(), "rackwatch/v1/#");
  start_agent();

  auto st = status(sub.wait_for_topic(kBase + "/status", 10s));
  ASSERT_TRUE(st) << diagnostics();
  EXPECT_EQ(st->state(), v1::AgentStatus::STATE_ONLINE);
  EXPECT_EQ(st->agent_id(), "test-agent");
  EXPECT_EQ(st->boot_id().size(), 32u);

  auto cat_msg = sub.wait_for_topic(kBase + "/catalog", 10s);
  ASSERT_TRUE(cat_msg) << diagnostics();
  v1::Catalog cat;
  ASSERT_TRUE(cat.ParseFromString((*cat_msg)->get_payload_str()));
  ASSERT_EQ(cat.points_size(), 6);
  EXPECT_EQ(cat.points(3).id(), "pdu.total");
  EXPECT_EQ(cat.points(3).unit_symbol(), "W");
  EXPECT_EQ(cat.points(5).id(), "cdu.return");

  // Both are retained: a subscriber that comes later still gets them.
  auto retained_status = TestSubscriber::read_retained(broker_.uri(), kBase + "/status", 3s);
  ASSERT_TRUE(retained_status);
  EXPECT_EQ(status(retained_status)->state(), v1::AgentStatus::STATE_ONLINE);
  EXPECT_TRUE(TestSubscriber::read_retained(broker_.uri(), kBase + "/catalog", 3s));

  // Telemetry every interval, sequence numbers without gaps, values that
  // add up as the rack model says (phases sum to the total).
  ASSERT_TRUE(wait_until(
      [&] {
        int n = 0;
        for (const auto& m : sub.messages()) n += telemetry(m) ? 1 : 0;
        return n >= 12;
      },
      15s))
      << diagnostics();
  std::vector<v1::Telemetry> all;
  for (const auto& m : sub.messages()) {
    if (auto t = telemetry(m)) all.push_back(*t);
  }
  for (std::size_t i = 1; i < all.size(); ++i) EXPECT_EQ(all[i].sequence(), all[i - 1].sequence() + 1);
  int pdu_polls = 0;
  for (const auto& t : all) {
    EXPECT_EQ(t.catalog_id(), cat.catalog_id());
    EXPECT_EQ(t.boot_id(), st->boot_id());
    if (t.source() != "pdu") continue;
    ++pdu_polls;
    ASSERT_EQ(t.samples_size(), 4);
    double phases = 0;
    for (int k = 0; k < 3; ++k) {
      EXPECT_EQ(t.samples(k).quality(), v1::QUALITY_GOOD) << t.samples(k).reason();
      phases += t.samples(k).value();
    }
    EXPECT_NEAR(phases, t.samples(3).value(), 1e-6 * t.samples(3).value());
    EXPECT_GT(t.samples(3).value(), 10'000);  // a GPU rack draws tens of kW
    EXPECT_EQ(t.time_ms() % 200, 0) << "ticks are aligned to the interval";
  }
  EXPECT_GE(pdu_polls, 6);

  // protoc's own decoder reads a telemetry payload with nothing but the .proto.
  std::string payload;
  for (const auto& m : sub.messages()) {
    if (telemetry(m)) {
      payload = m->get_payload_str();
      break;
    }
  }
  auto decoded = protoc_decode("rackwatch.v1.Telemetry", payload, dir_.path());
  EXPECT_EQ(decoded.exit_code, 0) << decoded.err;
  EXPECT_THAT(decoded.out, HasSubstr("agent_id: \"test-agent\""));
  EXPECT_THAT(decoded.out, HasSubstr("sequence: "));
  EXPECT_THAT(decoded.out, HasSubstr("samples {"));
}

TEST_F(DaemonTest, ReconnectsByItselfAfterTheBrokerIsKilled) {
  start_agent();
  {
    TestSubscriber sub(broker_.uri(), kBase + "/#");
    ASSERT_TRUE(sub.wait_for([](const auto& m) { return telemetry(m).has_value(); }, 10s))
        << diagnostics();
  }
  broker_.kill();  // SIGKILL: no goodbye to anyone; retained messages are gone with it
  std::this_thread::sleep_for(1s);  // the agent polls on while the broker is away
  broker_.restart();

  // The birth is published again by itself, and telemetry resumes.
  TestSubscriber sub(broker_.uri(), kBase + "/#");
  auto st = status(sub.wait_for_topic(kBase + "/status", 15s));
  ASSERT_TRUE(st) << diagnostics();
  EXPECT_EQ(st->state(), v1::AgentStatus::STATE_ONLINE);
  EXPECT_TRUE(sub.wait_for_topic(kBase + "/catalog", 5s));
  auto first = sub.wait_for([](const auto& m) { return telemetry(m).has_value(); }, 10s);
  ASSERT_TRUE(first) << diagnostics();
  const auto seq = telemetry(*first)->sequence();
  EXPECT_TRUE(sub.wait_for(
      [&](const auto& m) {
        auto t = telemetry(m);
        return t && t->sequence() > seq + 3;
      },
      10s));
  EXPECT_TRUE(agent_->running());
  EXPECT_THAT(agent_->log(), HasSubstr("(again)"));
}

TEST_F(DaemonTest, SigtermLeavesStatusOfflineAndExitsZero) {
  start_agent();
  ASSERT_TRUE(wait_until(
      [&] {
        auto st = status(TestSubscriber::read_retained(broker_.uri(), kBase + "/status", 200ms));
        return st && st->state() == v1::AgentStatus::STATE_ONLINE;
      },
      10s))
      << diagnostics();
  ASSERT_TRUE(agent_->signal(SIGTERM));
  auto exit_status = agent_->wait_exit(10s);
  ASSERT_TRUE(exit_status) << diagnostics();
  EXPECT_TRUE(WIFEXITED(*exit_status) && WEXITSTATUS(*exit_status) == 0)
      << Process::describe(*exit_status) << diagnostics();
  auto st = status(TestSubscriber::read_retained(broker_.uri(), kBase + "/status", 2s));
  ASSERT_TRUE(st);
  EXPECT_EQ(st->state(), v1::AgentStatus::STATE_OFFLINE);
  EXPECT_GT(st->messages_published(), 0u) << "a clean stop reports its counters";
}

// Two agents on one outbox would mix their records: the second refuses to
// start, and says which process holds it.
TEST_F(DaemonTest, ASecondAgentOnTheSameOutboxSaysWhoHoldsIt) {
  start_agent();
  ASSERT_TRUE(wait_until([&] { return agent_->log().find("outbox ") != std::string::npos; }, 10s)) << diagnostics();
  // Its own diag socket, the same outbox.
  const auto second = dir_ / "second";
  std::filesystem::create_directories(second);
  auto text = config_for(broker_.uri(), dir_ / "outbox");
  const auto socket = (dir_ / "diag.sock").string();
  text.replace(text.find(socket), socket.size(), (second / "diag.sock").string());
  write_file(second / "agent.yaml", text);
  auto r = run({bin("rackwatchd"), "--config", (second / "agent.yaml").string()}, 20s);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("outbox directory '" + (dir_ / "outbox").string() + "' is in use by another rackwatchd (pid " +
                                   std::to_string(agent_->pid()) + "): two agents on one outbox would mix their records"))
      << r.err;
  EXPECT_TRUE(agent_->running()) << "the first one is unharmed";
}

TEST_F(DaemonTest, SigkillMakesTheBrokerPublishTheWill) {
  TestSubscriber sub(broker_.uri(), kBase + "/status");
  start_agent();
  auto online = status(sub.wait_for_topic(kBase + "/status", 10s));
  ASSERT_TRUE(online && online->state() == v1::AgentStatus::STATE_ONLINE) << diagnostics();
  agent_->kill();
  auto will = sub.wait_for(
      [](const auto& m) {
        auto s = status(m);
        return s && s->state() == v1::AgentStatus::STATE_OFFLINE;
      },
      10s);
  ASSERT_TRUE(will) << "no will after SIGKILL\n" << broker_.log();
  EXPECT_EQ(status(will)->boot_id(), online->boot_id());
  auto retained = status(TestSubscriber::read_retained(broker_.uri(), kBase + "/status", 2s));
  ASSERT_TRUE(retained);
  EXPECT_EQ(retained->state(), v1::AgentStatus::STATE_OFFLINE);
}

TEST_F(DaemonTest, ASlowSourceDelaysNoOther) {
  // A device that takes 3 s to answer, with a 300 ms deadline.
  TestSubscriber sub(broker_.uri(), kBase + "/telemetry");
  start_agent(R"(  - name: slow
    type: sim
    interval: 1s
    timeout: 300ms
    delay: 3s
    points:
      - {name: leak, signal: leak}
)");
  ASSERT_TRUE(wait_until(
      [&] {
        int slow = 0;
        for (const auto& m : sub.messages()) slow += telemetry(m)->source() == "slow" ? 1 : 0;
        return slow >= 4;
      },
      15s))
      << diagnostics();
  const auto messages = sub.messages();
  int pdu = 0;
  int timeouts = 0;
  int still_running = 0;
  std::int64_t first_ms = 0;
  std::int64_t last_ms = 0;
  for (const auto& m : messages) {
    auto t = telemetry(m);
    if (t->source() == "pdu") {
      if (first_ms == 0) first_ms = t->time_ms();
      last_ms = t->time_ms();
      ++pdu;
      EXPECT_EQ(t->samples(0).quality(), v1::QUALITY_GOOD);
    }
    if (t->source() == "slow") {
      EXPECT_EQ(t->samples(0).quality(), v1::QUALITY_BAD);
      timeouts += t->samples(0).reason().find("timeout") != std::string::npos;
      still_running += t->samples(0).reason().find("still running") != std::string::npos;
    }
  }
  // The fast source kept its 200 ms cadence meanwhile: a tick may be lost to
  // a starved test machine, and the agent counts each such tick as missed,
  // but none to the slow source.
  const auto ticks = (last_ms - first_ms) / 200 + 1;
  const auto missed = missed_ticks("pdu");
  EXPECT_GE(pdu + missed, ticks) << pdu << " messages for " << ticks << " ticks, " << missed << " missed";
  EXPECT_GE(ticks, 15);
  EXPECT_GE(timeouts, 1);
  EXPECT_GE(still_running, 1);
}

// An agent frozen for a while (a controller too busy to schedule it, or
// suspended) cannot poll at the ticks that pass meanwhile; it must say so,
// not leave a hole nobody can explain. The ticks missing from telemetry are
// the ones `missed_ticks` counts.
TEST_F(DaemonTest, AFrozenAgentCountsTheTicksItMissed) {
  TestSubscriber sub(broker_.uri(), kBase + "/telemetry");
  start_agent();
  auto pdu_ticks = [&] {
    std::vector<std::int64_t> out;
    for (const auto& m : sub.messages()) {
      if (auto t = telemetry(m); t && t->source() == "pdu") out.push_back(t->time_ms());
    }
    return out;
  };
  ASSERT_TRUE(wait_until([&] { return pdu_ticks().size() >= 3; }, 10s)) << diagnostics();
  ASSERT_TRUE(agent_->signal(SIGSTOP));
  // Frozen for at least five 200 ms ticks, measured by the broker's clock as
  // much as ours: the subscriber sees nothing from the agent meanwhile.
  const auto frozen_at = sub.messages().size();
  std::this_thread::sleep_for(1200ms);
  EXPECT_LE(sub.messages().size(), frozen_at + 1) << "a frozen agent published";
  ASSERT_TRUE(agent_->signal(SIGCONT));
  const auto seen_before = pdu_ticks().size();
  ASSERT_TRUE(wait_until([&] { return pdu_ticks().size() >= seen_before + 3; }, 10s)) << diagnostics();

  auto ticks = pdu_ticks();
  std::sort(ticks.begin(), ticks.end());
  std::int64_t holes = 0;
  for (std::size_t i = 1; i < ticks.size(); ++i) holes += (ticks[i] - ticks[i - 1]) / 200 - 1;
  const auto missed = missed_ticks("pdu");
  EXPECT_GE(holes, 4) << "the freeze left no hole";
  // Every hole is counted; the counter may hold a tick or two more if the
  // loaded machine delayed the agent after the last message seen.
  EXPECT_GE(missed, holes);
  EXPECT_LE(missed, holes + 2);
  const auto devices = rackwatch_verb((dir_ / "diag.sock").string(), {"devices"});
  EXPECT_THAT(devices.out, HasSubstr("missed ticks")) << devices.out;
}

TEST_F(DaemonTest, TailDecodesWhatTheAgentPublishes) {
  start_agent();
  // Wait for the retained catalog so that tail names the values at once.
  ASSERT_TRUE(wait_until(
      [&] { return TestSubscriber::read_retained(broker_.uri(), kBase + "/catalog", 200ms).has_value(); },
      10s))
      << diagnostics();
  auto r = run({bin("rackwatch"), "tail", "--broker", broker_.uri(), "--count", "9", "--timeout",
                "20s", "--json"},
               30s);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<boost::json::object> lines;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) lines.push_back(boost::json::parse(line).as_object());
  ASSERT_EQ(lines.size(), 9u) << r.out;
  // The retained state comes first: status, the catalog (current and under
  // its id), this boot's (empty) active-alarm set and the snapshot; then
  // telemetry with names and units.
  constexpr std::size_t kRetained = 5;
  std::map<std::string, int> retained;
  for (std::size_t i = 0; i < kRetained; ++i) {
    SCOPED_TRACE(r.out);
    EXPECT_TRUE(lines[i].at("retained").as_bool());
    const auto type = std::string(lines[i].at("type").as_string());
    ++retained[type];
    if (type == "status") {
      EXPECT_EQ(lines[i].at("state").as_string(), "online");
    }
    if (type == "alarms") {
      EXPECT_TRUE(lines[i].at("active").as_array().empty());
    }
  }
  EXPECT_EQ(retained, (std::map<std::string, int>{{"alarms", 1}, {"catalog", 2}, {"snapshot", 1}, {"status", 1}}));
  bool saw_named_pdu = false;
  for (std::size_t i = kRetained; i < lines.size(); ++i) {
    ASSERT_EQ(lines[i].at("type").as_string(), "telemetry");
    EXPECT_TRUE(lines[i].at("catalog_known").as_bool());
    for (const auto& sv : lines[i].at("samples").as_array()) {
      const auto& sample = sv.as_object();
      if (sample.at("point").as_string() == "pdu.total") {
        saw_named_pdu = true;
        EXPECT_EQ(sample.at("unit").as_string(), "W");
        EXPECT_EQ(sample.at("quality").as_string(), "good");
        EXPECT_GT(sample.at("value").to_number<double>(), 10'000);
      }
    }
  }
  EXPECT_TRUE(saw_named_pdu) << r.out;

  // The text form names values with units too.
  auto text = run({bin("rackwatch"), "tail", "--broker", broker_.uri(), "--count", "9", "--timeout", "20s"},
                  30s);
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("status online"));
  EXPECT_THAT(text.out, ::testing::ContainsRegex("pdu\\.total +[0-9.]+ +kW"));
}

TEST_F(DaemonTest, TailSaysWhenItCannotConnect) {
  const auto port = std::to_string(free_port());
  auto r = run({bin("rackwatch"), "tail", "--broker", "tcp://127.0.0.1:" + port, "--count", "1"}, 30s);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("cannot connect to tcp://127.0.0.1:" + port + ": connection refused by 127.0.0.1:" +
                               port + ": nothing listens on port " + port));
  EXPECT_THAT(r.err, Not(HasSubstr("MQTT error")));
}

// rackwatchd tells systemd it is ready after the first polls, pings the
// watchdog when asked to, and says when it stops: a datagram socket stands
// in for systemd's notify socket, as the protocol allows.
TEST_F(DaemonTest, NotifiesSystemdReadyWatchdogAndStopping) {
  const auto sock_path = dir_ / "notify.sock";
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock_path.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  timeval tv{0, 200'000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

  write_file(dir_ / "agent.yaml", config_for(broker_.uri(), dir_ / "outbox"));
  Process::Options options;
  options.env = {"NOTIFY_SOCKET=" + sock_path.string(), "WATCHDOG_USEC=400000"};
  agent_ = std::make_unique<Process>(
      std::vector<std::string>{bin("rackwatchd"), "--config", (dir_ / "agent.yaml").string()},
      dir_.path(), options);

  std::vector<std::string> got;
  auto receive_until = [&](const std::string& what, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      char buf[512];
      const auto n = ::recv(fd, buf, sizeof buf, 0);
      if (n > 0) {
        got.emplace_back(buf, static_cast<std::size_t>(n));
        if (got.back().find(what) != std::string::npos) return true;
      }
    }
    return false;
  };
  EXPECT_TRUE(receive_until("READY=1", 10s)) << diagnostics();
  int pings = 0;
  for (int i = 0; i < 3; ++i) pings += receive_until("WATCHDOG=1", 2s) ? 1 : 0;
  EXPECT_EQ(pings, 3) << "the watchdog is pinged every WATCHDOG_USEC/2";
  agent_->signal(SIGTERM);
  EXPECT_TRUE(receive_until("STOPPING=1", 10s));
  auto exit_status = agent_->wait_exit(10s);
  ASSERT_TRUE(exit_status);
  EXPECT_TRUE(WIFEXITED(*exit_status) && WEXITSTATUS(*exit_status) == 0);
  ::close(fd);
}

}  // namespace
}  // namespace rackwatch::test
