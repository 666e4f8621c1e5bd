// SNMP in the running daemon: two SNMPv3 agents (snmpsimd, two engines),
// one asked with its keys and one with a wrong auth passphrase. The good
// one reads; the other says "wrong digest" in `devices`, `status` and the
// log, and is shown degraded, not dormant: the device answers.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <boost/json.hpp>

#include <fstream>
#include <map>
#include <optional>
#include <string>

#include "support/mosquitto.hpp"
#include "support/process.hpp"
#include "support/run.hpp"
#include "support/snmpsim.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace rackwatch::test {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

std::string secret(const TempDir& dir, const std::string& name, const std::string& value) {
  const auto path = dir / name;
  std::ofstream(path) << value << "\n";
  ::chmod(path.c_str(), 0600);
  return path.string();
}

TEST(SnmpDaemonTest, AWrongAuthKeyIsSaidInDevicesStatusAndTheLogWhileTheGoodSourceReads) {
  TempDir dir("rackwatch-snmp-daemon");
  Mosquitto broker;
  broker.start();
  Snmpsim::Options o;
  o.records = {{"pdu", "1.3.6.1.2.1.99.1.1.1.4.5|2|4170\n"}};
  o.v3 = Snmpsim::V3User{"ops", "SHA256", "auth-secret-1", "AES", "priv-secret-1"};
  Snmpsim agent_peer(o);
  Snmpsim other_peer(o);
  const std::string socket = (dir / "diag.sock").string();
  const std::string priv = secret(dir, "priv", "priv-secret-1");
  auto source = [&](const std::string& name, const Snmpsim& peer, const std::string& auth_file) {
    return "  - name: " + name + "\n    type: snmp\n    interval: 1s\n    request_timeout: 800ms\n"
           "    host: " + peer.endpoint() + "\n    version: 3\n    user: ops\n    context: pdu\n"
           "    auth: {protocol: SHA-256, passphrase_file: " + auth_file + "}\n"
           "    priv: {protocol: AES, passphrase_file: " + priv + "}\n"
           "    points: [{name: power, quantity: power, oid: 1.3.6.1.2.1.99.1.1.1.4.5}]\n";
  };
  write_file(dir / "agent.yaml", "agent: {site: hall-s, rack: r07, id: snmp-agent}\nmqtt:\n  brokers: [" +
                                     broker.uri() + "]\noutbox: {dir: " + (dir / "outbox").string() +
                                     "}\ndiag: {socket: " + socket + "}\nsources:\n" +
                                     source("pdu-good", agent_peer, secret(dir, "auth-good", "auth-secret-1")) +
                                     source("pdu-wrong", other_peer, secret(dir, "auth-wrong", "not-the-secret")));
  Process daemon({bin("rackwatchd"), "--config", (dir / "agent.yaml").string()}, dir.path());

  auto states = [&] {
    std::map<std::string, std::string> out;
    auto r = rackwatch_verb(socket, {"status", "--json"});
    if (r.exit_code != 0 && r.exit_code != 1) return out;
    try {
      const boost::json::value parsed = boost::json::parse(r.out);
      for (const auto& s : parsed.at("status").at("sources").as_array()) {
        out[std::string(s.at("name").as_string())] = std::string(s.at("state").as_string());
      }
    } catch (const std::exception&) {
    }
    return out;
  };
  ASSERT_TRUE(wait_until(
      [&] {
        auto s = states();
        return s["pdu-good"] == "ok" && s["pdu-wrong"] == "failing";
      },
      15s))
      << rackwatch_verb(socket, {"status"}).out << daemon.log();

  const auto devices = rackwatch_verb(socket, {"devices"}).out;
  EXPECT_THAT(devices, ::testing::ContainsRegex("pdu-wrong +snmp +degraded"));
  EXPECT_THAT(devices, HasSubstr("refused user 'ops': wrong digest (usmStatsWrongDigests)"));
  EXPECT_THAT(devices, ::testing::ContainsRegex("other_reports=0"));
  EXPECT_THAT(devices, ::testing::ContainsRegex("auth_errors=[1-9]"));
  EXPECT_THAT(devices, ::testing::ContainsRegex("pdu-good +snmp +ok"));
  const auto read = rackwatch_verb(socket, {"read"}).out;
  EXPECT_THAT(read, ::testing::ContainsRegex("pdu-good\\.power +4\\.17 +kW +good"));
  EXPECT_THAT(read, ::testing::ContainsRegex("pdu-wrong\\.power +- +W +bad"));
  EXPECT_THAT(daemon.log(), HasSubstr("snmp source 'pdu-wrong': " + other_peer.endpoint() + " refused user 'ops': wrong digest"));
  EXPECT_THAT(daemon.log(), ::testing::Not(HasSubstr("snmp source 'pdu-good': ")));
}

}  // namespace
}  // namespace rackwatch::test
