// mqtt.status_interval in the running agent: after its birth the retained
// status is published again every interval, never sooner, each time with
// counters that have moved on (telemetry taken, messages acknowledged), and
// what a late subscriber finds retained is such a refresh.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
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

const std::string kBase = "rackwatch/v1/hall-s/r02";

TEST(StatusIntervalTest, TheStatusIsRepublishedEveryIntervalWithCountersThatMove) {
  TempDir dir("rackwatch-status");
  Mosquitto broker;
  broker.start();
  // 2 s, not the 1 s minimum: ten polls apart, so a status refreshed with
  // every few polls, or every second whatever the setting, shows.
  write_file(dir / "agent.yaml", "agent: {site: hall-s, rack: r02, id: status-agent}\nmqtt:\n  brokers: [" +
                                     broker.uri() + "]\n  status_interval: 2s\noutbox: {dir: " +
                                     (dir / "outbox").string() + "}\ndiag: {socket: " + (dir / "diag.sock").string() +
                                     "}\nsources:\n  - name: pdu\n    type: sim\n    interval: 200ms\n    points: "
                                     "[{name: power, signal: pdu.total.power}]\n");
  TestSubscriber sub(broker.uri(), kBase + "/#");
  Process agent({bin("rackwatchd"), "--config", (dir / "agent.yaml").string()}, dir.path());
  auto statuses = [&] { return decoded<v1::AgentStatus>(sub, kBase + "/status"); };
  auto telemetry = [&] {
    std::map<std::uint64_t, v1::Telemetry> out;
    for (auto& t : decoded<v1::Telemetry>(sub, kBase + "/telemetry")) out.emplace(t.sequence(), std::move(t));
    return out;
  };

  // The birth and three refreshes; with the default (60 s) only the birth.
  ASSERT_TRUE(wait_until([&] { return statuses().size() >= 4; }, 20s)) << agent.log();
  const auto all = statuses();
  const auto birth = all.front();
  EXPECT_EQ(birth.agent_id(), "status-agent");
  for (std::size_t i = 1; i < all.size(); ++i) {
    const auto& before = all[i - 1];
    const auto& now = all[i];
    SCOPED_TRACE("status " + std::to_string(i) + " at " + std::to_string(now.time_ms()));
    EXPECT_EQ(now.state(), v1::AgentStatus::STATE_ONLINE);
    EXPECT_EQ(now.boot_id(), birth.boot_id());
    EXPECT_EQ(now.start_time_ms(), birth.start_time_ms());
    EXPECT_EQ(now.catalog_id(), birth.catalog_id());
    // The refresh timer runs from the agent's start, not from the connect:
    // only refreshes are a whole interval apart.
    if (i >= 2) {
      EXPECT_GE(now.time_ms() - before.time_ms(), 2000) << "refreshed before status_interval";
    }
    EXPECT_GT(now.time_ms(), before.time_ms());
    // Ten polls of 200 ms went by: the counters moved.
    EXPECT_GT(now.telemetry_sequence(), before.telemetry_sequence());
    EXPECT_GT(now.messages_published(), before.messages_published());
    EXPECT_GT(now.outbox().acknowledged(), before.outbox().acknowledged());
    EXPECT_EQ(now.messages_dropped(), 0u);
  }

  // Each status's telemetry sequence is a message that was taken before it
  // was made, and published (all of them arrive: the outbox drops none).
  const auto last = all.back().telemetry_sequence();
  ASSERT_TRUE(wait_until([&] { return telemetry().size() >= last; }, 15s)) << agent.log();
  const auto received = telemetry();
  for (const auto& st : all) {
    if (st.telemetry_sequence() == 0) continue;  // the birth may come before the first poll
    SCOPED_TRACE("status at " + std::to_string(st.time_ms()));
    ASSERT_TRUE(received.contains(st.telemetry_sequence()));
    const auto& t = received.at(st.telemetry_sequence());
    EXPECT_EQ(t.boot_id(), st.boot_id());
    EXPECT_LE(t.time_ms(), st.time_ms());
  }

  // A subscriber that comes later finds a refresh retained, not the birth.
  auto retained = TestSubscriber::read_retained(broker.uri(), kBase + "/status", 5s);
  ASSERT_TRUE(retained);
  v1::AgentStatus now;
  ASSERT_TRUE(now.ParseFromString((*retained)->get_payload_str()));
  EXPECT_EQ(now.boot_id(), birth.boot_id());
  EXPECT_GE(now.time_ms(), all.back().time_ms());
  EXPECT_GE(now.telemetry_sequence(), all.back().telemetry_sequence());
}

}  // namespace
}  // namespace rackwatch::test
