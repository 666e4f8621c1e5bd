// `cmake --install` into a temporary root, twice, as an upgrade would: the
// operator's edited config survives, and the shipped one lands beside it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/run.hpp"
#include "support/temp_dir.hpp"

namespace rackwatch::test {
namespace {

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

RunResult install_into(const TempDir& root) {
  return run({"env", "DESTDIR=" + root.path().string(), RACKWATCH_CMAKE, "--install", RACKWATCH_BUILD_DIR},
             std::chrono::seconds{120});
}

TEST(Install, NeverOverwritesTheOperatorsConfig) {
  TempDir root("rackwatch-root");
  auto first = install_into(root);
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  // Where the build puts configs (its sysconfdir): found by the example.
  std::filesystem::path confdir;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root.path())) {
    if (e.path().filename() == "rackwatchd.yaml.example") confdir = e.path().parent_path();
  }
  ASSERT_FALSE(confdir.empty()) << first.out;
  const auto shipped = slurp(source_path("config/rackwatchd.yaml"));
  EXPECT_EQ(slurp(confdir / "rackwatchd.yaml"), shipped) << "a first install puts the config in place";
  EXPECT_EQ(slurp(confdir / "rackwatchd.yaml.example"), shipped);
  EXPECT_TRUE(std::filesystem::exists(confdir / "demo.yaml.example"));

  const std::string edited = "# the operator's own\n" + shipped;
  write_file(confdir / "rackwatchd.yaml", edited);
  write_file(confdir / "rackwatchd.yaml.example", "an old example\n");
  auto second = install_into(root);
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  EXPECT_EQ(slurp(confdir / "rackwatchd.yaml"), edited) << "an upgrade keeps the edited config";
  EXPECT_EQ(slurp(confdir / "rackwatchd.yaml.example"), shipped) << "and refreshes the example";
  EXPECT_THAT(second.out, ::testing::HasSubstr("Kept: " + (confdir / "rackwatchd.yaml").string()));
}

}  // namespace
}  // namespace rackwatch::test
