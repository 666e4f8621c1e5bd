// The `type: snmp` keys: address, version and credentials (secrets only
// from private files), request settings and OIDs; each mistake at its line.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>
#include <string>

#include "core/config.hpp"
#include "core/secrets.hpp"
#include "sources/builtin/builtin_types.hpp"
#include "sources/registry.hpp"
#include "sources/snmp/snmp_settings.hpp"
#include "support/temp_dir.hpp"

namespace rackwatch::snmp {
namespace {

using ::testing::HasSubstr;

class SnmpConfigTest : public ::testing::Test {
 protected:
  std::string secret(const std::string& name, const std::string& value, mode_t mode = 0600) {
    const auto path = dir_ / name;
    std::ofstream(path) << value << "\n";
    ::chmod(path.c_str(), mode);
    return path.string();
  }
  std::optional<Config> parse(const std::string& sources) {
    return parse_config("agent: {site: s, rack: r}\nmqtt: {brokers: [tcp://127.0.0.1:1883]}\nsources:\n" + sources,
                        "/etc/rackwatch/test.yaml", builtin_source_types(), diags_);
  }
  std::string lines() const {
    std::string out;
    for (const auto& i : diags_.items()) out += format_mark(i.mark) + ": " + i.message + "\n";
    return out;
  }
  static const SnmpSettings& settings_of(const SourceConfig& s) { return dynamic_cast<const SnmpSettings&>(*s.settings); }

  test::TempDir dir_{"rackwatch-snmp-config"};
  Diagnostics diags_;
};

TEST_F(SnmpConfigTest, V2cWithDefaults) {
  const auto cfg = parse("  - name: pdu\n    type: snmp\n    interval: 5s\n    host: 10.0.0.20\n"
                         "    community_file: " + secret("c", "public") + "\n"
                         "    points: [{name: p, quantity: power, oid: .1.3.6.1.4.1.318.1.1.26.4.3.1.5.1}]\n");
  ASSERT_TRUE(cfg) << lines();
  const auto& s = settings_of(cfg->sources.at(0));
  EXPECT_EQ(s.host, "10.0.0.20");
  EXPECT_EQ(s.port, 161);
  EXPECT_EQ(s.credentials.version, Version::v2c);
  EXPECT_EQ(s.credentials.community, "public");
  EXPECT_EQ(s.request_timeout, std::chrono::milliseconds{1000});
  EXPECT_EQ(s.max_varbinds, 20u);
  ASSERT_EQ(s.points.size(), 1u);
  EXPECT_EQ(format_oid(s.points[0].oid), "1.3.6.1.4.1.318.1.1.26.4.3.1.5.1");
  EXPECT_TRUE(holds_secrets(*cfg)) << "the community is in memory: the daemon makes itself non-dumpable";
}

TEST_F(SnmpConfigTest, V3LevelFollowsTheKeysGiven) {
  const auto cfg = parse("  - name: pdu\n    type: snmp\n    interval: 5s\n    host: \"[fd00::20]:1161\"\n"
                         "    version: 3\n    user: ops\n    context: c1\n"
                         "    auth: {protocol: SHA-256, passphrase_file: " + secret("a", "auth-secret-1") + "}\n"
                         "    priv: {protocol: AES-256, passphrase_file: " + secret("p", "priv-secret-1") + "}\n"
                         "    points: [{name: p, quantity: power, oid: 1.3.6.1.2.1.1.3.0}]\n");
  ASSERT_TRUE(cfg) << lines();
  const auto& s = settings_of(cfg->sources.at(0));
  EXPECT_EQ(s.host, "fd00::20");
  EXPECT_EQ(s.port, 1161);
  EXPECT_EQ(s.endpoint(), "[fd00::20]:1161");
  const auto& c = s.credentials;
  EXPECT_EQ(c.version, Version::v3);
  EXPECT_EQ(c.level, SecurityLevel::auth_priv);
  EXPECT_EQ(c.auth, AuthProtocol::sha256);
  EXPECT_EQ(c.priv, PrivProtocol::aes256);
  EXPECT_EQ(c.auth_passphrase, "auth-secret-1");
  EXPECT_EQ(c.priv_passphrase, "priv-secret-1");
  EXPECT_EQ(c.context, "c1");
}

// One device's v3 user has one set of keys in net-snmp: two sources that
// give it two are warned of (check-config, and the daemon's log).
TEST_F(SnmpConfigTest, TwoSourcesGivingOneUserOfOneDeviceDifferentKeysAreWarnedOf) {
  const std::string auth = secret("a", "auth-secret-1");
  const std::string other = secret("b", "auth-secret-2");
  auto v3 = [&](const std::string& name, const std::string& host, const std::string& file) {
    return "  - name: " + name + "\n    type: snmp\n    interval: 5s\n    host: " + host +
           "\n    version: 3\n    user: ops\n    auth: {protocol: SHA, passphrase_file: " + file +
           "}\n    points: [{name: p, quantity: power, oid: 1.3.6.1.2.1.1.3.0}]\n";
  };
  const auto cfg = parse(v3("a", "10.0.0.1", auth) + v3("b", "10.0.0.1", other) + v3("c", "10.0.0.1", auth) +
                         v3("d", "10.0.0.2", other));
  ASSERT_TRUE(cfg) << lines();
  const auto advice = source_advice(*cfg, builtin_source_types());
  ASSERT_EQ(advice.size(), 2u) << "a-b and b-c; a-c agree, d is another device";
  EXPECT_THAT(advice[0], HasSubstr("snmp sources 'a' and 'b' ask 10.0.0.1:161 as user 'ops' with different keys"));
  EXPECT_THAT(advice[1], HasSubstr("snmp sources 'b' and 'c'"));
}

TEST_F(SnmpConfigTest, MistakesAreReportedAtTheirLines) {
  const std::string open_file = secret("open", "public", 0644);
  const std::string short_file = secret("short", "short");
  EXPECT_FALSE(parse("  - name: a\n"                                     // 4
                     "    type: snmp\n"                                  // 5
                     "    interval: 5s\n"                                // 6
                     "    host: \"h:0\"\n"                               // 7
                     "    community_file: " + open_file + "\n"           // 8
                     "    user: ops\n"                                   // 9
                     "    max_varbinds: 0\n"                             // 10
                     "    points: [{name: p, quantity: power, oid: 1.3.x}]\n"  // 11
                     "  - name: b\n"                                     // 12
                     "    type: snmp\n"                                  // 13
                     "    interval: 5s\n"                                // 14
                     "    host: h\n"                                     // 15
                     "    version: 3\n"                                  // 16
                     "    user: ops\n"                                   // 17
                     "    security: authPriv\n"                          // 18
                     "    auth: {protocol: SHA-3, passphrase_file: " + short_file + "}\n"  // 19
                     "    request_timeout: 9s\n"                         // 20
                     "    points: [{name: p, quantity: power}]\n"        // 21
                     "  - name: c\n"                                     // 22
                     "    type: snmp\n"                                  // 23
                     "    interval: 5s\n"                                // 24
                     "    host: h\n"                                     // 25
                     "    version: 1\n"                                  // 26
                     "    points: [{name: p, quantity: power, oid: 1.3.6}]\n"));  // 27
  const auto text = lines();
  EXPECT_THAT(text, HasSubstr("test.yaml:7:11: 'host' must be HOST, HOST:PORT or [IPv6]:PORT, found 'h:0'"));
  EXPECT_THAT(text, HasSubstr("test.yaml:8:21: community_file '" + open_file + "': "));
  EXPECT_THAT(text, HasSubstr("test.yaml:9:11: 'user' is for SNMPv3 ('version: 3')"));
  EXPECT_THAT(text, HasSubstr("test.yaml:10:19: 'max_varbinds' must be 1..100"));
  EXPECT_THAT(text, HasSubstr("test.yaml:11:46: 'oid' must be a numeric OID"));
  EXPECT_THAT(text, HasSubstr("test.yaml:18:15: 'security: authPriv' does not match the keys given (authNoPriv)"));
  EXPECT_THAT(text, HasSubstr("test.yaml:19:22: auth 'protocol' must be MD5, SHA, SHA-224, SHA-256, SHA-384 or SHA-512, found 'SHA-3'"));
  EXPECT_THAT(text, HasSubstr("is shorter than 8 characters"));
  EXPECT_THAT(text, HasSubstr("test.yaml:20:22: 'request_timeout' must be at least 10ms and at most the source's timeout (5000ms)"));
  EXPECT_THAT(text, HasSubstr("test.yaml:21:14: missing required key 'oid'"));
  EXPECT_THAT(text, HasSubstr("test.yaml:26:14: 'version' must be 2c or 3, found '1'"));
}

}  // namespace
}  // namespace rackwatch::snmp
