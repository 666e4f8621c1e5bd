// The shipped unit passes systemd's own checker.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "support/run.hpp"

namespace rackwatch::test {
namespace {

TEST(SystemdUnit, VerifiesClean) {
  if (!std::filesystem::exists("/usr/bin/systemd-analyze")) {
    GTEST_SKIP() << "systemd-analyze is not installed (scripts/bootstrap installs it)";
  }
  std::ifstream in(source_path("systemd/rackwatchd.service"));
  std::stringstream text;
  text << in.rdbuf();
  // Point the unit at the binaries just built, as an install would.
  std::string unit = std::regex_replace(text.str(), std::regex("/usr/local/s?bin"), RACKWATCH_BIN_DIR);
  TempDir dir;
  write_file(dir / "rackwatchd.service", unit);
  auto r = run({"systemd-analyze", "verify", (dir / "rackwatchd.service").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out + r.err, "") << "systemd-analyze verify must report nothing";
}

}  // namespace
}  // namespace rackwatch::test
