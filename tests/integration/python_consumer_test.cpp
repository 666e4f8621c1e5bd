// The Python reference consumer (clients/python) against a live agent, side
// by side with `rackwatch tail --json`: both subscribed before the agent
// starts, through a reload that changes the point list, they print every
// telemetry message alike: the same points, values, qualities and times;
// and with a persistent session the consumer misses nothing while away.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

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

using Key = std::pair<std::string, std::int64_t>;  // (boot_id, sequence)

// The telemetry lines of a log, by (boot_id, sequence); every other line
// (the consumer's notes on stderr, tail's status and catalog) is left out.
std::map<Key, boost::json::object> telemetry_lines(const std::string& log, int* duplicates = nullptr) {
  std::map<Key, boost::json::object> out;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line.front() != '{') continue;
    boost::system::error_code ec;
    auto v = boost::json::parse(line, ec);
    if (ec || !v.is_object()) continue;
    auto& o = v.as_object();
    const auto* type = o.if_contains("type");
    if (!type || !type->is_string() || type->as_string() != "telemetry") continue;
    Key key{std::string(o.at("boot_id").as_string()), o.at("sequence").to_number<std::int64_t>()};
    if (!out.emplace(key, o).second && duplicates) ++*duplicates;
  }
  return out;
}

class PythonConsumerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string python = RACKWATCH_PYTHON;
    if (python.empty()) {
      GTEST_SKIP() << "no python3 with the modules google.protobuf and paho.mqtt "
                      "(Debian python3-protobuf, python3-paho-mqtt; scripts/bootstrap installs them)";
    }
    if (!std::filesystem::exists(std::string(RACKWATCH_PYTHON_PATH) + "/rackwatch/v1/telemetry_pb2.py")) {
      GTEST_SKIP() << "the Python schema was not generated in " << RACKWATCH_PYTHON_PATH;
    }
    broker_.start();
    socket_ = (dir_ / "diag.sock").string();
    write_config(kPoints);
  }

  void write_config(const std::string& pdu_points) {
    write_file(dir_ / "agent.yaml", agent_config_head("hall-p", "r21", "py-agent", broker_.uri(), dir_.path()) +
                                        "sources:\n  - name: pdu\n    type: sim\n    interval: 200ms\n"
                                        "    points:\n" + pdu_points +
                                        "  - name: cdu\n    type: sim\n    interval: 300ms\n"
                                        "    fail: [cdu.flow]\n    points:\n"
                                        "      - {name: supply, signal: cdu.supply_temp}\n"
                                        "      - {name: flow, signal: cdu.flow}\n");
  }

  void start_tail() {
    tail_.emplace(std::vector<std::string>{bin("rackwatch"), "tail", "--broker", broker_.uri(), "--json"},
                  dir_.path(), Process::Options{{}, "tail.log"});
  }

  void start_consumer(std::vector<std::string> args, const std::string& log_name) {
    Process::Options py;
    py.env = {"PYTHONPATH=" + std::string(RACKWATCH_PYTHON_PATH), "PYTHONDONTWRITEBYTECODE=1"};
    py.log_name = log_name;
    args.insert(args.begin(), {RACKWATCH_PYTHON, source_path("clients/python/rackwatch_consumer.py"), "--broker",
                               broker_.uri()});
    consumer_.reset();
    consumer_.emplace(args, dir_.path(), py);
  }

  // Both subscribed: the consumer says so; tail says nothing with --json, but
  // a message of a kind it does not know comes back as an error line.
  void wait_subscribed() {
    ASSERT_TRUE(
        wait_until([&] { return consumer_log().find("subscribed to rackwatch/v1/#") != std::string::npos; }, 15s))
        << consumer_log();
    TestSubscriber marker(broker_.uri(), "pyconsumer-test/none");
    ASSERT_TRUE(wait_until(
        [&] {
          marker.publish("rackwatch/v1/hall-p/r21/marker", "x");
          return wait_until([&] { return tail_log().find("/marker") != std::string::npos; }, 500ms);
        },
        15s))
        << tail_log();
  }

  void start_agent() {
    agent_.emplace(std::vector<std::string>{bin("rackwatchd"), "--config", (dir_ / "agent.yaml").string()},
                   dir_.path());
  }

  std::string tail_log() const { return tail_->log(); }
  std::string consumer_log() const { return consumer_->log(); }

  // Telemetry lines whose catalog is not `except`.
  static std::size_t count(const std::map<Key, boost::json::object>& lines, const std::string& except = "") {
    std::size_t n = 0;
    for (const auto& [key, o] : lines) n += o.at("catalog_id").as_string() != except;
    return n;
  }

  const std::string kPoints =
      "      - {name: total, signal: pdu.total.power}\n"
      "      - {name: energy, signal: pdu.energy}\n";
  // The reload's change: a point added, so a new catalog.
  const std::string kMorePoints = kPoints + "      - {name: l1, signal: pdu.l1.power}\n";

  TempDir dir_{"rackwatch-pyconsumer"};
  Mosquitto broker_;
  std::string socket_;
  std::optional<Process> tail_;
  std::optional<Process> consumer_;
  std::optional<Process> agent_;
};

TEST_F(PythonConsumerTest, PrintsEveryTelemetryMessageAsTailDoes) {
  // Both subscribed before the agent starts: each sees every message.
  start_tail();
  start_consumer({}, "consumer.log");
  ASSERT_NO_FATAL_FAILURE(wait_subscribed());

  start_agent();
  ASSERT_TRUE(wait_until([&] { return count(telemetry_lines(consumer_log())) >= 20; }, 20s, 200ms))
      << consumer_log() << agent_->log();
  const std::string first_catalog(telemetry_lines(consumer_log()).begin()->second.at("catalog_id").as_string());

  write_config(kMorePoints);
  const auto r = rackwatch_verb(socket_, {"reload"});
  ASSERT_EQ(r.exit_code, 0) << r.err << agent_->log();
  ASSERT_TRUE(wait_until(
      [&] {
        return count(telemetry_lines(consumer_log()), first_catalog) >= 20 &&
               count(telemetry_lines(tail_log()), first_catalog) >= 20;
      },
      20s, 200ms))
      << consumer_log() << tail_log();

  // The agent stops: nothing more comes, and the consumer catches up with
  // tail (it may hold a message briefly while it waits for its catalog).
  ASSERT_TRUE(agent_->stop(10s).has_value());
  ASSERT_TRUE(wait_until(
      [&] { return telemetry_lines(consumer_log()).size() >= telemetry_lines(tail_log()).size(); }, 10s, 200ms));
  tail_->stop();
  consumer_->stop();

  int tail_duplicates = 0;
  const auto from_tail = telemetry_lines(tail_log(), &tail_duplicates);
  int consumer_duplicates = 0;
  const auto from_consumer = telemetry_lines(consumer_log(), &consumer_duplicates);
  EXPECT_EQ(consumer_duplicates, 0) << "the consumer drops a duplicate by (boot_id, sequence)";
  if (tail_duplicates > 0) std::cout << "tail printed " << tail_duplicates << " duplicates\n";

  // The same messages, the same lines: every key and value, samples included.
  std::set<std::string> catalogs;
  ASSERT_EQ(from_consumer.size(), from_tail.size()) << consumer_log() << tail_log();
  for (const auto& [key, expected] : from_tail) {
    const auto it = from_consumer.find(key);
    ASSERT_NE(it, from_consumer.end()) << "sequence " << key.second << " missing from the consumer";
    // Both parsed, then serialized alike: the same keys in the same order, the same values.
    EXPECT_EQ(boost::json::serialize(it->second), boost::json::serialize(expected));
    EXPECT_TRUE(it->second.at("catalog_known").as_bool()) << boost::json::serialize(it->second);
    catalogs.insert(std::string(expected.at("catalog_id").as_string()));
  }
  EXPECT_EQ(catalogs.size(), 2u) << "telemetry of both catalogs, before and after the reload";
  std::cout << from_tail.size() << " telemetry messages compared\n";

  // Named from the catalog; the failing point bad, without a value, with its reason.
  bool l1 = false;
  bool bad_flow = false;
  for (const auto& [key, o] : from_consumer) {
    for (const auto& sv : o.at("samples").as_array()) {
      const auto& s = sv.as_object();
      l1 |= s.at("point").as_string() == "pdu.l1";
      if (s.at("point").as_string() == "cdu.flow") {
        bad_flow = s.at("quality").as_string() == "bad" && s.at("value").is_null() && s.contains("reason");
      }
    }
  }
  EXPECT_TRUE(l1) << "the point the reload added";
  EXPECT_TRUE(bad_flow);
  // A clean run: the first message is a baseline, and none is missing after it.
  EXPECT_THAT(consumer_log(), ::testing::Not(HasSubstr("gap")));
  EXPECT_THAT(consumer_log(), ::testing::Not(HasSubstr("duplicate")));
}

// With --client-id the session is persistent: what the agent published
// while the consumer was away comes when it is back, and the two runs
// together print what tail printed, nothing missing, each named from its
// catalog (on the return the queued telemetry may come before the retained
// catalog: the consumer holds it until then).
TEST_F(PythonConsumerTest, APersistentSessionGetsWhatCameWhileAway) {
  start_tail();
  start_consumer({"--client-id", "pyconsumer-persistent"}, "consumer-1.log");
  ASSERT_NO_FATAL_FAILURE(wait_subscribed());
  start_agent();
  ASSERT_TRUE(wait_until([&] { return count(telemetry_lines(consumer_log())) >= 10; }, 20s, 200ms))
      << consumer_log() << agent_->log();
  ASSERT_TRUE(consumer_->stop().has_value());
  const auto first_run = consumer_log();
  const auto away_from = telemetry_lines(tail_log()).size();
  ASSERT_TRUE(wait_until([&] { return telemetry_lines(tail_log()).size() >= away_from + 10; }, 20s, 200ms));

  start_consumer({"--client-id", "pyconsumer-persistent"}, "consumer-2.log");
  ASSERT_TRUE(wait_until([&] { return count(telemetry_lines(consumer_log())) >= 15; }, 20s, 200ms))
      << consumer_log();
  ASSERT_TRUE(agent_->stop(10s).has_value());
  auto both = [&] {
    auto all = telemetry_lines(first_run);
    all.merge(telemetry_lines(consumer_log()));  // a message in flight at the stop may come twice
    return all;
  };
  ASSERT_TRUE(wait_until([&] { return both().size() >= telemetry_lines(tail_log()).size(); }, 10s, 200ms));
  tail_->stop();
  consumer_->stop();

  const auto from_tail = telemetry_lines(tail_log());
  const auto from_consumer = both();
  ASSERT_EQ(from_consumer.size(), from_tail.size()) << first_run << consumer_log() << tail_log();
  for (const auto& [key, expected] : from_tail) {
    const auto it = from_consumer.find(key);
    ASSERT_NE(it, from_consumer.end()) << "sequence " << key.second << " missing from the consumer";
    EXPECT_EQ(boost::json::serialize(it->second), boost::json::serialize(expected));
  }
  // The second run's first message is its baseline: no gap between the runs to report.
  EXPECT_THAT(consumer_log(), ::testing::Not(HasSubstr("gap")));
}

}  // namespace
}  // namespace rackwatch::test
