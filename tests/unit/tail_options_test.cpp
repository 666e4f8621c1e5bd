// What `rackwatch tail` connects to: the agent's mqtt section taken from its
// config (brokers, its rack's topics, TLS files, user and password), the
// command line over it, and every mistake named with the option or file at
// fault and what to do.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>

#include "core/mqtt_config.hpp"
#include "diag/tail_options.hpp"
#include "sources/builtin/builtin_types.hpp"
#include "support/temp_dir.hpp"

namespace rackwatch::cli {
namespace {

using ::testing::HasSubstr;

class TailOptionsTest : public ::testing::Test {
 protected:
  std::string file(const std::string& name, const std::string& content, mode_t mode = 0600) {
    const auto path = dir_ / name;
    std::ofstream(path) << content;
    ::chmod(path.c_str(), mode);
    return path.string();
  }
  // An agent's config with mutual TLS, a user and secrets in files.
  std::string agent_config() {
    return file("agent.yaml", "agent: {site: hall-a, rack: r07}\nmqtt:\n  brokers: [ssl://10.0.0.5:8883, "
                              "ssl://10.0.0.6:8883]\n  prefix: dc1/rw\n  username: r07\n  password_file: " +
                                  file("pw", "s3cret\nignored\n") + "\n  connect_timeout: 4s\n  tls:\n    ca_file: " +
                                  file("ca.pem", "CA", 0644) + "\n    cert_file: " + file("agent.pem", "CERT", 0644) +
                                  "\n    key_file: " + file("agent.key", "KEY") +
                                  "\n    key_password_file: " + file("key-pw", "unlock\n") +
                                  "\nsources:\n  - name: pdu\n    type: sim\n    interval: 1s\n    points: "
                                  "[{name: total, signal: pdu.total.power}]\n");
  }
  std::optional<TailOptions> parse(const Args& args) {
    error_.clear();
    return parse_tail_options(args, builtin_source_types(), error_);
  }

  test::TempDir dir_{"rackwatch-tail-options"};
  std::string error_;
};

TEST_F(TailOptionsTest, TheConfigGivesBrokersRackTopicsTlsAndSecrets) {
  const auto o = parse({"--config", agent_config(), "--count", "3"});
  ASSERT_TRUE(o) << error_;
  EXPECT_EQ(o->brokers, (std::vector<std::string>{"ssl://10.0.0.5:8883", "ssl://10.0.0.6:8883"}));
  EXPECT_EQ(o->prefix, "dc1/rw");
  EXPECT_EQ(o->filters, (std::vector<std::string>{"dc1/rw/hall-a/r07/#"}));
  EXPECT_EQ(o->username, "r07");
  EXPECT_EQ(o->password, "s3cret");
  EXPECT_EQ(o->connect_timeout, std::chrono::milliseconds(4'000));
  EXPECT_EQ(o->count, 3);
  ASSERT_TRUE(o->tls);
  EXPECT_EQ(o->tls->ca_file, (dir_ / "ca.pem").string());
  EXPECT_EQ(o->tls->cert_file, (dir_ / "agent.pem").string());
  EXPECT_EQ(o->tls->key_file, (dir_ / "agent.key").string());
  EXPECT_EQ(o->tls->key_password, "unlock");
  EXPECT_TRUE(o->tls->verify);
}

TEST_F(TailOptionsTest, TheCommandLineWinsOverTheConfig) {
  const auto config = agent_config();
  const auto o = parse({"--config", config, "--broker", "mqtts://127.0.0.1:18883", "--prefix", "lab", "--username",
                        "operator", "--password-file", file("op-pw", "other\n", 0640), "--ca-file",
                        file("lab-ca.pem", "LAB", 0644)});
  ASSERT_TRUE(o) << error_;
  EXPECT_EQ(o->brokers, (std::vector<std::string>{"mqtts://127.0.0.1:18883"}));
  EXPECT_EQ(o->filters, (std::vector<std::string>{"lab/hall-a/r07/#"}));  // the config's rack under the prefix given
  EXPECT_EQ(o->username, "operator");
  EXPECT_EQ(o->password, "other");
  EXPECT_EQ(o->tls->ca_file, (dir_ / "lab-ca.pem").string());
  EXPECT_EQ(o->tls->cert_file, (dir_ / "agent.pem").string());  // not overridden: kept

  const auto topic = parse({"--config", config, "--topic", "dc1/rw/+/+/alarm"});
  ASSERT_TRUE(topic) << error_;
  EXPECT_EQ(topic->filters, (std::vector<std::string>{"dc1/rw/+/+/alarm"}));
  // A plain broker given over a TLS config leaves TLS out.
  const auto plain = parse({"--config", config, "--broker", "tcp://127.0.0.1:1883"});
  ASSERT_TRUE(plain) << error_;
  EXPECT_FALSE(plain->tls);
}

TEST_F(TailOptionsTest, WithoutAConfigTheWholePrefixAndTheSystemsCas) {
  const auto plain = parse({"--broker", "tcp://127.0.0.1:1883", "--json"});
  ASSERT_TRUE(plain) << error_;
  EXPECT_EQ(plain->filters, (std::vector<std::string>{"rackwatch/v1/#"}));
  EXPECT_FALSE(plain->tls);
  EXPECT_TRUE(plain->json);
  EXPECT_EQ(plain->count, -1);

  const auto tls = parse({"--broker", "ssl://127.0.0.1:8883", "--cert-file", file("c.pem", "C", 0644), "--key-file",
                          file("c.key", "K"), "--key-password-file", file("c.pw", "pass\n")});
  ASSERT_TRUE(tls) << error_;
  ASSERT_TRUE(tls->tls);
  EXPECT_EQ(tls->tls->ca_file, kSystemCaBundle);
  EXPECT_EQ(tls->tls->key_password, "pass");

  const auto password = parse({"--broker", "tcp://b:1883", "--username", "u", "--password", "on-the-line"});
  ASSERT_TRUE(password) << error_;
  EXPECT_EQ(password->password, "on-the-line");
}

TEST_F(TailOptionsTest, MistakesNameTheOptionOrFileAndWhatToDo) {
  const auto ca = file("ca.pem", "CA", 0644);
  const auto cert = file("c.pem", "C", 0644);
  const auto open_key = file("open.key", "K", 0644);
  const auto open_pw = file("open-pw", "x\n", 0644);
  const auto pw = file("pw", "x\n");
  const auto missing = (dir_ / "missing").string();
  const struct {
    Args args;
    std::string error;
  } cases[] = {
      {{}, "which broker? give --broker URI, or --config FILE to use the agent's"},
      {{"--broker", "tcp://b:1883", "--ca-file", ca},
       "--ca-file is for TLS brokers, and tcp://b:1883 is plain: name the broker's TLS port as ssl://HOST:PORT"},
      {{"--broker", "ssl://b", "--cert-file", cert},
       "--cert-file needs --key-file: the client certificate and its private key go together"},
      {{"--broker", "ssl://b", "--key-password-file", pw}, "--key-password-file needs --key-file"},
      {{"--broker", "ssl://b", "--ca-file", missing},
       "--ca-file '" + missing + "': No such file or directory; name the CA certificate (PEM)"},
      {{"--broker", "ssl://b", "--cert-file", cert, "--key-file", open_key},
       "--key-file '" + open_key + "': readable by other users (mode 0644); allow the owner and the service's group "
       "only, e.g. chmod 0640"},
      {{"--broker", "tcp://b", "--username", "u", "--password-file", open_pw},
       "--password-file '" + open_pw + "': readable by other users (mode 0644)"},
      {{"--broker", "tcp://b", "--username", "u", "--password-file", missing},
       "--password-file '" + missing +
           "': No such file or directory; name a file that holds the broker password on its first line"},
      {{"--broker", "tcp://b", "--password-file", pw}, "a password needs a user name: give --username"},
      {{"--broker", "tcp://b", "--username", "u", "--password", "p", "--password-file", pw},
       "give --password-file or --password, not both"},
      {{"--broker", "http://b"}, "broker 'http://b' must start with tcp://, mqtt:// (plain) or ssl://, mqtts://"},
      {{"--broker", "tcp://b", "--count", "0"}, "--count needs a positive number, not '0'"},
      {{"--broker", "tcp://b", "--timeout", "soon"}, "--timeout needs a duration such as 10s, not 'soon'"},
      {{"--broker", "tcp://b", "--hold", "a while"}, "--hold needs a duration such as 2s (0: do not hold)"},
      {{"--broker", "tcp://b", "--catalog-cache", missing}, "--catalog-cache '" + missing + "': not a directory"},
      {{"--broker"}, "--broker needs a value"},
      {{"--frobnicate"}, "unexpected argument '--frobnicate'"},
      {{"--config", missing}, "rackwatch tail: cannot take the broker settings from " + missing +
                                  " (above): fix it (rackwatch check-config " + missing + ")"},
  };
  for (const auto& c : cases) {
    EXPECT_FALSE(parse(c.args)) << ::testing::PrintToString(c.args);
    EXPECT_THAT(error_, HasSubstr(c.error)) << ::testing::PrintToString(c.args);
  }
}

TEST_F(TailOptionsTest, HoldAndCatalogCache) {
  auto o = parse({"--broker", "tcp://b:1883"});
  ASSERT_TRUE(o) << error_;
  EXPECT_EQ(o->hold, std::chrono::seconds(2));
  EXPECT_TRUE(o->catalog_cache.empty());
  o = parse({"--broker", "tcp://b:1883", "--hold", "0", "--catalog-cache", dir_.path().string()});
  ASSERT_TRUE(o) << error_;
  EXPECT_EQ(o->hold.count(), 0);
  EXPECT_EQ(o->catalog_cache, dir_.path().string());
  o = parse({"--broker", "tcp://b:1883", "--hold", "500ms"});
  ASSERT_TRUE(o) << error_;
  EXPECT_EQ(o->hold, std::chrono::milliseconds(500));
}

// A config of format sparkplug: its group's topics and the hosts' STATE;
// --sparkplug picks them with --broker (all groups, or one).
TEST_F(TailOptionsTest, SparkplugTopicsFromTheConfigOrTheCommandLine) {
  const auto sources = "sources:\n  - {name: pdu, type: sim, interval: 1s, points: [{name: t, signal: pdu.total.power}]}\n";
  const auto by_site = file("spb.yaml", std::string("agent: {site: hall-a, rack: r07}\nmqtt: {brokers: [tcp://b:1883], "
                                                    "format: sparkplug}\n") + sources);
  auto o = parse({"--config", by_site});
  ASSERT_TRUE(o) << error_;
  EXPECT_EQ(o->filters, (std::vector<std::string>{"spBv1.0/hall-a/#", "spBv1.0/STATE/#"}));
  const auto by_group = file("spb-group.yaml", std::string("agent: {site: hall-a, rack: r07}\nmqtt: {brokers: "
                                                          "[tcp://b:1883], format: sparkplug, sparkplug: {group_id: "
                                                          "plant-4}}\n") + sources);
  o = parse({"--config", by_group, "--json"});
  ASSERT_TRUE(o) << error_;
  EXPECT_EQ(o->filters, (std::vector<std::string>{"spBv1.0/plant-4/#", "spBv1.0/STATE/#"}));
  EXPECT_TRUE(o->json);  // GROUP is optional: the next option is not taken for it

  o = parse({"--broker", "tcp://b:1883", "--sparkplug"});
  ASSERT_TRUE(o) << error_;
  EXPECT_EQ(o->filters, (std::vector<std::string>{"spBv1.0/+/#", "spBv1.0/STATE/#"}));
  o = parse({"--broker", "tcp://b:1883", "--sparkplug", "plant-9", "--count", "2"});
  ASSERT_TRUE(o) << error_;
  EXPECT_EQ(o->filters, (std::vector<std::string>{"spBv1.0/plant-9/#", "spBv1.0/STATE/#"}));
  EXPECT_EQ(o->count, 2);
  // A native config's group (its site) with --sparkplug alone.
  o = parse({"--config", agent_config(), "--sparkplug"});
  ASSERT_TRUE(o) << error_;
  EXPECT_EQ(o->filters, (std::vector<std::string>{"spBv1.0/hall-a/#", "spBv1.0/STATE/#"}));
  // --topic still wins.
  o = parse({"--config", by_site, "--topic", "spBv1.0/hall-a/DDATA/#"});
  ASSERT_TRUE(o) << error_;
  EXPECT_EQ(o->filters, (std::vector<std::string>{"spBv1.0/hall-a/DDATA/#"}));

  EXPECT_FALSE(parse({"--broker", "tcp://b:1883", "--sparkplug", "a/b"}));
  EXPECT_THAT(error_, HasSubstr("--sparkplug 'a/b': the group holds '/' or '#'"));
  EXPECT_FALSE(parse({"--broker", "tcp://b:1883", "--sparkplug", "a+"}));
  EXPECT_THAT(error_, HasSubstr("give + alone for all groups"));
  EXPECT_FALSE(parse({"--broker", "tcp://b:1883", "--sparkplug", "--prefix", "x"}));
  EXPECT_THAT(error_, HasSubstr("give --prefix (the native topics) or --sparkplug, not both"));
}

TEST_F(TailOptionsTest, HelpNeedsNothingElse) {
  const auto o = parse({"--help"});
  ASSERT_TRUE(o);
  EXPECT_TRUE(o->help);
}

}  // namespace
}  // namespace rackwatch::cli
