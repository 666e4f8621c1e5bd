// The shipped SNMP profiles against a real agent (snmpsimd) serving the
// data in tests/peers/snmp/: every point each profile makes, with its name
// and its value in the canonical unit, or no value where the device has
// none, as tests/peers/snmp/README.md lists them from the MIBs; and
// `profile: auto` choosing each vendor's profile, and ENTITY-SENSOR-MIB for
// a vendor no profile knows.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cmath>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include "core/config.hpp"
#include "pipeline/condition.hpp"
#include "sources/snmp/snmp_source.hpp"
#include "support/read_text.hpp"
#include "support/config_text.hpp"
#include "support/run.hpp"
#include "support/snmpsim.hpp"
#include "support/source_poll.hpp"
#include "support/temp_dir.hpp"

namespace rackwatch {
namespace {

using ::testing::HasSubstr;
using test::Snmpsim;

const std::vector<std::string> kProfiles{"entity-sensor", "apc-rpdu2", "raritan-pdu2", "servertech-sentry4",
                                         "vertiv-geist"};

struct ExpectedPoint {
  std::string name;
  std::optional<double> value;  // none: the point must read bad
  std::string unit;
};

// The point tables of tests/peers/snmp/README.md, by data file: rows
// "| `name` | raw | expected | unit |" under "## `FILE.snmprec`".
std::map<std::string, std::vector<ExpectedPoint>> expected_points() {
  std::map<std::string, std::vector<ExpectedPoint>> out;
  std::istringstream in(test::read_text(test::source_path("tests/peers/snmp/README.md")));
  const std::regex section(R"(^## `([a-z0-9-]+)\.snmprec`)");
  const std::regex row(R"(^\| `([A-Za-z0-9_-]+)` \|[^|]*\| ([^|]+) \| ([^|]+) \|$)");
  std::string line;
  std::string file;
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_search(line, m, section)) {
      file = m[1];
    } else if (!file.empty() && std::regex_match(line, m, row)) {
      ExpectedPoint p{m[1], std::nullopt, m[3]};
      const std::string expected = m[2];
      if (expected.rfind("no value", 0) != 0) p.value = std::stod(expected);
      out[file].push_back(std::move(p));
    }
  }
  return out;
}

class SnmpProfileTest : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() {
    Snmpsim::Options o;
    for (const auto& name : kProfiles) o.records[name] = test::read_text(test::source_path("tests/peers/snmp/" + name + ".snmprec"));
    agent_ = new Snmpsim(o);
    secrets_ = new test::TempDir("rackwatch-snmp-profile");
    for (const auto& name : kProfiles) {
      const auto path = *secrets_ / name;
      std::ofstream(path) << name << "\n";
      ::chmod(path.c_str(), 0600);
    }
  }
  static void TearDownTestSuite() {
    delete agent_;
    delete secrets_;
    agent_ = nullptr;
    secrets_ = nullptr;
  }

  // A source asking for the data file `data` with profile `profile`; the
  // config is said to be in config/, so that profiles/ beside it are the shipped ones.
  std::unique_ptr<Source> make(const std::string& data, const std::string& profile) {
    config_ = std::make_unique<Config>(test::parse_config_text(
        "agent: {site: s, rack: r}\nmqtt: {brokers: [\"tcp://127.0.0.1:1883\"]}\nsources:\n"
        "  - name: pdu\n    type: snmp\n    interval: 5s\n    timeout: 4s\n    request_timeout: 2s\n"
        "    host: " + agent_->endpoint() + "\n    community_file: " + (*secrets_ / data).string() +
            "\n    profile: " + profile + "\n",
        test::source_path("config/rackwatch.yaml")));
    return snmp::snmp_source_type().create(config_->sources.at(0), SourceEnv{io_.get_executor(), pool_.get_executor()});
  }

  // Polls twice (the second finds the rows the first found) and checks
  // every point against the README's table for `data`.
  void expect_as_listed(Source& source, const std::string& data) {
    const auto expected = expected_points()[data];
    ASSERT_FALSE(expected.empty()) << "no table for " << data << " in tests/peers/snmp/README.md";
    test::poll(io_, source);
    const auto readings = test::poll(io_, source);
    const auto& points = source.config().points;
    ASSERT_EQ(readings.size(), points.size());
    std::vector<std::string> names;
    for (const auto& p : points) names.push_back(p.name);
    std::vector<std::string> listed;
    for (const auto& e : expected) listed.push_back(e.name);
    EXPECT_EQ(names, listed) << "the points made, in order, are those listed";
    for (std::size_t i = 0; i < points.size() && i < expected.size(); ++i) {
      SCOPED_TRACE(points[i].name);
      const Sample s = condition(points[i], static_cast<std::uint32_t>(i), readings[i]);
      EXPECT_EQ(std::string(unit_symbol(points[i].unit)), expected[i].unit);
      if (expected[i].value) {
        ASSERT_TRUE(has_value(s.quality)) << s.reason;
        EXPECT_NEAR(s.value, *expected[i].value, std::max(1e-9, std::abs(*expected[i].value) * 1e-9));
      } else {
        EXPECT_FALSE(has_value(s.quality)) << "read " << s.value;
        EXPECT_FALSE(s.reason.empty());
      }
    }
  }

  static std::string notes_of(const Source& source) {
    std::string out;
    for (const auto& n : source.health().notes) out += n + "\n";
    return out;
  }

  boost::asio::io_context io_;
  boost::asio::thread_pool pool_{1};
  std::unique_ptr<Config> config_;
  static Snmpsim* agent_;
  static test::TempDir* secrets_;
};

Snmpsim* SnmpProfileTest::agent_ = nullptr;
test::TempDir* SnmpProfileTest::secrets_ = nullptr;

TEST_P(SnmpProfileTest, EveryPointReadsAsTheMibSays) {
  auto source = make(GetParam(), GetParam());
  expect_as_listed(*source, GetParam());
  EXPECT_THAT(notes_of(*source), HasSubstr("profile " + GetParam() + " ("));
}

TEST_P(SnmpProfileTest, AutoChoosesThisProfileByWhatTheDeviceSays) {
  auto source = make(GetParam(), "auto");
  EXPECT_TRUE(source->config().points.empty()) << "nothing is known before the device answers";
  expect_as_listed(*source, GetParam());
  const auto notes = notes_of(*source);
  EXPECT_THAT(notes, HasSubstr("profile " + GetParam() + " ("));
  EXPECT_THAT(notes, HasSubstr("chosen by profile: auto: sysObjectID"));
  if (GetParam() == "entity-sensor") {
    EXPECT_THAT(notes, HasSubstr("match no vendor profile"));
  }
}

std::string test_name(const ::testing::TestParamInfo<std::string>& param) {
  std::string name;
  for (char c : param.param) name += c == '-' ? '_' : c;
  return name;
}

INSTANTIATE_TEST_SUITE_P(Shipped, SnmpProfileTest, ::testing::ValuesIn(kProfiles), test_name);

// The issue's figures, said plainly.
TEST_F(SnmpProfileTest, A48OutletPduGives48OutletsAndTheScalingOfEachVendorHolds) {
  auto apc = make("apc-rpdu2", "apc-rpdu2");
  const auto readings = test::poll(io_, *apc);
  const auto& points = apc->config().points;
  std::size_t outlets = 0;
  const std::regex outlet_current(R"(outlet([0-9]+)_current)");
  for (std::size_t i = 0; i < points.size(); ++i) {
    std::smatch m;
    if (!std::regex_match(points[i].name, m, outlet_current)) continue;
    ++outlets;
    EXPECT_THAT(points[i].description, HasSubstr("Server " + m[1].str())) << "the outlet's own name";
  }
  EXPECT_EQ(outlets, 48U);
  auto value_of = [&](const Source& s, const std::vector<RawReading>& r, const std::string& name) {
    const auto& ps = s.config().points;
    for (std::size_t i = 0; i < ps.size(); ++i) {
      if (ps[i].name == name) return condition(ps[i], static_cast<std::uint32_t>(i), r[i]).value;
    }
    ADD_FAILURE() << "no point " << name;
    return 0.0;
  };
  EXPECT_DOUBLE_EQ(value_of(*apc, readings, "device1_power"), 12'340.0) << "raw 1234 hundredths of kW";
  auto raritan = make("raritan-pdu2", "raritan-pdu2");
  const auto r = test::poll(io_, *raritan);
  EXPECT_NEAR(value_of(*raritan, r, "pdu1_inlet1_current"), 0.680, 1e-12) << "raw 680, 3 decimal digits";
}

// The walk over SNMPv3 authPriv (SHA, AES), as the tables are walked with
// GETBULK in the same secured session as the GETs.
TEST_F(SnmpProfileTest, AProfileIsWalkedOverV3AuthPriv) {
  Snmpsim::Options o;
  o.records = {{"apc-rpdu2", test::read_text(test::source_path("tests/peers/snmp/apc-rpdu2.snmprec"))}};
  o.v3 = Snmpsim::V3User{"ops", "SHA", "auth-secret-1", "AES", "priv-secret-1"};
  Snmpsim v3_agent(o);
  auto secret = [&](const std::string& name, const std::string& value) {
    const auto path = *secrets_ / name;
    std::ofstream(path) << value << "\n";
    ::chmod(path.c_str(), 0600);
    return path.string();
  };
  config_ = std::make_unique<Config>(test::parse_config_text(
      "agent: {site: s, rack: r}\nmqtt: {brokers: [\"tcp://127.0.0.1:1883\"]}\nsources:\n"
      "  - name: pdu\n    type: snmp\n    interval: 5s\n    timeout: 4s\n    request_timeout: 2s\n"
      "    host: " + v3_agent.endpoint() + "\n    version: 3\n    user: ops\n    context: apc-rpdu2\n"
      "    auth: {protocol: SHA, passphrase_file: " + secret("v3-auth", "auth-secret-1") + "}\n"
      "    priv: {protocol: AES, passphrase_file: " + secret("v3-priv", "priv-secret-1") + "}\n"
      "    profile: auto\n",
      test::source_path("config/rackwatch.yaml")));
  auto source =
      snmp::snmp_source_type().create(config_->sources.at(0), SourceEnv{io_.get_executor(), pool_.get_executor()});
  expect_as_listed(*source, "apc-rpdu2");
  EXPECT_THAT(notes_of(*source), HasSubstr("v3 user 'ops' authPriv, engine "));
}

}  // namespace
}  // namespace rackwatch
