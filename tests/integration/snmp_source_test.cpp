// The snmp source against a real SNMP agent (snmpsimd): every number kind a
// device sends, v2c and v3 authPriv with SHA/AES and SHA-256/AES-256, the
// distinct errors of a wrong community, a wrong auth key and a wrong priv
// key, a dead agent beside a live one, and an agent that restarts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/stat.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include "core/config.hpp"
#include "sources/builtin/builtin_types.hpp"
#include "sources/snmp/snmp_source.hpp"
#include "support/config_text.hpp"
#include "support/net.hpp"
#include "support/snmpsim.hpp"
#include "support/source_poll.hpp"
#include "support/temp_dir.hpp"

namespace rackwatch {
namespace {

namespace asio = boost::asio;
using ::testing::HasSubstr;
using test::Snmpsim;

// What the agent serves: one OID of each kind (snmprec type numbers: 2
// Integer32, 4 OCTET STRING, 65 Counter32, 66 Gauge32, 67 TimeTicks, 70
// Counter64, 64 IpAddress).
constexpr const char* kRecords =
    "1.3.6.1.2.1.1.1.0|4|rack PDU\n"
    "1.3.6.1.4.1.99999.1.1.0|2|-5\n"
    "1.3.6.1.4.1.99999.1.2.0|66|1234\n"
    "1.3.6.1.4.1.99999.1.3.0|65|4000000000\n"
    "1.3.6.1.4.1.99999.1.4.0|70|12345678901234\n"
    "1.3.6.1.4.1.99999.1.5.0|67|100\n"
    "1.3.6.1.4.1.99999.1.6.0|4|23.5\n"
    "1.3.6.1.4.1.99999.1.7.0|4|n/a\n"
    "1.3.6.1.4.1.99999.1.8.0|64|10.0.0.1\n";

struct Expected {
  const char* oid;
  std::optional<double> value;
  const char* error = "";
};

const std::vector<Expected> kExpected{
    {"1.3.6.1.4.1.99999.1.1.0", -5.0},
    {"1.3.6.1.4.1.99999.1.2.0", 1234.0},
    {"1.3.6.1.4.1.99999.1.3.0", 4000000000.0},
    {"1.3.6.1.4.1.99999.1.4.0", 12345678901234.0},
    {"1.3.6.1.4.1.99999.1.5.0", 100.0},
    {"1.3.6.1.4.1.99999.1.6.0", 23.5},
    {"1.3.6.1.4.1.99999.1.7.0", std::nullopt, "a string that is not a number (\"n/a\")"},
    {"1.3.6.1.4.1.99999.1.8.0", std::nullopt, "IpAddress, not a number"},
    {"1.3.6.1.4.1.99999.1.9.0", std::nullopt, "noSuch"},
};

// Secret files as the agent wants them: readable by their owner only.
class Secrets {
 public:
  std::string write(const std::string& name, const std::string& value) {
    const auto path = dir_ / name;
    std::ofstream(path) << value << "\n";
    ::chmod(path.c_str(), 0600);
    return path.string();
  }

 private:
  test::TempDir dir_{"rackwatch-snmp-secrets"};
};

std::string points_text(const std::vector<Expected>& points) {
  std::string out = "    points:\n";
  for (std::size_t i = 0; i < points.size(); ++i) {
    out += "      - {name: p" + std::to_string(i) + ", quantity: power, oid: " + points[i].oid + "}\n";
  }
  return out;
}

Config parse(const std::string& sources) {
  return test::parse_config_text("agent: {site: s, rack: r}\nmqtt: {brokers: [\"tcp://127.0.0.1:1883\"]}\nsources:\n" +
                                 sources);
}

std::string v2c_source(const std::string& name, const std::string& endpoint, const std::string& community_file,
                       const std::vector<Expected>& points = kExpected) {
  return "  - name: " + name + "\n    type: snmp\n    interval: 5s\n    timeout: 3s\n    request_timeout: 2s\n"
         "    host: " + endpoint + "\n    community_file: " + community_file + "\n" + points_text(points);
}

std::string v3_source(const std::string& name, const std::string& endpoint, const std::string& auth_protocol,
                      const std::string& auth_file, const std::string& priv_protocol, const std::string& priv_file) {
  return "  - name: " + name + "\n    type: snmp\n    interval: 5s\n    timeout: 3s\n    request_timeout: 2s\n"
         "    host: " + endpoint + "\n    version: 3\n    user: ops\n    context: pdu\n"
         "    auth: {protocol: " + auth_protocol + ", passphrase_file: " + auth_file + "}\n"
         "    priv: {protocol: " + priv_protocol + ", passphrase_file: " + priv_file + "}\n" + points_text(kExpected);
}

Snmpsim::Options v2c_agent() {
  Snmpsim::Options o;
  o.records = {{"public", kRecords}};
  return o;
}

Snmpsim::Options v3_agent(Snmpsim::V3User user, std::uint16_t port = 0) {
  Snmpsim::Options o;
  o.records = {{"pdu", kRecords}};
  o.v3 = std::move(user);
  o.port = port;
  return o;
}

class SnmpSourceTest : public ::testing::Test {
 protected:
  std::unique_ptr<Source> make(const SourceConfig& config) {
    return snmp::snmp_source_type().create(config, SourceEnv{io.get_executor(), pool.get_executor()});
  }
  static const snmp::SnmpSource& snmp_of(const Source& s) { return dynamic_cast<const snmp::SnmpSource&>(s); }

  void expect_all_as_served(const std::vector<RawReading>& readings) {
    ASSERT_EQ(readings.size(), kExpected.size());
    for (std::size_t i = 0; i < kExpected.size(); ++i) {
      SCOPED_TRACE(kExpected[i].oid);
      if (kExpected[i].value) {
        EXPECT_TRUE(readings[i].ok()) << readings[i].error;
        EXPECT_DOUBLE_EQ(readings[i].value, *kExpected[i].value);
      } else {
        EXPECT_FALSE(readings[i].ok());
        EXPECT_THAT(readings[i].error, HasSubstr(kExpected[i].error));
        EXPECT_THAT(readings[i].error, HasSubstr(kExpected[i].oid));
      }
    }
  }

  asio::io_context io;
  asio::thread_pool pool{1};
  Secrets secrets;
};

TEST_F(SnmpSourceTest, V2cReadsEveryNumberKindAndSaysWhyTheOthersAreNot) {
  Snmpsim agent(v2c_agent());
  const Config config = parse(v2c_source("pdu", agent.endpoint(), secrets.write("community", "public")));
  auto source = make(config.sources[0]);
  expect_all_as_served(test::poll(io, *source));
  const auto& c = snmp_of(*source).session_counters();
  EXPECT_EQ(c.requests, 1u) << "nine points in one GET";
  EXPECT_EQ(c.responses, 1u);
  EXPECT_EQ(source->health().state, DeviceState::ok);
}

TEST_F(SnmpSourceTest, MaxVarbindsSplitsAPollIntoSeveralGets) {
  Snmpsim agent(v2c_agent());
  std::string text = v2c_source("pdu", agent.endpoint(), secrets.write("community", "public"));
  text.insert(text.find("    points:"), "    max_varbinds: 4\n");
  const Config config = parse(text);
  auto source = make(config.sources[0]);
  expect_all_as_served(test::poll(io, *source));
  EXPECT_EQ(snmp_of(*source).session_counters().requests, 3u) << "9 points, 4 a GET";
}

struct V3Case {
  const char* auth;       // ours
  const char* priv;
  const char* sim_auth;   // snmpsimd's name for the same
  const char* sim_priv;
};

class SnmpV3Test : public SnmpSourceTest, public ::testing::WithParamInterface<V3Case> {};

TEST_P(SnmpV3Test, AuthPrivReadsAfterDiscoveringTheEngine) {
  const auto& p = GetParam();
  Snmpsim agent(v3_agent({"ops", p.sim_auth, "auth-secret-1", p.sim_priv, "priv-secret-1"}));
  const Config config = parse(v3_source("pdu", agent.endpoint(), p.auth, secrets.write("auth", "auth-secret-1"),
                                        p.priv, secrets.write("priv", "priv-secret-1")));
  auto source = make(config.sources[0]);
  expect_all_as_served(test::poll(io, *source));
  expect_all_as_served(test::poll(io, *source));
  const auto& c = snmp_of(*source).session_counters();
  EXPECT_EQ(c.discoveries, 1u) << "the engine is found once";
  EXPECT_EQ(c.responses, 2u);
  EXPECT_EQ(c.auth_errors, 0u);
  const auto health = source->health();
  ASSERT_FALSE(health.notes.empty());
  EXPECT_THAT(health.notes.front(), HasSubstr("v3 user 'ops' authPriv, engine "));
}

INSTANTIATE_TEST_SUITE_P(Protocols, SnmpV3Test,
                         ::testing::Values(V3Case{"SHA", "AES", "SHA", "AES"},
                                           V3Case{"SHA-256", "AES-256", "SHA256", "AES256BLMT"}),
                         [](const ::testing::TestParamInfo<V3Case>& i) {
                           return std::string(i.param.sim_auth) + "_" + i.param.sim_priv;
                         });

TEST_F(SnmpSourceTest, AWrongCommunityIsAnUnansweredRequestThatSaysSo) {
  Snmpsim agent(v2c_agent());
  const Config config = parse(v2c_source("pdu", agent.endpoint(), secrets.write("community", "privat3")));
  auto source = make(config.sources[0]);
  const auto readings = test::poll(io, *source);
  for (const auto& r : readings) {
    EXPECT_FALSE(r.ok());
    EXPECT_THAT(r.error, HasSubstr("no answer from " + agent.endpoint()));
    EXPECT_THAT(r.error, HasSubstr("the community is not the device's"));
  }
  EXPECT_EQ(snmp_of(*source).session_counters().timeouts, 1u);
  EXPECT_EQ(source->health().state, DeviceState::degraded);
}

TEST_F(SnmpSourceTest, AWrongAuthKeyIsSaidAsThatAndTheDeviceIsAlive) {
  Snmpsim agent(v3_agent({"ops", "SHA256", "auth-secret-1", "AES", "priv-secret-1"}));
  const Config config = parse(v3_source("pdu", agent.endpoint(), "SHA-256", secrets.write("auth", "not-the-secret"), "AES",
                                        secrets.write("priv", "priv-secret-1")));
  auto source = make(config.sources[0]);
  for (int poll = 0; poll < 4; ++poll) {
    const auto readings = test::poll(io, *source);
    for (const auto& r : readings) {
      EXPECT_FALSE(r.ok());
      EXPECT_THAT(r.error, HasSubstr("refused user 'ops': wrong digest (usmStatsWrongDigests)"));
    }
  }
  const auto& c = snmp_of(*source).session_counters();
  EXPECT_EQ(c.auth_errors, 4u);
  EXPECT_EQ(c.timeouts, 0u);
  const auto health = source->health();
  EXPECT_EQ(health.state, DeviceState::degraded) << "refused, not dormant: it answers";
  EXPECT_THAT(health.detail, HasSubstr("wrong digest"));
}

TEST_F(SnmpSourceTest, AWrongPrivKeyIsSaidAsThat) {
  Snmpsim agent(v3_agent({"ops", "SHA", "auth-secret-1", "AES", "priv-secret-1"}));
  const Config config = parse(v3_source("pdu", agent.endpoint(), "SHA", secrets.write("auth", "auth-secret-1"), "AES",
                                        secrets.write("priv", "not-the-secret")));
  auto source = make(config.sources[0]);
  const auto readings = test::poll(io, *source);
  for (const auto& r : readings) {
    EXPECT_FALSE(r.ok());
    // snmpsimd drops what it cannot decrypt (no usmStatsDecryptionErrors
    // report); the engine answered discovery, so the key is the suspect.
    EXPECT_THAT(r.error, HasSubstr("privacy passphrase or protocol (AES)"));
  }
  EXPECT_EQ(snmp_of(*source).session_counters().discoveries, 1u);
}

// A dead agent (stopped: it takes the datagrams and never answers) beside a
// live one, polled together on one executor: the live one's poll ends
// first, complete; the dead one goes dormant and is then left alone.
TEST_F(SnmpSourceTest, ADeadAgentBesideALiveOneCostsItNothing) {
  Snmpsim live(v2c_agent());
  Snmpsim dead(v2c_agent());
  ASSERT_TRUE(dead.process().signal(SIGSTOP));
  const std::string community = secrets.write("community", "public");
  const Config config = parse(v2c_source("live", live.endpoint(), community) +
                              v2c_source("dead", dead.endpoint(), community) + "    dormant_after: 2\n");
  auto a = make(config.sources[0]);
  auto b = make(config.sources[1]);
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    std::vector<std::string> finished;
    std::optional<std::vector<RawReading>> live_readings;
    std::optional<std::vector<RawReading>> dead_readings;
    auto run = [&](Source& s, std::optional<std::vector<RawReading>>& out, std::string name) -> asio::awaitable<void> {
      out = co_await s.poll();
      finished.push_back(std::move(name));
    };
    asio::co_spawn(io, run(*b, dead_readings, "dead"), asio::detached);
    asio::co_spawn(io, run(*a, live_readings, "live"), asio::detached);
    io.restart();
    io.run_for(std::chrono::seconds{10});
    ASSERT_TRUE(live_readings && dead_readings);
    expect_all_as_served(*live_readings);
    if (round < 2) {
      ASSERT_EQ(finished.front(), "live") << "the live agent waited for the dead one";
      EXPECT_THAT(dead_readings->front().error, HasSubstr("no answer from " + dead.endpoint()));
    } else {
      EXPECT_THAT(dead_readings->front().error, HasSubstr("device dormant after 2 failures"));
    }
  }
  EXPECT_EQ(snmp_of(*b).session_counters().requests, 2u) << "no request while dormant";
  EXPECT_EQ(b->health().state, DeviceState::dormant);
  dead.process().signal(SIGCONT);
}

// An agent that restarts starts its engine's time again: the next request
// is out of its time window, and the library re-syncs by itself.
TEST_F(SnmpSourceTest, AnAgentThatRestartsIsReadAgainWithoutAReload) {
  const auto user = Snmpsim::V3User{"ops", "SHA256", "auth-secret-1", "AES", "priv-secret-1"};
  auto agent = std::make_unique<Snmpsim>(v3_agent(user));
  const auto port = agent->port();
  const Config config = parse(v3_source("pdu", agent->endpoint(), "SHA-256", secrets.write("auth", "auth-secret-1"),
                                        "AES", secrets.write("priv", "priv-secret-1")));
  auto source = make(config.sources[0]);
  expect_all_as_served(test::poll(io, *source));
  agent.reset();
  std::this_thread::sleep_for(std::chrono::seconds{2});  // the engine's clock must have moved on
  agent = std::make_unique<Snmpsim>(v3_agent(user, port));
  std::vector<RawReading> readings = test::poll(io, *source);
  if (!readings.front().ok()) readings = test::poll(io, *source);  // at most one poll lost to the re-sync
  expect_all_as_served(readings);
}

}  // namespace
}  // namespace rackwatch
