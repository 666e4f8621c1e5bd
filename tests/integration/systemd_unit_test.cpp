// The shipped unit passes systemd's own checker, and, installed into a
// temporary root as `cmake --install` lays it out, systemd's own security
// analysis rates its exposure at most 2.0 ("OK").
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <iostream>

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

TEST(SystemdUnit, InstalledUnitHasAnExposureOfAtMostTwo) {
  if (!std::filesystem::exists("/usr/bin/systemd-analyze")) {
    GTEST_SKIP() << "systemd-analyze is not installed (scripts/bootstrap installs it)";
  }
  TempDir root("rackwatch-root");
  auto install = run({"env", "DESTDIR=" + root.path().string(), RACKWATCH_CMAKE, "--install", RACKWATCH_BUILD_DIR},
                     std::chrono::seconds{120});
  ASSERT_EQ(install.exit_code, 0) << install.out << install.err;
  ASSERT_TRUE(std::filesystem::exists(root / "etc/systemd/system/rackwatchd.service")) << install.out;
  auto r = run({"systemd-analyze", "security", "--offline=true", "--root=" + root.path().string(),
                "--no-pager", "rackwatchd.service"});
  std::smatch m;
  const std::string text = r.out + r.err;
  ASSERT_TRUE(std::regex_search(text, m, std::regex("Overall exposure level for rackwatchd.service: ([0-9.]+)")))
      << text;
  const double exposure = std::stod(m[1].str());
  std::cout << "systemd-analyze security: rackwatchd.service exposure " << m[1].str() << "\n";
  EXPECT_LE(exposure, 2.0) << text;
  // What the service still may do is what it needs, and nothing it does not.
  for (const char* needed : {"RestrictAddressFamilies=~AF_(INET|INET6)", "PrivateNetwork=", "DeviceAllow="}) {
    EXPECT_THAT(text, ::testing::HasSubstr(needed));
  }
  for (const char* closed : {"CapabilityBoundingSet=~CAP_SYS_ADMIN", "RestrictAddressFamilies=~AF_NETLINK",
                             "MemoryDenyWriteExecute=", "NoNewPrivileges="}) {
    const auto at = text.find(closed);
    ASSERT_NE(at, std::string::npos) << closed;
    const auto line_start = text.rfind('\n', at) + 1;
    EXPECT_EQ(text.compare(line_start, 3, "\u2713"), 0) << "not closed: " << text.substr(line_start, 100);
  }
}

}  // namespace
}  // namespace rackwatch::test
