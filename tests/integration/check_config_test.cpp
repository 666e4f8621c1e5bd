// `rackwatch check-config` as an operator runs it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <sstream>

#include "support/run.hpp"

namespace rackwatch::test {
namespace {

using ::testing::HasSubstr;

TEST(CheckConfigCommand, ShippedConfigsAreValid) {
  for (const char* f : {"config/rackwatchd.yaml", "config/demo.yaml"}) {
#if !RACKWATCH_WITH_HWMON || !RACKWATCH_WITH_MODBUS
    // The annotated example configures every protocol: a build without one rejects it.
    if (std::string_view(f) == "config/rackwatchd.yaml") continue;
#endif
    auto r = run({bin("rackwatch"), "check-config", source_path(f)});
    EXPECT_EQ(r.exit_code, 0) << f << "\n" << r.err;
    EXPECT_THAT(r.out, HasSubstr("valid"));
  }
}

TEST(CheckConfigCommand, ReportsEachProblemAsFileLineColumn) {
  TempDir dir;
  const auto file = (dir / "broken.yaml").string();
  write_file(file, R"(agent:
  site: hall-a
  rack: r01
mqtt:
  brokers: [tcp://127.0.0.1:1883]
  keepalive: 30s
  colour: green
sources:
  - name: pdu
    type: sim
    interval: 1s
    points:
      - {name: p, signal: pdu.total.power, max: "a lot"}
  - name: pdu
    type: sim
    interval: 2s
    points:
      - {name: q, signal: cdu.flow}
)");
  auto r = run({bin("rackwatch"), "check-config", file});
  EXPECT_EQ(r.exit_code, 1);
  std::vector<std::string> lines;
  std::istringstream in(r.err);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(file + ":", 0) == 0 && std::regex_search(line, std::regex(":\\d+:\\d+: "))) {
      lines.push_back(line);
    }
  }
  ASSERT_EQ(lines.size(), 3u) << r.err;
  EXPECT_THAT(lines[0], HasSubstr(file + ":7:3: unknown key 'colour' in mqtt"));
  EXPECT_THAT(lines[1], HasSubstr(file + ":13:49: 'max': expected a number, found 'a lot'"));
  EXPECT_THAT(lines[2], HasSubstr(file + ":14:11: duplicate source name 'pdu'"));
}

TEST(CheckConfigCommand, RefusesAnOutboxDirectoryItCannotUse) {
  TempDir dir;
  write_file(dir / "blocker", "a file, not a directory\n");
  const auto file = (dir / "outbox.yaml").string();
  write_file(file, "agent: {site: a, rack: b}\nmqtt: {brokers: [tcp://127.0.0.1:1]}\noutbox:\n  dir: " +
                       (dir / "blocker" / "spool").string() +
                       "\nsources: [{name: s, type: sim, interval: 1s, points: [{name: p, signal: leak}]}]\n");
  auto r = run({bin("rackwatch"), "check-config", file});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr(file + ":4:8: outbox directory '" + (dir / "blocker" / "spool").string() +
                               "': cannot look at it: Not a directory"));
}

// The problem lines (FILE:LINE:COL: ...) of a command's stderr.
std::vector<std::string> problem_lines(const std::string& err, const std::string& file) {
  std::vector<std::string> lines;
  std::istringstream in(err);
  for (std::string line; std::getline(in, line);) {
    const auto at = line.find(file + ":");
    if (at == std::string::npos) continue;
    line = line.substr(at);
    if (std::regex_search(line, std::regex("^[^:]+:\\d+:\\d+: "))) lines.push_back(line);
  }
  return lines;
}

// An outbox the service's user cannot write: rackwatchd refuses to start with
// the very message check-config gives, rather than start and fail every poll.
TEST(CheckConfigCommand, TheDaemonRefusesToStartOnWhatItRejects) {
  TempDir dir("rackwatch-unwritable");
  ::chmod(dir.path().c_str(), 0755);
  const auto spool = dir / "spool";
  std::filesystem::create_directory(spool);
  ::chmod(spool.c_str(), 0755);  // root's: not writable by nobody
  const auto file = (dir / "agent.yaml").string();
  write_file(file, "agent: {site: a, rack: b}\nmqtt: {brokers: [tcp://127.0.0.1:1]}\noutbox:\n  dir: " +
                       spool.string() +
                       "\nsources: [{name: s, type: sim, interval: 1s, points: [{name: p, signal: leak}]}]\n");
  ::chmod(file.c_str(), 0644);
  // As nobody when run as root, whom directory modes do not bind.
  std::vector<std::string> as_user;
  if (::geteuid() == 0) as_user = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"};
  auto with_user = [&](std::vector<std::string> argv) {
    argv.insert(argv.begin(), as_user.begin(), as_user.end());
    return argv;
  };
  if (::geteuid() != 0 && ::access(spool.c_str(), W_OK) == 0) GTEST_SKIP() << "this user owns the directory";
  ::chmod(spool.c_str(), 0555);

  auto check = run(with_user({bin("rackwatch"), "check-config", file}));
  auto daemon = run(with_user({bin("rackwatchd"), "--config", file}), std::chrono::seconds{10});
  EXPECT_EQ(check.exit_code, 1) << check.err;
  EXPECT_EQ(daemon.exit_code, 1) << "rackwatchd must not start\n" << daemon.err;
  const auto expected = file + ":4:8: outbox directory '" + spool.string() + "': not writable: Permission denied";
  ASSERT_EQ(problem_lines(check.err, file).size(), 1u) << check.err;
  EXPECT_THAT(problem_lines(check.err, file)[0], HasSubstr(expected));
  EXPECT_EQ(problem_lines(daemon.err, file), problem_lines(check.err, file)) << daemon.err;
  EXPECT_THAT(daemon.err, HasSubstr("not starting"));
}

// A broker URI without a port: 1883 (8883 for TLS), said where it is used.
// A serial bus of 30 devices of 60 registers at 9600 baud, polled every
// second: valid, but it cannot be done; check-config says so, and by how much.
TEST(CheckConfigCommand, WarnsOfAnOverBookedSerialBus) {
#if !RACKWATCH_WITH_MODBUS
  GTEST_SKIP() << "the build has RACKWATCH_WITH_MODBUS off";
#endif
  TempDir dir("rackwatch-check");
  std::string text = "agent: {site: s, rack: r}\nmqtt: {brokers: [tcp://127.0.0.1:1883]}\noutbox: {dir: " +
                     (dir / "outbox").string() + "}\nsources:\n";
  for (int d = 1; d <= 30; ++d) {
    text += "  - name: psu" + std::to_string(d) +
            "\n    type: modbus\n    interval: 1s\n    rtu: {device: /dev/ttyS1, baud: 9600}\n    unit: " +
            std::to_string(d) + "\n    points:\n";
    for (int r = 0; r < 60; ++r) {
      text += "      - {name: r" + std::to_string(r) + ", address: " + std::to_string(r) + ", quantity: power}\n";
    }
  }
  write_file(dir / "bus.yaml", text);
  auto r = run({bin("rackwatch"), "check-config", (dir / "bus.yaml").string()});
  EXPECT_EQ(r.exit_code, 0) << "valid, if unwise\n" << r.err;
  EXPECT_THAT(r.err, HasSubstr((dir / "bus.yaml").string() +
                               ": warning: rtu /dev/ttyS1 9600 8E1 is over-booked: its 30 devices need about 48"));
  EXPECT_THAT(r.err, HasSubstr("more than its shortest interval of 1000ms"));

  // Every ten seconds it fits: no warning.
  std::string relaxed = text;
  for (auto at = relaxed.find("interval: 1s"); at != std::string::npos; at = relaxed.find("interval: 1s", at)) {
    relaxed.replace(at, 12, "interval: 10s");
  }
  write_file(dir / "relaxed.yaml", relaxed);
  r = run({bin("rackwatch"), "check-config", (dir / "relaxed.yaml").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, ::testing::Not(HasSubstr("warning")));
}

TEST(CheckConfigCommand, ShowsEachBrokerWithItsEffectivePort) {
  TempDir dir;
  const auto file = (dir / "agent.yaml").string();
  write_file(file, "agent: {site: a, rack: b}\nmqtt: {brokers: [tcp://127.0.0.1, 'tcp://127.0.0.1:1884']}\noutbox: {dir: " +
                       (dir / "outbox").string() +
                       "}\nsources: [{name: s, type: sim, interval: 1s, points: [{name: p, signal: leak}]}]\n");
  auto r = run({bin("rackwatch"), "check-config", file});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\n  broker tcp://127.0.0.1:1883\n  broker tcp://127.0.0.1:1884\n"));
}

// What is not a regular file is refused at once, whatever it is: /dev/zero
// never ends, a FIFO with no writer would block, a symlink is followed.
TEST(CheckConfigCommand, RefusesWhatIsNotARegularFileAtOnce) {
  TempDir dir;
  const auto fifo = (dir / "agent.fifo").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::filesystem::create_symlink("/dev/zero", dir / "agent.yaml");
  for (const auto& [path, what] : std::vector<std::pair<std::string, std::string>>{
           {"/dev/zero", "a character device"},
           {fifo, "a FIFO"},
           {(dir / "agent.yaml").string(), "a character device"},
           {dir.path().string(), "a directory"}}) {
    auto r = run({bin("rackwatch"), "check-config", path}, std::chrono::seconds{10});
    EXPECT_EQ(r.exit_code, 1) << path << "\n" << r.err;
    EXPECT_THAT(r.err, HasSubstr(path + ": cannot read config file: not a regular file (" + what + ")"));
  }
}

// One mistake repeated to fill a megabyte: refused before yaml-cpp builds
// 680,000 nodes; a smaller flood reports the first 100 problems and a count.
TEST(CheckConfigCommand, AFloodOfMistakesIsBoundedInMemoryAndLines) {
  TempDir dir;
  std::string bomb;
  for (int i = 0; i < 340'000; ++i) bomb += "x:\n";
  write_file(dir / "bomb.yaml", bomb);
  auto r = run({bin("rackwatch"), "check-config", (dir / "bomb.yaml").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("about 340000 keys and list items; at most 60000 are read"));

  std::string flood = "agent: {site: a, rack: b}\nmqtt: {brokers: [tcp://127.0.0.1:1]}\n";
  for (int i = 0; i < 20'000; ++i) flood += "x" + std::to_string(i) + ": 1\n";
  write_file(dir / "flood.yaml", flood);
  r = run({bin("rackwatch"), "check-config", (dir / "flood.yaml").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(problem_lines(r.err, (dir / "flood.yaml").string()).size(), 100u);
  EXPECT_THAT(r.err, HasSubstr("more problems, not listed (fix the 100 above first)"));
  EXPECT_LT(std::count(r.err.begin(), r.err.end(), '\n'), 110);
}

TEST(CheckConfigCommand, MissingFileIsNamed) {
  auto r = run({bin("rackwatch"), "check-config", "/nonexistent/rw.yaml"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("/nonexistent/rw.yaml: cannot read config file: No such file"));
}

TEST(DaemonCommandLine, RefusesAnInvalidConfigWithItsProblems) {
  TempDir dir;
  const auto file = (dir / "bad.yaml").string();
  write_file(file, "agent: {site: a, rack: b}\nmqtt: {brokers: [tcp://127.0.0.1:1]}\nsources: []\n");
  auto r = run({bin("rackwatchd"), "--config", file});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr(file + ":3:10: 'sources' must be a non-empty list"));
}

}  // namespace
}  // namespace rackwatch::test
