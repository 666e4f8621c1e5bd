// `rackwatch top` in a real terminal: tmux runs it against a running agent,
// capture-pane reads the screen; it fits 100 columns, shows sources and
// points, refreshes, and quits on q. Its own tmux server (-L), so nobody
// else's sessions are touched.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include "support/process.hpp"
#include "support/run.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace rackwatch::test {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

class TopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (run({"/bin/sh", "-c", "command -v tmux"}).exit_code != 0) {
      GTEST_SKIP() << "tmux is not installed (scripts/bootstrap installs it)";
    }
    socket_ = (dir_ / "diag.sock").string();
    write_file(dir_ / "agent.yaml", R"(agent: {site: hall-t, rack: r05, id: top-agent}
mqtt: {brokers: [tcp://127.0.0.1:1]}
outbox: {dir: )" + (dir_ / "outbox").string() + R"(}
diag: {socket: )" + socket_ + R"(}
sources:
  - name: pdu
    type: sim
    interval: 200ms
    points:
      - {name: total_power, signal: pdu.total.power}
      - {name: l1_power, signal: pdu.l1.power}
  - name: cdu
    type: sim
    interval: 500ms
    fail: [cdu.flow]
    points:
      - {name: supply_temp, signal: cdu.supply_temp}
      - {name: flow, signal: cdu.flow}
)");
    agent_.emplace(std::vector<std::string>{bin("rackwatchd"), "--config", (dir_ / "agent.yaml").string()},
                   dir_.path());
    ASSERT_TRUE(wait_until(
        [&] { return run({bin("rackwatch"), "status", "--socket", socket_}).exit_code == 0; }, 10s));
  }
  void TearDown() override { tmux({"kill-server"}); }

  RunResult tmux(std::vector<std::string> args) {
    args.insert(args.begin(), {"tmux", "-L", server_});
    return run(args);
  }
  std::string screen() { return tmux({"capture-pane", "-p", "-t", "top"}).out; }

  TempDir dir_{"rackwatch-top"};
  std::string socket_;
  std::string server_ = "rackwatch-top-" + std::to_string(::getpid());
  std::optional<Process> agent_;
};

TEST_F(TopTest, RendersWithinHundredColumnsRefreshesAndQuits) {
  // A terminal wider than 100 columns: the view must still keep to 100.
  ASSERT_EQ(tmux({"new-session", "-d", "-s", "top", "-x", "140", "-y", "30",
                  bin("rackwatch") + " top --interval 300ms --socket " + socket_})
                .exit_code,
            0);
  // Until every source has been polled and shown (a 300 ms refresh).
  ASSERT_TRUE(wait_until(
      [&] {
        const auto s = screen();
        return s.find("starting") == std::string::npos && s.find("degraded") != std::string::npos;
      },
      5s))
      << screen();
  const auto first = screen();
  EXPECT_THAT(first, HasSubstr("rackwatch top  top-agent  site hall-t  rack r05"));
  EXPECT_THAT(first, ::testing::ContainsRegex("pdu +sim +ok +0/2"));
  EXPECT_THAT(first, ::testing::ContainsRegex("cdu +sim +degraded +1/2"));
  EXPECT_THAT(first, ::testing::ContainsRegex("cdu.flow +- +L/min +bad"));
  EXPECT_THAT(first, HasSubstr("q or Ctrl-C quits"));
  std::istringstream lines(first);
  for (std::string line; std::getline(lines, line);) {
    std::size_t width = 0;
    for (const char c : line) width += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    while (!line.empty() && line.back() == ' ') line.pop_back(), --width;
    EXPECT_LE(width, 100u) << line;
  }
  // It refreshes: the telemetry sequence moves on.
  const auto seq_line = [](const std::string& s) { return s.substr(s.find("telemetry #"), 20); };
  ASSERT_TRUE(wait_until([&] { return seq_line(screen()) != seq_line(first); }, 3s));

  tmux({"send-keys", "-t", "top", "q"});
  EXPECT_TRUE(wait_until([&] { return tmux({"has-session", "-t", "top"}).exit_code != 0; }, 3s))
      << "top ends on q";
}

// A terminal too short for every point: the table scrolls by keys and says
// which rows it shows.
TEST_F(TopTest, ScrollsThePointsThatDoNotFit) {
  // 13 rows: 10 above the points table, the footer, and room for 2 of the 4 points.
  ASSERT_EQ(tmux({"new-session", "-d", "-s", "top", "-x", "100", "-y", "13",
                  bin("rackwatch") + " top --interval 300ms --socket " + socket_})
                .exit_code,
            0);
  ASSERT_TRUE(wait_until([&] { return screen().find("rows 1–2 of 4") != std::string::npos; }, 5s)) << screen();
  EXPECT_THAT(screen(), HasSubstr("pdu.total_power"));
  EXPECT_THAT(screen(), ::testing::Not(HasSubstr("cdu.flow")));
  tmux({"send-keys", "-t", "top", "End"});
  ASSERT_TRUE(wait_until([&] { return screen().find("rows 3–4 of 4") != std::string::npos; }, 3s)) << screen();
  EXPECT_THAT(screen(), HasSubstr("cdu.flow"));
  EXPECT_THAT(screen(), ::testing::Not(HasSubstr("pdu.total_power")));
  tmux({"send-keys", "-t", "top", "Up"});
  ASSERT_TRUE(wait_until([&] { return screen().find("rows 2–3 of 4") != std::string::npos; }, 3s)) << screen();
  tmux({"send-keys", "-t", "top", "PageUp"});
  ASSERT_TRUE(wait_until([&] { return screen().find("rows 1–2 of 4") != std::string::npos; }, 3s)) << screen();
  tmux({"send-keys", "-t", "top", "PageDown"});
  ASSERT_TRUE(wait_until([&] { return screen().find("rows 3–4 of 4") != std::string::npos; }, 3s)) << screen();
  tmux({"send-keys", "-t", "top", "Home"});
  ASSERT_TRUE(wait_until([&] { return screen().find("rows 1–2 of 4") != std::string::npos; }, 3s)) << screen();
  tmux({"send-keys", "-t", "top", "q"});
  EXPECT_TRUE(wait_until([&] { return tmux({"has-session", "-t", "top"}).exit_code != 0; }, 3s));
}

}  // namespace
}  // namespace rackwatch::test
