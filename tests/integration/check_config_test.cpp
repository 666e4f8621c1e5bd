// `rackwatch check-config` as an operator runs it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>

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

TEST(CheckConfigCommand, MissingFileIsNamed) {
  auto r = run({bin("rackwatch"), "check-config", "/nonexistent/rw.yaml"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("/nonexistent/rw.yaml: cannot open config file: No such file"));
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
