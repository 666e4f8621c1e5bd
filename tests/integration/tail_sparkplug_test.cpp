// `rackwatch tail` on an agent of format sparkplug, against a real
// Mosquitto: from the agent's config it subscribes to the group's topics,
// and the data, sent by alias only, comes out named from the births, with
// units; the NBIRTH shows its bdSeq.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <sstream>
#include <thread>

#include "sparkplug_b/sparkplug_b.pb.h"
#include "support/mosquitto.hpp"
#include "support/process.hpp"
#include "support/run.hpp"
#include "support/sparkplug_decoder.hpp"
#include "support/temp_dir.hpp"
#include "support/test_subscriber.hpp"
#include "support/wait.hpp"

namespace rackwatch::test {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

std::string config_for(const std::string& broker, const std::filesystem::path& dir) {
  return R"(agent: {site: hall-s, rack: r11, id: spb-tail-agent}
mqtt:
  brokers: [)" + broker + R"(]
  format: sparkplug
  reconnect_min: 100ms
outbox: {dir: )" + (dir / "outbox").string() + R"(}
diag: {socket: )" + (dir / "diag.sock").string() + R"(}
sources:
  - name: pdu
    type: sim
    interval: 200ms
    points:
      - {name: l1, signal: pdu.l1.power}
      - {name: l2, signal: pdu.l2.power}
derived:
  - name: total
    quantity: power
    expr: pdu.l1 + pdu.l2
)";
}

// The JSON lines of a log (which may hold other lines too).
std::vector<json::object> json_lines(const std::string& log) {
  std::vector<json::object> lines;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.front() == '{') lines.push_back(json::parse(line).as_object());
  }
  return lines;
}


TEST(TailSparkplugTest, DataIsNamedFromTheBirthsWithUnits) {
  TempDir dir("rackwatch-tail-spb");
  Mosquitto broker;
  broker.start();
  const auto config = (dir / "agent.yaml").string();
  write_file(config, config_for(broker.uri(), dir.path()));

  // tail first, so that it sees the births the agent sends when it connects.
  Process tail({bin("rackwatch"), "tail", "--config", config, "--json", "--count", "30", "--timeout", "40s"},
               dir.path());
  ASSERT_TRUE(wait_until([&] { return broker.log().find("as rackwatch-tail-") != std::string::npos; }, 10s))
      << tail.log() << broker.log();
  std::this_thread::sleep_for(300ms);  // its SUBSCRIBE follows the CONNACK
  Process agent({bin("rackwatchd"), "--config", config}, dir.path());
  // Had the subscription come late after all, a host's rebirth command
  // sends the births again.
  TestSubscriber host(broker.uri(), "spBv1.0/hall-s/NBIRTH/#");
  for (int i = 0; i < 5 && tail.log().find("\"NBIRTH\"") == std::string::npos; ++i) {
    if (!wait_until([&] { return tail.log().find("\"NBIRTH\"") != std::string::npos; }, 5s) &&
        !host.messages().empty()) {
      host.publish("spBv1.0/hall-s/NCMD/r11", sparkplug_rebirth_command());
    }
  }
  const auto exit = tail.wait_exit(45s);
  ASSERT_TRUE(exit) << tail.log();
  ASSERT_TRUE(WIFEXITED(*exit) && WEXITSTATUS(*exit) == 0) << tail.log() << agent.log();

  const auto lines = json_lines(tail.log());
  ASSERT_EQ(lines.size(), 30u) << tail.log();
  bool node_born = false;
  bool pdu_born = false;
  std::size_t ddata = 0;
  std::size_t ndata = 0;
  for (const auto& l : lines) {
    SCOPED_TRACE(json::serialize(l));
    ASSERT_FALSE(l.contains("error"));
    EXPECT_EQ(l.at("format").as_string(), "sparkplug");
    EXPECT_EQ(l.at("group").as_string(), "hall-s");  // the site: the config sets no group_id
    EXPECT_EQ(l.at("edge_node").as_string(), "r11");
    const auto type = std::string(l.at("type").as_string());
    const auto& metrics = l.at("metrics").as_array();
    if (type == "NBIRTH") {
      node_born = true;
      EXPECT_EQ(l.at("seq").to_number<std::uint64_t>(), 0u);
      EXPECT_TRUE(l.at("bd_seq").is_int64());  // a number (parsed back as int64)
      EXPECT_EQ(metrics.at(0).at("name").as_string(), "bdSeq");
      EXPECT_TRUE(l.at("problems").as_array().empty());
    } else if (type == "DBIRTH") {
      EXPECT_EQ(l.at("device").as_string(), "pdu");
      pdu_born = true;
    }
    if (type == "DDATA" && pdu_born) {
      ++ddata;
      EXPECT_TRUE(l.at("problems").as_array().empty());
      for (const auto& mv : metrics) {
        const auto& m = mv.as_object();
        EXPECT_THAT(std::string(m.at("name").as_string()), ::testing::AnyOf("l1", "l2"));
        EXPECT_EQ(m.at("unit").as_string(), "W");
        EXPECT_TRUE(m.at("value").is_double());
        EXPECT_EQ(m.at("quality").as_string(), "good");
        EXPECT_TRUE(m.at("alias").is_int64());  // sent by alias, named by the birth
      }
    }
    if (type == "NDATA" && node_born) {
      ++ndata;
      EXPECT_TRUE(l.at("problems").as_array().empty());
      EXPECT_EQ(metrics.at(0).at("name").as_string(), "Derived/total");
      EXPECT_EQ(metrics.at(0).at("unit").as_string(), "W");
    }
  }
  EXPECT_TRUE(node_born);
  EXPECT_TRUE(pdu_born);
  EXPECT_GE(ddata, 3u);
  EXPECT_GE(ndata, 1u);

  // --sparkplug with --broker: every group. Joined in mid-session, before
  // any birth, data shows its aliases and says they were not born.
  auto text = run({bin("rackwatch"), "tail", "--broker", broker.uri(), "--sparkplug", "--count", "4", "--timeout",
                   "20s"},
                  30s);
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(text.err, ::testing::HasSubstr("subscribed to spBv1.0/+/# and spBv1.0/STATE/#"));
  EXPECT_THAT(text.out, ::testing::ContainsRegex("hall-s/r11(/pdu)?  [DN]DATA #[0-9]+"));
  EXPECT_THAT(text.out, ::testing::ContainsRegex("alias [0-9]+ \\(not born\\)"));
}

}  // namespace
}  // namespace rackwatch::test
