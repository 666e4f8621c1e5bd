// Redfish in the running daemon, as an operator meets it: rackwatchd with a
// redfish source against the test's Redfish service (our small-bmc mockup)
// logs in, finds its points and polls; SIGTERM ends the service's session
// (its DELETE) before the daemon exits 0, and a reload that removes the
// source ends its session while the daemon runs on.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include <csignal>
#include <filesystem>
#include <optional>
#include <string>

#include "support/mosquitto.hpp"
#include "support/process.hpp"
#include "support/redfish_server.hpp"
#include "support/run.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace rackwatch::test {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

const std::filesystem::path kSmallBmc = std::filesystem::path(RACKWATCH_SOURCE_DIR) / "tests/fixtures/redfish/small-bmc";
const std::string kSession = "/redfish/v1/SessionService/Sessions/1";
// A resource every poll of small-bmc reads once (discovery reads it too).
const std::string kSensorGet = "GET /redfish/v1/Chassis/Blade1/Sensors/InletTemp";

class RedfishDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_.start();
    const auto password = dir_ / "bmc.password";
    write_file(password, "secret-pass\n");
    ::chmod(password.c_str(), 0600);
    RedfishServer::Options o;
    o.dir = kSmallBmc;
    bmc_.emplace(o);
  }

  std::string redfish_source() const {
    return "  - name: bmc\n    type: redfish\n    interval: 1s\n    url: " + bmc_->url() +
           "\n    user: admin\n    password_file: " + (dir_ / "bmc.password").string() + "\n";
  }
  static std::string sim_source() {
    return "  - name: air\n    type: sim\n    interval: 1s\n    points:\n      - {name: supply, signal: cdu.supply_temp}\n";
  }
  void write_config(const std::string& sources) {
    write_file(dir_ / "agent.yaml",
               agent_config_head("hall-b", "r02", "redfish-agent", broker_.uri(), dir_.path()) + "sources:\n" + sources);
  }
  void start(const std::string& sources) {
    write_config(sources);
    agent_.emplace(std::vector<std::string>{bin("rackwatchd"), "--config", (dir_ / "agent.yaml").string()},
                   dir_.path());
  }
  // Logged in, points found and polled: a sensor read by discovery and by the poll.
  bool logged_in_and_polled() {
    return wait_until([&] { return bmc_->logins() == 1 && bmc_->count(kSensorGet) >= 2; }, 20s);
  }
  std::string diagnostics() const {
    std::string asked;
    for (const auto& r : bmc_->requests()) asked += "  " + r + "\n";
    return "\nthe service was asked:\n" + asked + "daemon log:\n" + agent_->log();
  }

  TempDir dir_{"rackwatch-redfish-daemon"};
  Mosquitto broker_;
  std::optional<RedfishServer> bmc_;
  std::optional<Process> agent_;  // last: stopped before the rest goes
};

TEST_F(RedfishDaemonTest, SigtermEndsTheSessionWithItsDeleteAndExitsZero) {
  start(redfish_source());
  ASSERT_TRUE(logged_in_and_polled()) << diagnostics();
  EXPECT_TRUE(bmc_->deleted_sessions().empty()) << diagnostics();

  ASSERT_TRUE(agent_->signal(SIGTERM));
  const auto exit_status = agent_->wait_exit(15s);
  ASSERT_TRUE(exit_status) << "still running 15 s after SIGTERM" << diagnostics();
  EXPECT_TRUE(WIFEXITED(*exit_status) && WEXITSTATUS(*exit_status) == 0)
      << Process::describe(*exit_status) << diagnostics();
  EXPECT_EQ(bmc_->deleted_sessions(), std::vector<std::string>{kSession}) << diagnostics();
  EXPECT_EQ(bmc_->count("DELETE " + kSession), 1u) << diagnostics();
  EXPECT_EQ(bmc_->logins(), 1u) << "no login after the session ended" << diagnostics();
  EXPECT_THAT(agent_->log(), HasSubstr("redfish source 'bmc': session " + kSession + " ended"));
  EXPECT_THAT(agent_->log(), ::testing::Not(HasSubstr("stop did not end")));
}

// The destructor's way: the source is gone while the daemon runs.
TEST_F(RedfishDaemonTest, AReloadThatRemovesTheSourceEndsItsSession) {
  start(redfish_source() + sim_source());
  ASSERT_TRUE(logged_in_and_polled()) << diagnostics();
  write_config(sim_source());
  ASSERT_EQ(::kill(agent_->pid(), SIGHUP), 0);
  ASSERT_TRUE(wait_until([&] { return !bmc_->deleted_sessions().empty(); }, 10s)) << diagnostics();
  EXPECT_EQ(bmc_->deleted_sessions(), std::vector<std::string>{kSession}) << diagnostics();
  EXPECT_TRUE(agent_->running()) << diagnostics();
  EXPECT_THAT(agent_->log(), HasSubstr("1 removed"));

  // Nothing is left to end at the stop.
  const auto exit_status = agent_->stop(15s);
  ASSERT_TRUE(exit_status) << diagnostics();
  EXPECT_TRUE(WIFEXITED(*exit_status) && WEXITSTATUS(*exit_status) == 0)
      << Process::describe(*exit_status) << diagnostics();
  EXPECT_EQ(bmc_->deleted_sessions().size(), 1u) << diagnostics();
  EXPECT_EQ(bmc_->logins(), 1u) << diagnostics();
}

}  // namespace
}  // namespace rackwatch::test
