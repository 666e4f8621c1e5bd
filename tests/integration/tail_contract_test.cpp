// `rackwatch tail` as a consumer of the native wire contract, fed crafted
// messages through a real broker: telemetry that names a catalog not seen
// yet waits for it and comes out named once the catalog arrives on
// {base}/catalog/{id}; a gap in the sequence is provisional while the
// agent's backlog is pending and confirmed once a status says it drained; a
// repeated sequence is a duplicate.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <sstream>

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
namespace json = boost::json;

constexpr const char* kBase = "rackwatch/v1/hall-c/r07/";

std::string status(std::uint64_t pending, std::uint64_t last_sequence) {
  v1::AgentStatus s;
  s.set_state(v1::AgentStatus::STATE_ONLINE);
  s.set_agent_id("crafted");
  s.set_boot_id("5eed0001aa");
  s.set_telemetry_sequence(last_sequence);
  s.mutable_outbox()->set_pending(pending);
  return s.SerializeAsString();
}

std::string catalog() {
  v1::Catalog c;
  c.set_agent_id("crafted");
  c.set_site("hall-c");
  c.set_rack("r07");
  c.set_catalog_id("00c0ffee00c0ffee");
  auto* p = c.add_points();
  p->set_id("pdu.total");
  p->set_unit_symbol("W");
  return c.SerializeAsString();
}

std::string telemetry(std::uint64_t sequence) {
  v1::Telemetry t;
  t.set_agent_id("crafted");
  t.set_boot_id("5eed0001aa");
  t.set_sequence(sequence);
  t.set_catalog_id("00c0ffee00c0ffee");
  t.set_source("pdu");
  t.set_time_ms(1'800'000'000'000);
  auto* s = t.add_samples();
  s->set_point(0);
  s->set_value(1000.0 + static_cast<double>(sequence));
  s->set_quality(v1::QUALITY_GOOD);
  return t.SerializeAsString();
}

std::vector<json::object> json_lines(const std::string& out) {
  std::vector<json::object> lines;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("{")) lines.push_back(json::parse(line).as_object());
  }
  return lines;
}

TEST(TailContractTest, HoldsForTheCatalogAndReportsGapsAndDuplicates) {
  TempDir dir("rackwatch-tail-contract");
  Mosquitto broker;
  broker.start();
  TestSubscriber publisher(broker.uri(), "rackwatch-test/unused");
  // The rack's state before tail comes: a backlog of 3 pending.
  publisher.publish(std::string(kBase) + "status", status(3, 5), 5s, true);

  Process tail({bin("rackwatch"), "tail", "--broker", broker.uri(), "--json", "--hold", "20s", "--count", "7",
                "--timeout", "30s"},
               dir.path());
  ASSERT_TRUE(wait_until([&] { return tail.log().find(R"("type":"status")") != std::string::npos; }, 15s))
      << tail.log();

  publisher.publish(std::string(kBase) + "telemetry", telemetry(1));
  publisher.publish(std::string(kBase) + "telemetry", telemetry(2));
  publisher.publish(std::string(kBase) + "telemetry", telemetry(5));  // 3 and 4 missing
  publisher.publish(std::string(kBase) + "telemetry", telemetry(2));  // again
  // Nothing named comes out before the catalog: the telemetry waits for it.
  ASSERT_TRUE(wait_until([&] { return tail.log().find(R"("type":"duplicate")") != std::string::npos; }, 10s))
      << tail.log();
  EXPECT_EQ(tail.log().find(R"("type":"telemetry")"), std::string::npos) << tail.log();
  publisher.publish(std::string(kBase) + "catalog/00c0ffee00c0ffee", catalog(), 5s, true);
  // The backlog drained without 3 and 4.
  publisher.publish(std::string(kBase) + "status", status(0, 5), 5s, true);

  const auto exit = tail.wait_exit(40s);
  ASSERT_TRUE(exit) << tail.log();
  EXPECT_EQ(*exit, 0) << tail.log();
  const auto lines = json_lines(tail.log());
  std::vector<std::string> types;
  for (const auto& l : lines) types.push_back(std::string(l.at("type").as_string()));
  const std::vector<std::string> want{"status",    "gap",       "duplicate", "catalog", "telemetry",
                                      "telemetry", "telemetry", "telemetry", "status",  "gap"};
  ASSERT_EQ(types, want) << tail.log();

  const auto& provisional = lines[1];
  EXPECT_EQ(provisional.at("state").as_string(), "provisional");
  EXPECT_EQ(provisional.at("first").to_number<std::uint64_t>(), 3u);
  EXPECT_EQ(provisional.at("last").to_number<std::uint64_t>(), 4u);
  EXPECT_EQ(provisional.at("pending").to_number<std::uint64_t>(), 3u);
  EXPECT_EQ(provisional.at("boot_id").as_string(), "5eed0001aa");
  EXPECT_EQ(lines[2].at("sequence").to_number<std::uint64_t>(), 2u);
  EXPECT_EQ(lines[3].at("catalog_id").as_string(), "00c0ffee00c0ffee");
  // Released in the order they came, named.
  std::vector<std::uint64_t> sequences;
  for (std::size_t i = 4; i < 8; ++i) {
    EXPECT_TRUE(lines[i].at("catalog_known").as_bool()) << json::serialize(lines[i]);
    EXPECT_EQ(lines[i].at("samples").at(0).at("point").as_string(), "pdu.total");
    EXPECT_EQ(lines[i].at("samples").at(0).at("unit").as_string(), "W");
    sequences.push_back(lines[i].at("sequence").to_number<std::uint64_t>());
  }
  EXPECT_EQ(sequences, (std::vector<std::uint64_t>{1, 2, 5, 2}));
  const auto& confirmed = lines[9];
  EXPECT_EQ(confirmed.at("state").as_string(), "confirmed");
  EXPECT_EQ(confirmed.at("missing").to_number<std::uint64_t>(), 2u);
  EXPECT_EQ(confirmed.at("dropped_by_agent").to_number<std::uint64_t>(), 0u);
}

// A catalog seen once, not retained: a second tail with the same
// --catalog-cache names telemetry at once, without holding it.
TEST(TailContractTest, TheCatalogCacheOutlivesATail) {
  TempDir dir("rackwatch-tail-cache");
  const auto cache = dir / "catalogs";
  std::filesystem::create_directories(cache);
  Mosquitto broker;
  broker.start();
  TestSubscriber publisher(broker.uri(), "rackwatch-test/unused");
  {
    Process first({bin("rackwatch"), "tail", "--broker", broker.uri(), "--json", "--count", "1", "--timeout", "20s",
                   "--catalog-cache", cache.string()},
                  dir.path(), Process::Options{{}, "first.log"});
    // Connected once the broker's log names it; then the catalog, not retained.
    ASSERT_TRUE(wait_until([&] { return broker.log().find("rackwatch-tail-") != std::string::npos; }, 15s))
        << broker.log();
    ASSERT_TRUE(wait_until(
        [&] {
          publisher.publish(std::string(kBase) + "catalog/00c0ffee00c0ffee", catalog());
          return first.log().find(R"("type":"catalog")") != std::string::npos;
        },
        15s))
        << first.log();
    ASSERT_EQ(first.wait_exit(10s), std::optional<int>(0)) << first.log();
  }
  EXPECT_TRUE(std::filesystem::exists(cache / "hall-c_r07_00c0ffee00c0ffee.pb"));

  Process second({bin("rackwatch"), "tail", "--broker", broker.uri(), "--json", "--count", "1", "--timeout", "20s",
                  "--hold", "0", "--catalog-cache", cache.string()},
                 dir.path(), Process::Options{{}, "second.log"});
  ASSERT_TRUE(wait_until(
      [&] {
        publisher.publish(std::string(kBase) + "telemetry", telemetry(9));
        return second.log().find(R"("type":"telemetry")") != std::string::npos;
      },
      15s))
      << second.log();
  ASSERT_EQ(second.wait_exit(10s), std::optional<int>(0)) << second.log();
  const auto lines = json_lines(second.log());
  ASSERT_FALSE(lines.empty()) << second.log();
  EXPECT_TRUE(lines[0].at("catalog_known").as_bool()) << second.log();
  EXPECT_EQ(lines[0].at("samples").at(0).at("point").as_string(), "pdu.total");
}

}  // namespace
}  // namespace rackwatch::test
