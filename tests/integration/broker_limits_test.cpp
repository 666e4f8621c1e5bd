// A broker's size limit below a message, met in the running daemon: under
// MQTT 5 Mosquitto refuses such a publish with "Packet too large" (0x95).
// The agent names the topic, the size and the setting to change, keeps the
// refused readings in its outbox while the small messages keep flowing, and
// delivers every one of them once the broker takes them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "rackwatch/v1/telemetry.pb.h"
#include "support/agent_state.hpp"
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
using ::testing::Not;

const std::string kBase = "rackwatch/v1/hall-l/r05";

// `message_size_limit` is Mosquitto 2.0's limit on a payload; it answers
// an MQTT 5 client's publish above it with 0x95.
constexpr int kLimit = 300;

TEST(BrokerLimitsTest, AMessageAboveTheBrokersSizeLimitIsHeldAndDeliveredOnceTheLimitIsRaised) {
  TempDir dir("rackwatch-limits");
  Mosquitto broker;
  broker.start();
  broker.stop();
  broker.restart("message_size_limit " + std::to_string(kLimit) + "\n");
  // `small` sends one sample a message, `big` sixty: several hundred bytes.
  std::string big_points;
  for (int i = 0; i < 60; ++i) big_points += "      - {name: p" + std::to_string(i) + ", signal: pdu.l1.power}\n";
  write_file(dir / "agent.yaml", R"(agent: {site: hall-l, rack: r05, id: limits-agent}
mqtt:
  brokers: [)" + broker.uri() + R"(]
  protocol: "5"
  reconnect_min: 100ms
  reconnect_max: 500ms
outbox: {dir: )" + (dir / "outbox").string() + R"(}
diag: {socket: )" + (dir / "diag.sock").string() + R"(}
sources:
  - name: small
    type: sim
    interval: 250ms
    points:
      - {name: power, signal: pdu.total.power}
  - name: big
    type: sim
    interval: 500ms
    points:
)" + big_points);
  TestSubscriber sub(broker.uri(), kBase + "/telemetry");
  Process agent({bin("rackwatchd"), "--config", (dir / "agent.yaml").string()}, dir.path());
  auto by_source = [&](const std::string& source) {
    return decoded<v1::Telemetry>(sub, kBase + "/telemetry", source);
  };

  // The small messages flow; the big ones are refused and held, named.
  ASSERT_TRUE(wait_until([&] { return by_source("small").size() >= 4; }, 15s)) << agent.log();
  ASSERT_TRUE(wait_until(
      [&] {
        const auto st = agent_state((dir / "diag.sock").string());
        return st && json_int(st->at("outbox").at("held")) >= 3;
      },
      15s))
      << agent.log();
  const auto log = agent.log();
  // Said once a round, of the first refused: the catalog stored at start
  // (above the limit too) or a big source's telemetry.
  EXPECT_THAT(log, HasSubstr("publish refused by the broker: Packet too large (0x95) on " + kBase + "/"));
  EXPECT_THAT(log, HasSubstr("bytes of payload) is above the broker's size limit: raise it (Mosquitto: max_packet_size)"));
  EXPECT_THAT(log, HasSubstr("the message stays in the outbox"));
  EXPECT_THAT(log, HasSubstr("birth message on " + kBase + "/catalog ("));
  EXPECT_THAT(log, Not(HasSubstr("dropping")));
  EXPECT_TRUE(by_source("big").empty()) << "the broker took a message above its limit";
  const auto status = rackwatch_verb((dir / "diag.sock").string(), {"status"});
  EXPECT_THAT(status.out, HasSubstr("last refusal: refused by the broker: Packet too large (0x95) on " + kBase))
      << status.out;
  for (const auto& t : by_source("small")) {
    std::string bytes;
    t.SerializeToString(&bytes);
    EXPECT_LT(bytes.size(), static_cast<std::size_t>(kLimit));
  }

  // The limit raised: every big message taken meanwhile arrives, from the first.
  broker.stop();
  broker.restart("");
  TestSubscriber after(broker.uri(), kBase + "/telemetry");
  std::set<std::uint64_t> seqs;
  std::size_t big = 0;
  ASSERT_TRUE(wait_until(
      [&] {
        seqs.clear();
        big = 0;
        for (TestSubscriber* s : {&sub, &after}) {
          for (const auto& t : decoded<v1::Telemetry>(*s, kBase + "/telemetry")) {
            seqs.insert(t.sequence());
            big += t.source() == "big";
          }
        }
        return big >= 6 && *seqs.begin() == 1 && *seqs.rbegin() == seqs.size();
      },
      30s))
      << seqs.size() << " sequences seen up to " << (seqs.empty() ? 0 : *seqs.rbegin()) << ", " << big
      << " of them big\n"
      << agent.log();
  const auto st = agent_state((dir / "diag.sock").string());
  ASSERT_TRUE(st);
  EXPECT_EQ(json_int(st->at("messages_dropped")), 0);
}

}  // namespace
}  // namespace rackwatch::test
