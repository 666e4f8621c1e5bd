// `rackwatch tail` against real brokers that want credentials: with the
// agent's own config it reaches a TLS broker requiring client certificates
// (the key locked by a passphrase) and shows that agent's messages; with a
// password file it passes a broker requiring a password; and when it is
// turned away it says why and what to give.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <boost/json.hpp>
#include <sstream>

#include "support/mosquitto.hpp"
#include "support/net.hpp"
#include "support/pki.hpp"
#include "support/process.hpp"
#include "support/run.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace rackwatch::test {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

std::vector<boost::json::object> json_lines(const std::string& out) {
  std::vector<boost::json::object> lines;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) lines.push_back(boost::json::parse(line).as_object());
  return lines;
}

std::string sources() {
  return "sources:\n  - name: pdu\n    type: sim\n    interval: 200ms\n    points: [{name: total, signal: "
         "pdu.total.power}, {name: energy, signal: pdu.energy}]\n";
}

void write_secret(const std::filesystem::path& path, const std::string& text) {
  write_file(path, text);
  ::chmod(path.c_str(), 0600);
}

// A broker whose TLS listener takes only clients with a certificate of the
// test's CA, known by the certificate's CN; an agent on it, its key locked
// by a passphrase.
class TailTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto server = pki_.issue("server", "broker", "IP:127.0.0.1");
    agent_cert_ = pki_.issue("agent", "hall-t.r09", "", 30, false);
    // The agent's key, encrypted: the config names its passphrase file.
    write_secret(dir_ / "key-password", "correct horse\n");
    const auto locked = pki_.path("agent-locked.key");
    const auto r = run({"openssl", "pkey", "-in", agent_cert_.key, "-out", locked, "-aes256", "-passout",
                        "pass:correct horse"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ::chmod(locked.c_str(), 0600);
    tls_port_ = free_port();
    Mosquitto::Options options;
    options.extra_config = "listener " + std::to_string(tls_port_) + " 127.0.0.1\ncafile " + pki_.ca() +
                           "\ncertfile " + server.cert + "\nkeyfile " + server.key +
                           "\nrequire_certificate true\nuse_identity_as_username true\n";
    broker_.emplace(options);
    broker_->start();
    ASSERT_TRUE(wait_until([&] { return port_accepts(tls_port_); }, 10s)) << broker_->log();
    write_file(dir_ / "agent.yaml",
               "agent: {site: hall-t, rack: r09, id: tail-agent}\nmqtt:\n  brokers: [" + tls_uri() +
                   "]\n  reconnect_min: 200ms\n  tls:\n    ca_file: " + pki_.ca() + "\n    cert_file: " +
                   agent_cert_.cert + "\n    key_file: " + locked + "\n    key_password_file: " +
                   (dir_ / "key-password").string() + "\noutbox: {dir: " + (dir_ / "outbox").string() +
                   "}\ndiag: {socket: " + (dir_ / "diag.sock").string() + "}\n" + sources());
    agent_.emplace(std::vector<std::string>{bin("rackwatchd"), "--config", (dir_ / "agent.yaml").string()},
                   dir_.path());
    ASSERT_TRUE(wait_until([&] { return agent_->log().find("connected to " + tls_uri()) != std::string::npos; }, 20s))
        << agent_->log() << broker_->log();
  }

  std::string tls_uri() const { return "ssl://127.0.0.1:" + std::to_string(tls_port_); }

  TempDir dir_{"rackwatch-tail-tls"};
  Pki pki_{dir_ / "pki"};
  Pki::Leaf agent_cert_;
  std::uint16_t tls_port_ = 0;
  std::optional<Mosquitto> broker_;
  std::optional<Process> agent_;
};

TEST_F(TailTlsTest, TheAgentsConfigReachesItsBrokerAndRack) {
  // Five retained (status, catalog twice, alarms, snapshot), then telemetry.
  auto r = run({bin("rackwatch"), "tail", "--config", (dir_ / "agent.yaml").string(), "--count", "8", "--timeout",
                "20s", "--json"},
               30s);
  ASSERT_EQ(r.exit_code, 0) << r.err << broker_->log();
  const auto lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 8u) << r.out;
  // The rack's retained state first, then its telemetry, named from the catalog.
  EXPECT_EQ(lines[0].at("type").as_string(), "status");
  EXPECT_EQ(lines[0].at("state").as_string(), "online");
  EXPECT_EQ(lines[0].at("agent_id").as_string(), "tail-agent");
  bool telemetry = false;
  for (const auto& l : lines) {
    EXPECT_EQ(l.at("site").as_string(), "hall-t");
    EXPECT_EQ(l.at("rack").as_string(), "r09");
    if (l.at("type").as_string() != "telemetry") continue;
    telemetry = true;
    EXPECT_TRUE(l.at("catalog_known").as_bool());
    EXPECT_EQ(l.at("samples").at(0).at("point").as_string(), "pdu.total");
  }
  EXPECT_TRUE(telemetry) << r.out;
  // Over the TLS listener, with the agent's certificate as its identity.
  EXPECT_THAT(broker_->log(), ::testing::ContainsRegex("as rackwatch-tail-[0-9]+ .*u'hall-t.r09'"));

  // The text form: prefixed units for people.
  auto text = run({bin("rackwatch"), "tail", "--config", (dir_ / "agent.yaml").string(), "--count", "8",
                   "--timeout", "20s"},
                  30s);
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(text.out, ::testing::ContainsRegex("pdu\\.total +[0-9.]+ +kW"));
  EXPECT_THAT(text.out, ::testing::ContainsRegex("pdu\\.energy +[0-9.]+ +MWh"));
}

TEST_F(TailTlsTest, WithoutAClientCertificateItSaysWhatTheBrokerWants) {
  auto r = run({bin("rackwatch"), "tail", "--broker", tls_uri(), "--ca-file", pki_.ca(), "--count", "1"}, 30s);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("cannot connect to " + tls_uri() + ": the broker requires a client certificate"));
  EXPECT_THAT(r.err, HasSubstr("--cert-file and --key-file"));

  // The config's certificate, but a CA that did not sign the broker's.
  r = run({bin("rackwatch"), "tail", "--config", (dir_ / "agent.yaml").string(), "--ca-file", pki_.ca("other-ca"),
           "--count", "1"},
          30s);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("the broker's certificate is not signed by a CA in"));
}

// A broker that takes only users with a password: the agent has one in its
// password_file, the operator one of their own in a file.
class TailPasswordTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto passwords = (dir_ / "passwords").string();
    write_secret(passwords, "");  // mosquitto_passwd -b adds to a file that exists
    for (const auto& [user, password] : {std::pair{"r05-agent", "agent-secret"}, std::pair{"operator", "op-secret"}}) {
      const auto r = run({"mosquitto_passwd", "-b", passwords, user, password});
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    Mosquitto::Options options;
    options.extra_config = "allow_anonymous false\npassword_file " + passwords + "\n";
    broker_.emplace(options);
    broker_->start();
    write_secret(dir_ / "agent-password", "agent-secret\n");
    write_secret(dir_ / "operator-password", "op-secret\n");
    write_file(dir_ / "agent.yaml",
               "agent: {site: hall-p, rack: r05, id: pw-agent}\nmqtt:\n  brokers: [" + broker_->uri() +
                   "]\n  reconnect_min: 200ms\n  username: r05-agent\n  password_file: " +
                   (dir_ / "agent-password").string() + "\noutbox: {dir: " + (dir_ / "outbox").string() +
                   "}\ndiag: {socket: " + (dir_ / "diag.sock").string() + "}\n" + sources());
    agent_.emplace(std::vector<std::string>{bin("rackwatchd"), "--config", (dir_ / "agent.yaml").string()},
                   dir_.path());
    ASSERT_TRUE(wait_until([&] { return agent_->log().find("connected to " + broker_->uri()) != std::string::npos; },
                           20s))
        << agent_->log() << broker_->log();
  }

  TempDir dir_{"rackwatch-tail-pw"};
  std::optional<Mosquitto> broker_;
  std::optional<Process> agent_;
};

TEST_F(TailPasswordTest, APasswordFileLetsTheOperatorIn) {
  auto r = run({bin("rackwatch"), "tail", "--broker", broker_->uri(), "--username", "operator", "--password-file",
                (dir_ / "operator-password").string(), "--count", "4", "--timeout", "20s", "--json"},
               30s);
  ASSERT_EQ(r.exit_code, 0) << r.err << broker_->log();
  const auto lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 4u) << r.out;
  EXPECT_EQ(lines[0].at("type").as_string(), "status");
  EXPECT_EQ(lines[0].at("rack").as_string(), "r05");
  EXPECT_THAT(broker_->log(), ::testing::ContainsRegex("as rackwatch-tail-[0-9]+ .*u'operator'"));
  // The password stays out of what the command shows.
  EXPECT_THAT(r.out + r.err, ::testing::Not(HasSubstr("op-secret")));

  // The agent's own config brings its user and password.
  r = run({bin("rackwatch"), "tail", "--config", (dir_ / "agent.yaml").string(), "--count", "2", "--timeout", "20s"},
          30s);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("status online"));
}

TEST_F(TailPasswordTest, AWrongOrMissingPasswordSaysWhatToGive) {
  write_secret(dir_ / "wrong-password", "guess\n");
  for (const auto& extra : {std::vector<std::string>{"--username", "operator", "--password-file",
                                                     (dir_ / "wrong-password").string()},
                            std::vector<std::string>{}}) {
    std::vector<std::string> argv{bin("rackwatch"), "tail", "--broker", broker_->uri(), "--count", "1"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto r = run(argv, 30s);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_THAT(r.err, HasSubstr("cannot connect to " + broker_->uri()));
    EXPECT_THAT(r.err, HasSubstr("the broker refused the connection: not authorized"));
    EXPECT_THAT(r.err, HasSubstr("give the user name and password with --username and --password-file"));
  }
}

}  // namespace
}  // namespace rackwatch::test
