// Reloading the config of a running rackwatchd (`rackwatch reload` and
// SIGHUP): a source added, an interval changed, a source removed — each
// applied while the unchanged source keeps every tick; a broken file or a
// change that needs a restart is refused with the reason, and the agent
// keeps running on what it had.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>

#include <boost/json.hpp>

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

const std::string kBase = "rackwatch/v1/hall-r/r11";

class ReloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_.start();
    socket_ = (dir_ / "diag.sock").string();
    write_config(kSteady + kSlow500);
    sub_.emplace(broker_.uri(), kBase + "/#");
    agent_.emplace(std::vector<std::string>{bin("rackwatchd"), "--config", (dir_ / "agent.yaml").string()},
                   dir_.path());
    ASSERT_TRUE(wait_until([&] { return count("steady") >= 3; }, 10s)) << agent_->log();
  }

  void write_config(const std::string& sources, const std::string& keepalive = "5s", const std::string& rack = "r11",
                    const std::string& outbox = "outbox") {
    write_file(dir_ / "agent.yaml", R"(agent: {site: hall-r, rack: )" + rack + R"(, id: reload-agent}
mqtt:
  brokers: [)" + broker_.uri() + R"(]
  keepalive: )" + keepalive + R"(
outbox: {dir: )" + (dir_ / outbox).string() + R"(}
diag: {socket: )" + socket_ + R"(}
sources:
)" + sources);
  }

  RunResult verb(std::vector<std::string> args) { return rackwatch_verb(socket_, std::move(args)); }

  std::vector<v1::Telemetry> telemetry(const std::string& source) {
    std::vector<v1::Telemetry> out;
    for (const auto& m : sub_->messages()) {
      if (m->get_topic() != kBase + "/telemetry") continue;
      v1::Telemetry t;
      if (t.ParseFromString(m->get_payload_str()) && t.source() == source) out.push_back(t);
    }
    return out;
  }
  std::size_t count(const std::string& source) { return telemetry(source).size(); }

  std::vector<std::string> catalog_ids() {
    std::vector<std::string> out;
    for (const auto& m : sub_->messages()) {
      if (m->get_topic() != kBase + "/catalog") continue;
      v1::Catalog c;
      if (c.ParseFromString(m->get_payload_str()) && (out.empty() || out.back() != c.catalog_id())) {
        out.push_back(c.catalog_id());
      }
    }
    return out;
  }

  // A counter of the source's own, from `rackwatch status --json`.
  std::int64_t source_counter(const std::string& source, const char* name) {
    const auto state = agent_state(socket_);
    return state ? json_int(source_state(*state, source).at(name)) : 0;
  }

  // Every tick of `steady` from its first to its last, none missing but the
  // ones the agent itself counts as missed: a loaded machine may wake the
  // loop too late for a tick, and that is no fault of the reload, but a
  // source the reload restarted or paused would leave holes it never counts.
  void expect_steady_without_gap() {
    std::set<std::int64_t> ticks;
    for (const auto& t : telemetry("steady")) ticks.insert(t.time_ms());
    ASSERT_GE(ticks.size(), 2u);
    const auto span = *ticks.rbegin() - *ticks.begin();
    const auto missing = span / 200 + 1 - static_cast<std::int64_t>(ticks.size());
    const auto missed = source_counter("steady", "missed_ticks");
    EXPECT_LE(missing, missed) << "steady lost ticks between " << *ticks.begin() << " and " << *ticks.rbegin()
                               << " that the agent did not count as missed";
    if (missed > 0) std::cout << "steady: the loaded machine woke the agent too late for " << missed << " ticks\n";
    EXPECT_GE(source_counter("steady", "polls"), static_cast<std::int64_t>(ticks.size())) << "steady's runner was replaced: its count started over";
    for (const auto& t : telemetry("steady")) {
      for (const auto& s : t.samples()) EXPECT_EQ(s.quality(), v1::QUALITY_GOOD) << s.reason();
    }
  }

  const std::string kSteady = R"(  - name: steady
    type: sim
    interval: 200ms
    points:
      - {name: power, signal: pdu.total.power}
      - {name: supply, signal: cdu.supply_temp}
)";
  static std::string slow(const char* interval) {
    return std::string("  - name: slow\n    type: sim\n    interval: ") + interval +
           "\n    points:\n      - {name: flow, signal: cdu.flow}\n";
  }
  const std::string kSlow500 = slow("500ms");
  const std::string kSlow400 = slow("400ms");
  const std::string kExtra = R"(  - name: extra
    type: sim
    interval: 300ms
    points:
      - {name: leak, signal: leak}
)";

  TempDir dir_{"rackwatch-reload"};
  Mosquitto broker_;
  std::optional<TestSubscriber> sub_;
  std::optional<Process> agent_;
  std::string socket_;
};

TEST_F(ReloadTest, AddAndChangeSourcesWhileTheOthersKeepEveryTick) {
  const auto catalogs_before = catalog_ids();
  ASSERT_EQ(catalogs_before.size(), 1u);
  write_config(kSteady + kSlow400 + kExtra);
  auto r = verb({"reload"});
  ASSERT_EQ(r.exit_code, 0) << r.err << agent_->log();
  EXPECT_THAT(r.out, HasSubstr("reloaded; added extra; restarted slow"));

  ASSERT_TRUE(wait_until([&] { return count("extra") >= 2; }, 10s)) << agent_->log();
  ASSERT_TRUE(wait_until([&] { return catalog_ids().size() == 2; }, 5s)) << "the new catalog is published";
  // The restarted source ticks on its new interval.
  ASSERT_TRUE(wait_until(
      [&] {
        auto all = telemetry("slow");
        return all.size() >= 3 && all.back().time_ms() % 400 == 0 && all[all.size() - 2].time_ms() % 400 == 0 &&
               all.back().time_ms() - all[all.size() - 2].time_ms() == 400;
      },
      10s));
  // Telemetry after the reload refers to the new catalog.
  EXPECT_EQ(telemetry("extra").back().catalog_id(), catalog_ids().back());
  EXPECT_EQ(telemetry("steady").back().catalog_id(), catalog_ids().back());
  const auto steady_before = count("steady");
  ASSERT_TRUE(wait_until([&] { return count("steady") >= steady_before + 3; }, 5s));
  expect_steady_without_gap();

  auto status = verb({"status"});
  EXPECT_THAT(status.out, ::testing::ContainsRegex("extra +sim +ok "));
}

TEST_F(ReloadTest, BrokenConfigIsRefusedAndTheAgentKeepsRunning) {
  write_config(kSteady + "  - name: bad\n    type: sim\n    interval: 1 minute\n");
  auto r = verb({"reload"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("reload refused; the agent keeps its config"));
  EXPECT_THAT(r.err, HasSubstr((dir_ / "agent.yaml").string() + ":"));
  EXPECT_THAT(r.err, HasSubstr("interval"));
  EXPECT_THAT(agent_->log(), HasSubstr("refused, the running config stays"));
  auto status = verb({"status"});
  EXPECT_THAT(status.out, HasSubstr("last reload refused: "));
  EXPECT_THAT(status.out, ::testing::ContainsRegex("slow +sim +ok "));

  // A change that needs a restart is refused as such.
  write_config(kSteady + kSlow500, "5s", "r11", "another-outbox");
  r = verb({"reload", "--json"});
  EXPECT_EQ(r.exit_code, 1);
  auto doc = boost::json::parse(r.out).as_object();
  EXPECT_FALSE(doc.at("reload").at("applied").as_bool());
  EXPECT_THAT(std::string(doc.at("reload").at("problems").at(0).as_string()),
              HasSubstr("changes to outbox take effect only with a restart"));

  const auto steady_before = count("steady");
  ASSERT_TRUE(wait_until([&] { return count("steady") >= steady_before + 3; }, 5s));
  expect_steady_without_gap();
  EXPECT_TRUE(agent_->running());
}

// A config swapped for something that is not a config file: the reload is
// refused at once, the agent keeps its config and every tick, and its
// memory stays where it was.
TEST_F(ReloadTest, WhatIsNotAConfigFileIsRefusedAndTheAgentKeepsEveryTick) {
  const auto config = dir_ / "agent.yaml";
  const auto rss = [&] {
    std::ifstream in("/proc/" + std::to_string(agent_->pid()) + "/status");
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    }
    return -1L;
  };
  const long rss_before = rss();
  std::filesystem::remove(config);
  std::filesystem::create_symlink("/dev/zero", config);
  ASSERT_EQ(::kill(agent_->pid(), SIGHUP), 0);
  ASSERT_TRUE(wait_until([&] { return agent_->log().find("not a regular file (a character device)") != std::string::npos; },
                         10s))
      << agent_->log();

  std::filesystem::remove(config);
  ASSERT_EQ(::mkfifo(config.c_str(), 0600), 0);
  auto r = verb({"reload"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("not a regular file (a FIFO)"));

  std::filesystem::remove(config);
  std::string flood = "agent: {site: hall-r, rack: r11}\n";
  for (int i = 0; i < 20'000; ++i) flood += "x" + std::to_string(i) + ": 1\n";
  write_file(config, flood);
  r = verb({"reload", "--json"});
  EXPECT_EQ(r.exit_code, 1);
  const auto problems = boost::json::parse(r.out).at("reload").at("problems").as_array();
  EXPECT_LE(problems.size(), 101u) << "the first 100 problems and a count of the rest";
  EXPECT_THAT(std::string(problems.back().as_string()), HasSubstr("more problems, not listed"));

  const auto steady_before = count("steady");
  ASSERT_TRUE(wait_until([&] { return count("steady") >= steady_before + 3; }, 5s));
  expect_steady_without_gap();
  EXPECT_TRUE(agent_->running());
  std::cout << "agent RSS before " << rss_before << " kB, after three refused reloads " << rss() << " kB\n";
  EXPECT_LT(rss(), rss_before + 30'000) << "a refused reload leaves no bloat behind";
}

TEST_F(ReloadTest, NewBrokerSettingsReplaceTheSessionAndTheOldRackGoesOffline) {
  const std::string new_base = "rackwatch/v1/hall-r/r12";
  TestSubscriber moved(broker_.uri(), new_base + "/#");
  write_config(kSteady + kSlow500, "7s", "r12");
  auto r = verb({"reload", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto doc = boost::json::parse(r.out).as_object();
  EXPECT_TRUE(doc.at("reload").at("applied").as_bool());
  EXPECT_TRUE(doc.at("reload").at("session_restarted").as_bool());

  // The new rack is online with its catalog and telemetry ...
  auto status = moved.wait_for_topic(new_base + "/status", 10s);
  ASSERT_TRUE(status) << agent_->log();
  v1::AgentStatus online;
  ASSERT_TRUE(online.ParseFromString((*status)->get_payload_str()));
  EXPECT_EQ(online.state(), v1::AgentStatus::STATE_ONLINE);
  EXPECT_TRUE(moved.wait_for_topic(new_base + "/catalog", 5s));
  EXPECT_TRUE(moved.wait_for_topic(new_base + "/telemetry", 5s));
  // ... and the old one says offline, retained.
  auto old_status = TestSubscriber::read_retained(broker_.uri(), kBase + "/status", 3s);
  ASSERT_TRUE(old_status);
  v1::AgentStatus offline;
  ASSERT_TRUE(offline.ParseFromString((*old_status)->get_payload_str()));
  EXPECT_EQ(offline.state(), v1::AgentStatus::STATE_OFFLINE);
  EXPECT_THAT(agent_->log(), HasSubstr("broker session restarted"));
  // The connection counters are the agent's, across sessions: the first
  // session's connect and the new one's.
  ASSERT_TRUE(wait_until(
      [&] {
        auto s = verb({"status", "--json"});
        return s.exit_code == 0 && boost::json::parse(s.out).at("status").at("broker").at("connects").as_string() == "2";
      },
      5s))
      << verb({"status", "--json"}).out;

  // Nothing taken was lost in the swap: the telemetry sequence, across both
  // topics (what was stored before keeps its topic), has no hole.
  // The backlog of the old session may still be on its way: wait until
  // both topics together hold an unbroken run of at least 10.
  std::set<std::uint64_t> seqs;
  auto collect = [&] {
    seqs.clear();
    for (const auto& messages : {sub_->messages(), moved.messages()}) {
      for (const auto& m : messages) {
        v1::Telemetry t;
        if (m->get_topic().ends_with("/telemetry") && t.ParseFromString(m->get_payload_str())) seqs.insert(t.sequence());
      }
    }
    return seqs.size() >= 10 && *seqs.rbegin() - *seqs.begin() + 1 == seqs.size();
  };
  EXPECT_TRUE(wait_until(collect, 10s)) << "telemetry sequence numbers missing: " << seqs.size() << " seen of "
                                        << (seqs.empty() ? 0 : *seqs.rbegin() - *seqs.begin() + 1);
}

TEST_F(ReloadTest, SighupRemovesASource) {
  write_config(kSteady);
  ASSERT_EQ(::kill(agent_->pid(), SIGHUP), 0);
  ASSERT_TRUE(wait_until([&] { return agent_->log().find("1 removed") != std::string::npos; }, 5s))
      << agent_->log();
  EXPECT_THAT(agent_->log(), HasSubstr("SIGHUP: reloading"));
  const auto slow_after = count("slow");
  const auto steady_before = count("steady");
  ASSERT_TRUE(wait_until([&] { return count("steady") >= steady_before + 4; }, 5s));
  EXPECT_LE(count("slow"), slow_after + 1) << "a removed source stops (one poll may have been under way)";
  auto status = verb({"status"});
  EXPECT_THAT(status.out, ::testing::Not(HasSubstr("slow ")));
  expect_steady_without_gap();
}

}  // namespace
}  // namespace rackwatch::test
