// SNMP table rows in the running agent: rackwatchd reads an APC PDU chosen
// by `profile: auto`, publishes a catalog with its 48 outlets, and when an
// outlet row vanishes from the device (the agent behind it restarted with
// one row less) publishes a catalog without it, telemetry that refers to
// that catalog, and says so; when the row is back, the catalog is the
// first one again. A reload that keeps the source keeps its rows.
// `rackwatch probe` names the profile chosen and why.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <boost/json.hpp>

#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "rackwatch/v1/telemetry.pb.h"
#include "support/read_text.hpp"
#include "support/mosquitto.hpp"
#include "support/process.hpp"
#include "support/run.hpp"
#include "support/snmpsim.hpp"
#include "support/temp_dir.hpp"
#include "support/test_subscriber.hpp"
#include "support/wait.hpp"

namespace rackwatch::test {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

const std::string kTopics = "rackwatch/v1/hall-s/r12";

// The APC data without outlet 48's row in the outlet table.
std::string without_outlet_48(const std::string& records) {
  std::istringstream in(records);
  std::string out;
  std::string line;
  while (std::getline(in, line)) {
    const auto bar = line.find('|');
    const std::string oid = line.substr(0, bar);
    if (oid.rfind("1.3.6.1.4.1.318.1.1.26.9.4.3.1.", 0) == 0 && oid.ends_with(".48")) continue;
    out += line + "\n";
  }
  return out;
}

std::optional<v1::Catalog> catalog_of(const mqtt::const_message_ptr& m) {
  if (m->get_topic() != kTopics + "/catalog") return std::nullopt;
  v1::Catalog c;
  if (!c.ParseFromString(m->get_payload_str())) return std::nullopt;
  return c;
}

class SnmpTableDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_.start();
    records_ = test::read_text(source_path("tests/peers/snmp/apc-rpdu2.snmprec"));
    Snmpsim::Options o;
    o.records = {{"apc-rpdu2", records_}};
    peer_.emplace(o);
    const auto community = dir_ / "community";
    std::ofstream(community) << "apc-rpdu2\n";
    ::chmod(community.c_str(), 0600);
    // profiles/ beside the config: the shipped ones.
    std::filesystem::create_directory_symlink(source_path("config/profiles"), dir_ / "profiles");
    write_file(dir_ / "agent.yaml", "agent: {site: hall-s, rack: r12, id: table-agent}\nmqtt:\n  brokers: [" +
                                        broker_.uri() + "]\noutbox: {dir: " + (dir_ / "outbox").string() +
                                        "}\ndiag: {socket: " + socket() + "}\nsources:\n"
                                        "  - name: pdu\n    type: snmp\n    interval: 500ms\n    request_timeout: 400ms\n"
                                        "    host: " + peer_->endpoint() + "\n    community_file: " + community.string() +
                                        "\n    profile: auto\n    dormant_after: 1000\n");
  }

  std::string socket() const { return (dir_ / "diag.sock").string(); }

  // The agent behind the PDU's address restarts with other data.
  void serve(const std::string& records) {
    const auto port = peer_->port();
    peer_.reset();
    Snmpsim::Options o;
    o.records = {{"apc-rpdu2", records}};
    o.port = port;
    peer_.emplace(o);
  }

  TempDir dir_{"rackwatch-snmp-table"};
  Mosquitto broker_;
  std::string records_;
  std::optional<Snmpsim> peer_;
};

TEST_F(SnmpTableDaemonTest, ARowThatVanishesAndComesBackChangesTheCatalogEachTime) {
  TestSubscriber sub(broker_.uri(), kTopics + "/#");
  Process agent({bin("rackwatchd"), "--config", (dir_ / "agent.yaml").string()}, dir_.path());

  auto catalog_with = [&](int points, const std::string& not_id) {
    return sub.wait_for(
        [&](const mqtt::const_message_ptr& m) {
          auto c = catalog_of(m);
          return c && c->points_size() == points && c->catalog_id() != not_id;
        },
        20s);
  };
  auto telemetry_of = [&](const std::string& catalog_id, int samples) {
    return sub.wait_for(
        [&](const mqtt::const_message_ptr& m) {
          if (m->get_topic() != kTopics + "/telemetry") return false;
          v1::Telemetry t;
          return t.ParseFromString(m->get_payload_str()) && t.catalog_id() == catalog_id && t.samples_size() == samples;
        },
        20s);
  };

  // 167 points: the tables of the device, phases and probes, and 3 per outlet.
  const auto first = catalog_with(167, "");
  ASSERT_TRUE(first) << agent.log();
  const auto all = *catalog_of(*first);
  bool has_48 = false;
  for (const auto& p : all.points()) has_48 = has_48 || p.id() == "pdu.outlet48_power";
  EXPECT_TRUE(has_48);
  // Every sample of a poll rides in its message, the bad ones included.
  ASSERT_TRUE(telemetry_of(all.catalog_id(), 167)) << agent.log();

  // A reload that keeps the source keeps the rows it found.
  const auto reload = rackwatch_verb(socket(), {"reload", "--json"});
  ASSERT_EQ(reload.exit_code, 0) << reload.out << reload.err;
  const auto result = boost::json::parse(reload.out).as_object().at("reload").as_object();
  EXPECT_TRUE(result.at("applied").as_bool());
  EXPECT_FALSE(result.contains("catalog_changed") && result.at("catalog_changed").as_bool()) << reload.out;
  EXPECT_THAT(rackwatch_verb(socket(), {"read"}).out, HasSubstr("pdu.outlet48_power"));

  serve(without_outlet_48(records_));
  const auto fewer = catalog_with(164, "");
  ASSERT_TRUE(fewer) << agent.log();
  const auto less = *catalog_of(*fewer);
  EXPECT_NE(less.catalog_id(), all.catalog_id());
  for (const auto& p : less.points()) EXPECT_NE(p.id().rfind("pdu.outlet48_", 0), 0U) << p.id();
  EXPECT_TRUE(telemetry_of(less.catalog_id(), 164)) << agent.log();
  EXPECT_THAT(agent.log(), HasSubstr("rows changed: 164 table points (were 167)"));

  serve(records_);
  // The same points as at first: the same catalog, by its id.
  // Messages are looked at in arrival order: only those after `fewer` count.
  bool after_fewer = false;
  ASSERT_TRUE(sub.wait_for(
      [&](const mqtt::const_message_ptr& m) {
        if (m.get() == fewer->get()) after_fewer = true;
        auto c = catalog_of(m);
        return after_fewer && c && c->catalog_id() == all.catalog_id();
      },
      20s))
      << agent.log();
  const auto devices = rackwatch_verb(socket(), {"devices"}).out;
  EXPECT_THAT(devices, ::testing::ContainsRegex("row_changes=2"));
  EXPECT_THAT(devices, HasSubstr("profile apc-rpdu2"));
}

TEST_F(SnmpTableDaemonTest, ProbeSaysWhichProfileWasChosenAndWhy) {
  auto r = run({bin("rackwatch"), "probe", "--config", (dir_ / "agent.yaml").string()});
  EXPECT_THAT(r.out, HasSubstr("pdu: profile apc-rpdu2 ("));
  EXPECT_THAT(r.out, HasSubstr("chosen by profile: auto: sysObjectID 1.3.6.1.4.1.318.1.3.4.6"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("outlet48_current +0 +A +good"));
}

}  // namespace
}  // namespace rackwatch::test
