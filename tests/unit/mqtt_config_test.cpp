// The mqtt section's secrets and TLS: a password only from a file that
// other users cannot read, TLS files read and checked, verification on by
// default, and each mistake named with its file and mode.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/config.hpp"
#include "core/mqtt_config.hpp"
#include "sources/builtin/builtin_types.hpp"

namespace rackwatch {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

class MqttConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("rw-mqtt-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string file(const std::string& name, const std::string& content, mode_t mode) {
    const auto path = dir_ / name;
    std::ofstream(path) << content;
    ::chmod(path.c_str(), mode);
    return path.string();
  }

  std::optional<Config> parse(const std::string& mqtt) {
    const std::string text = "agent: {site: hall-a, rack: r07}\nmqtt:\n" + mqtt + R"(sources:
  - name: pdu
    type: sim
    interval: 1s
    points: [{name: total, signal: pdu.total.power}]
)";
    diags_ = Diagnostics{};
    return parse_config(text, "m.yaml", builtin_source_types(), diags_);
  }
  std::vector<std::string> lines() const {
    std::vector<std::string> out;
    for (const auto& i : diags_.items()) out.push_back(format_mark(i.mark) + ": " + i.message);
    return out;
  }

  fs::path dir_;
  Diagnostics diags_;
};

TEST_F(MqttConfigTest, AnInlinePasswordIsRefused) {
  EXPECT_FALSE(parse("  brokers: [tcp://127.0.0.1:1883]\n  username: agent\n  password: hunter2\n"));
  EXPECT_THAT(lines(), Contains(HasSubstr("m.yaml:5:13: 'password' must not be written in the config")));
  for (const auto& l : lines()) EXPECT_THAT(l, Not(HasSubstr("hunter2")));
}

TEST_F(MqttConfigTest, APasswordFileOthersCanReadIsRefusedWithItsMode) {
  const auto open = file("pw", "s3cret\n", 0644);
  EXPECT_FALSE(parse("  brokers: [tcp://127.0.0.1:1883]\n  password_file: " + open + "\n"));
  EXPECT_THAT(lines(), Contains(HasSubstr("password file '" + open + "': readable by other users (mode 0644)")));
  const auto group = file("pw-group", "s3cret\n", 0640);
  auto cfg = parse("  brokers: [tcp://127.0.0.1:1883]\n  password_file: " + group + "\n");
  ASSERT_TRUE(cfg) << ::testing::PrintToString(lines());
  EXPECT_EQ(cfg->mqtt.password, "s3cret");
  EXPECT_EQ(private_file_problem(group), "");
  EXPECT_THAT(private_file_problem(file("pw-world-writable", "x", 0602)), HasSubstr("writable by other users (mode 0602)"));
  EXPECT_THAT(private_file_problem(file("pw-world-both", "x", 0606)),
              HasSubstr("readable and writable by other users (mode 0606)"));
}

TEST_F(MqttConfigTest, ProtocolIs311Or5) {
  auto cfg = parse("  brokers: [tcp://127.0.0.1:1883]\n");
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->mqtt.protocol, MqttProtocol::v3_1_1);
  cfg = parse("  brokers: [tcp://127.0.0.1:1883]\n  protocol: \"5\"\n");
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->mqtt.protocol, MqttProtocol::v5);
  EXPECT_FALSE(parse("  brokers: [tcp://127.0.0.1:1883]\n  protocol: \"3.1\"\n"));
  EXPECT_THAT(lines(), Contains(HasSubstr("m.yaml:4:13: 'protocol' must be \"3.1.1\" or \"5\", found '3.1'")));
}

// A broker URI without a port gets the MQTT port of its scheme, and the
// config keeps it explicit so that logs and status say what was tried.
TEST(BrokerUriTest, ThePortDefaultsByTheSchemeAndIsMadeExplicit) {
  struct Row {
    const char* uri;
    const char* effective;
    const char* host;
    const char* port;
    bool defaulted;
  };
  for (const auto& row : std::vector<Row>{
           {"tcp://broker.example", "tcp://broker.example:1883", "broker.example", "1883", true},
           {"mqtt://10.0.0.5", "mqtt://10.0.0.5:1883", "10.0.0.5", "1883", true},
           {"ssl://broker.example", "ssl://broker.example:8883", "broker.example", "8883", true},
           {"mqtts://broker.example", "mqtts://broker.example:8883", "broker.example", "8883", true},
           {"tcp://127.0.0.1:21884", "tcp://127.0.0.1:21884", "127.0.0.1", "21884", false},
           {"ssl://[fd00::7]", "ssl://[fd00::7]:8883", "fd00::7", "8883", true},
           {"tcp://[::1]:1884", "tcp://[::1]:1884", "::1", "1884", false},
       }) {
    const auto b = parse_broker_uri(row.uri);
    EXPECT_EQ(b.error, "") << row.uri;
    EXPECT_EQ(b.uri, row.effective) << row.uri;
    EXPECT_EQ(b.address.host, row.host) << row.uri;
    EXPECT_EQ(b.address.port, row.port) << row.uri;
    EXPECT_EQ(b.port_defaulted, row.defaulted) << row.uri;
  }
}

TEST(BrokerUriTest, WhatIsNotABrokerUriIsNamed) {
  for (const auto& [uri, error] : std::vector<std::pair<const char*, const char*>>{
           {"broker.example:1883", "must start with tcp://, mqtt:// (plain) or ssl://, mqtts:// (TLS)"},
           {"http://broker.example", "must start with tcp://"},
           {"tcp://", "expected scheme://HOST[:PORT], with no path"},
           {"tcp://broker.example:1883/rack", "port '1883/rack' is not a number from 1 to 65535"},
           {"tcp://broker.example/rack", "expected scheme://HOST[:PORT], with no path"},
           {"tcp://broker.example:0", "port '0' is not a number from 1 to 65535"},
           {"tcp://broker.example:65536", "port '65536' is not a number from 1 to 65535"},
           {"tcp://broker.example:mqtt", "port 'mqtt' is not a number"},
           {"tcp://[::1", "an IPv6 address needs its closing ']'"},
           {"tcp://[::1]x", "expected ':PORT' or nothing after the host, found 'x'"},
       }) {
    EXPECT_THAT(parse_broker_uri(uri).error, HasSubstr(error)) << uri;
    EXPECT_THAT(parse_broker_uri(uri).error, HasSubstr(uri)) << "names the URI";
  }
}

TEST_F(MqttConfigTest, BrokersAreKeptWithTheirEffectivePort) {
  auto cfg = parse("  brokers: [tcp://broker-a.example, 'ssl://broker-b.example', tcp://10.1.1.1:1884]\n");
  ASSERT_TRUE(cfg) << ::testing::PrintToString(lines());
  EXPECT_EQ(cfg->mqtt.brokers, (std::vector<std::string>{"tcp://broker-a.example:1883",
                                                         "ssl://broker-b.example:8883", "tcp://10.1.1.1:1884"}));
  EXPECT_FALSE(parse("  brokers: [tcp://broker-a.example:99999]\n"));
  EXPECT_THAT(lines(), Contains(HasSubstr("m.yaml:3:13: broker 'tcp://broker-a.example:99999': port '99999'")));
}

TEST_F(MqttConfigTest, TlsBrokersGetTheSystemCaAndVerificationByDefault) {
  auto cfg = parse("  brokers: [mqtts://broker.example:8883]\n");
  ASSERT_TRUE(cfg) << ::testing::PrintToString(lines());
  ASSERT_TRUE(cfg->mqtt.tls);
  EXPECT_EQ(cfg->mqtt.tls->ca_file, kSystemCaBundle);
  EXPECT_TRUE(cfg->mqtt.tls->verify);
  EXPECT_EQ(cfg->mqtt.tls->min_version, TlsVersion::v1_2);
  EXPECT_TRUE(cfg->mqtt.tls->cert_file.empty());
  // Plain brokers: no TLS settings at all.
  cfg = parse("  brokers: [tcp://127.0.0.1:1883]\n");
  ASSERT_TRUE(cfg);
  EXPECT_FALSE(cfg->mqtt.tls);
}

TEST_F(MqttConfigTest, MutualTlsFilesAreReadAndTheirContentsTellARotation) {
  const auto ca = file("ca.pem", "CA\n", 0644);
  const auto cert = file("agent.pem", "CERT 1\n", 0644);
  const auto key = file("agent.key", "KEY\n", 0600);
  const auto pass = file("key.pass", "kp\n", 0600);
  const std::string mqtt = "  brokers: [ssl://127.0.0.1:8883]\n  tls:\n    ca_file: " + ca + "\n    cert_file: " + cert +
                           "\n    key_file: " + key + "\n    key_password_file: " + pass + "\n    min_version: \"1.3\"\n";
  auto cfg = parse(mqtt);
  ASSERT_TRUE(cfg) << ::testing::PrintToString(lines());
  const auto first = *cfg->mqtt.tls;
  EXPECT_EQ(first.ca_file, ca);
  EXPECT_EQ(first.cert_file, cert);
  EXPECT_EQ(first.key_file, key);
  EXPECT_EQ(first.key_password, "kp");
  EXPECT_EQ(first.min_version, TlsVersion::v1_3);
  // Same names, a new certificate in the file: the settings differ, so a
  // reload reconnects with it.
  file("agent.pem", "CERT 2\n", 0644);
  cfg = parse(mqtt);
  ASSERT_TRUE(cfg);
  EXPECT_NE(first, *cfg->mqtt.tls);
  EXPECT_NE(first.files_hash, cfg->mqtt.tls->files_hash);
}

TEST_F(MqttConfigTest, TlsMistakesAreNamedWithTheirFileAndPlace) {
  const auto key = file("agent.key", "KEY\n", 0644);
  const auto cert = file("agent.pem", "CERT\n", 0644);
  EXPECT_FALSE(parse("  brokers: [ssl://127.0.0.1:8883]\n  tls:\n    ca_file: " + (dir_ / "missing.pem").string() +
                     "\n    key_file: " + key + "\n    min_version: \"1.1\"\n    verify: maybe\n    ciphers: all\n"));
  EXPECT_THAT(lines(), Contains(HasSubstr("m.yaml:5:14: ca_file '" + (dir_ / "missing.pem").string() +
                                          "': No such file or directory")));
  EXPECT_THAT(lines(), Contains(HasSubstr("m.yaml:6:15: key_file '" + key +
                                          "': readable by other users (mode 0644)")));
  EXPECT_THAT(lines(), Contains(HasSubstr("'cert_file' and 'key_file' go together")));
  EXPECT_THAT(lines(), Contains(HasSubstr("m.yaml:7:18: 'min_version' must be \"1.2\" or \"1.3\", found '1.1'")));
  EXPECT_THAT(lines(), Contains(HasSubstr("m.yaml:8:13: 'verify'")));
  EXPECT_THAT(lines(), Contains(HasSubstr("unknown key 'ciphers' in mqtt tls")));
  // TLS settings without a TLS broker are a mistake too.
  EXPECT_FALSE(parse("  brokers: [tcp://127.0.0.1:1883]\n  tls: {cert_file: " + cert + "}\n"));
  EXPECT_THAT(lines(), Contains(HasSubstr("'tls' is set but no broker is ssl:// or mqtts://")));
  EXPECT_FALSE(parse("  brokers: [http://broker]\n"));
  EXPECT_THAT(lines(), Contains(HasSubstr("must start with tcp://, mqtt:// (plain) or ssl://, mqtts:// (TLS)")));
}

}  // namespace
}  // namespace rackwatch
