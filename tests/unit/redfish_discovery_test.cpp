// Discovery walks a mockup read from files (no sockets): the points it
// makes, the links to absent resources it counts, and the requests it takes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>

#include "sources/redfish/redfish_discovery.hpp"

namespace rackwatch::redfish {
namespace {

namespace asio = boost::asio;
using ::testing::HasSubstr;

const std::filesystem::path kSmallBmc = std::filesystem::path(RACKWATCH_SOURCE_DIR) / "tests/fixtures/redfish/small-bmc";

// A mockup directory in DMTF's layout as a Fetcher.
class FileFetcher final : public Fetcher {
 public:
  explicit FileFetcher(std::filesystem::path dir) : dir_(std::move(dir)) {}
  asio::awaitable<Result<boost::json::value, Error>> get(std::string uri) override {
    ++gets;
    if (fail_at && gets == *fail_at) co_return Error{ErrorKind::timeout, "timeout: reading " + uri};
    std::string rest = uri.substr(std::string("/redfish/v1").size());
    while (!rest.empty() && (rest.front() == '/')) rest.erase(0, 1);
    while (!rest.empty() && (rest.back() == '/')) rest.pop_back();
    std::ifstream in(dir_ / rest / "index.json");
    if (!in) co_return Error{ErrorKind::status, "404 from " + uri, 404};
    std::stringstream text;
    text << in.rdbuf();
    co_return boost::json::parse(text.str());
  }
  std::size_t gets = 0;
  std::optional<std::size_t> fail_at;

 private:
  std::filesystem::path dir_;
};

asio::awaitable<void> run_discovery(Fetcher& f, std::optional<Result<Discovery, Error>>& out) {
  DiscoveryOptions options;
  options.max_points = 10'000;
  out = co_await discover(f, options);
}

Result<Discovery, Error> walk(Fetcher& f) {
  asio::io_context io;
  std::optional<Result<Discovery, Error>> out;
  asio::co_spawn(io, run_discovery(f, out), asio::detached);
  io.run();
  return std::move(*out);
}

TEST(RedfishDiscoveryTest, FindsTheSensorsOfTheSmallBmcAndCountsTheAbsentOne) {
  FileFetcher f(kSmallBmc);
  auto d = walk(f);
  ASSERT_TRUE(d) << d.error().message;
  std::vector<std::string> names;
  for (const auto& p : d->points) names.push_back(p.name);
  EXPECT_EQ(names, (std::vector<std::string>{"InletTemp", "CPUPower", "OutletTemp", "PSU1Current"}));
  EXPECT_EQ(d->absent, (std::vector<std::string>{"/redfish/v1/Chassis/Blade1/Sensors/Missing"}));
  // Root, Chassis, Blade1, Sensors, 5 sensors.
  EXPECT_EQ(d->requests, 9u);
  EXPECT_EQ(f.gets, 9u);
  EXPECT_EQ(d->points[1].kind.from.factor, 1000.0);  // kW
}

TEST(RedfishDiscoveryTest, AFailureOtherThan404EndsTheWalk) {
  FileFetcher f(kSmallBmc);
  f.fail_at = 5;
  auto d = walk(f);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().kind, ErrorKind::timeout);
  EXPECT_EQ(f.gets, 5u);
}

TEST(RedfishDiscoveryTest, NoServiceRootIsAnError) {
  FileFetcher f(kSmallBmc / "nowhere");
  auto d = walk(f);
  ASSERT_FALSE(d);
  EXPECT_THAT(d.error().message, HasSubstr("service root"));
}

}  // namespace
}  // namespace rackwatch::redfish
