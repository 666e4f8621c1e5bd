// mqtt.tls.min_version "1.3" in the running agent: a broker whose TLS
// listener offers only TLS 1.2 is refused, at every attempt, with an error
// that names the broker and the version, and nothing is published to it,
// while the readings wait in the outbox (the same listener and readings are
// fine for a floor of 1.2); a listener that offers TLS 1.3 is connected to
// and published to.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <set>
#include <string>

#include "rackwatch/v1/telemetry.pb.h"
#include "support/mosquitto.hpp"
#include "support/net.hpp"
#include "support/pki.hpp"
#include "support/process.hpp"
#include "support/run.hpp"
#include "support/temp_dir.hpp"
#include "support/test_subscriber.hpp"
#include "support/wait.hpp"

namespace rackwatch::test {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kBase = "rackwatch/v1/hall-m/r04";

class TlsMinimumTest : public ::testing::Test {
 protected:
  // A broker with its plain listener (for the test's subscriber) and one TLS
  // listener. `tls12_only`: Mosquitto 2.0 reads `tls_version` as a minimum,
  // so no config line stops it offering 1.3; its OpenSSL is capped instead.
  void start_broker(bool tls12_only) {
    const auto server = pki_.issue("server", "broker", "IP:127.0.0.1");
    tls_port_ = free_port();
    std::vector<std::string> env;
    if (tls12_only) {
      write_file(dir_ / "openssl.cnf",
                 "openssl_conf = init\n[init]\nssl_conf = ssl\n[ssl]\nsystem_default = tls\n[tls]\n"
                 "MaxProtocol = TLSv1.2\n");
      env.push_back("OPENSSL_CONF=" + (dir_ / "openssl.cnf").string());
    }
    Mosquitto::Options options;
    options.extra_config = "listener " + std::to_string(tls_port_) + " 127.0.0.1\ncafile " + pki_.ca() +
                           "\ncertfile " + server.cert + "\nkeyfile " + server.key + "\ntls_version tlsv1.2\n";
    broker_.emplace(options, env);
    broker_->start();
    ASSERT_TRUE(wait_until([&] { return port_accepts(tls_port_); }, 10s)) << broker_->log();
  }

  std::string tls_uri() const { return "ssl://127.0.0.1:" + std::to_string(tls_port_); }

  // Whether the listener completes a handshake in exactly this TLS version.
  bool handshakes_in(const std::string& version) {
    const auto r = run({"openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(tls_port_),
                        "-" + version, "-CAfile", pki_.ca(), "-verify_return_error"},
                       15s);
    return r.exit_code == 0;
  }

  void write_config(const std::string& min_version) {
    write_file(dir_ / "agent.yaml",
               "agent: {site: hall-m, rack: r04, id: tls-min-agent}\nmqtt:\n  brokers: [" + tls_uri() +
                   "]\n  connect_timeout: 3s\n  reconnect_min: 200ms\n  reconnect_max: 1s\n  tls:\n    ca_file: " +
                   pki_.ca() + "\n    min_version: \"" + min_version + "\"\noutbox: {dir: " +
                   (dir_ / "outbox").string() + "}\ndiag: {socket: " + (dir_ / "diag.sock").string() +
                   "}\nsources:\n  - name: pdu\n    type: sim\n    interval: 200ms\n    points: [{name: power, "
                   "signal: pdu.total.power}]\n");
  }

  void start_agent() {
    agent_.emplace(std::vector<std::string>{bin("rackwatchd"), "--config", (dir_ / "agent.yaml").string()},
                   dir_.path());
  }

  std::vector<std::uint64_t> sequences() const {
    std::vector<std::uint64_t> out;
    for (const auto& t : decoded<v1::Telemetry>(*sub_, kBase + "/telemetry")) out.push_back(t.sequence());
    return out;
  }

  static std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
    return n;
  }

  TempDir dir_{"rackwatch-tls-min"};
  Pki pki_{dir_ / "pki"};
  std::uint16_t tls_port_ = 0;
  std::optional<Mosquitto> broker_;
  std::optional<TestSubscriber> sub_;
  std::optional<Process> agent_;
};

TEST_F(TlsMinimumTest, ABrokerOfferingOnlyTls12IsRefusedNamingItAndTheVersionAndGetsNothing) {
  ASSERT_NO_FATAL_FAILURE(start_broker(true));
  ASSERT_FALSE(handshakes_in("tls1_3")) << "the listener must not offer TLS 1.3";
  ASSERT_TRUE(handshakes_in("tls1_2")) << broker_->log();
  write_config("1.3");
  sub_.emplace(broker_->uri(), kBase + "/#");
  start_agent();

  const std::string error = "connect to " + tls_uri() + " failed: the broker does not offer TLS 1.3 or later";
  // Three attempts, each refused the same way: time enough for anything it
  // would publish to have arrived.
  ASSERT_TRUE(wait_until([&] { return count(agent_->log(), error) >= 3; }, 20s)) << agent_->log();
  const auto socket = (dir_ / "diag.sock").string();
  const auto status = rackwatch_verb(socket, {"status"});
  EXPECT_THAT(status.out, HasSubstr("NOT connected"));
  EXPECT_THAT(status.out, HasSubstr(error));
  EXPECT_THAT(status.out, Not(HasSubstr("outbox    0 waiting"))) << "the readings are kept";
  EXPECT_THAT(agent_->log(), Not(HasSubstr("connected to " + tls_uri())));
  // Not even an MQTT connect reached the broker: nothing of the agent's, no
  // birth, no will.
  EXPECT_THAT(broker_->log(), Not(HasSubstr("rackwatch-tls-min-agent")));
  EXPECT_TRUE(sub_->messages().empty());

  // The floor alone refused it: at 1.2 the same listener takes the readings
  // kept meanwhile, from the first on.
  write_config("1.2");
  const auto reload = rackwatch_verb(socket, {"reload"});
  ASSERT_EQ(reload.exit_code, 0) << reload.out << reload.err;
  ASSERT_TRUE(wait_until([&] { return sequences().size() >= 10; }, 20s)) << agent_->log();
  const auto seen = sequences();
  const std::set<std::uint64_t> unique(seen.begin(), seen.end());
  EXPECT_EQ(*unique.begin(), 1u);
  EXPECT_EQ(unique.size(), *unique.rbegin()) << "a reading is missing";
}

TEST_F(TlsMinimumTest, ABrokerOfferingTls13IsConnectedToAndPublishedTo) {
  ASSERT_NO_FATAL_FAILURE(start_broker(false));
  ASSERT_TRUE(handshakes_in("tls1_3")) << broker_->log();
  write_config("1.3");
  sub_.emplace(broker_->uri(), kBase + "/#");
  start_agent();

  ASSERT_TRUE(wait_until([&] { return sequences().size() >= 5; }, 20s)) << agent_->log();
  EXPECT_EQ(sequences().front(), 1u);
  EXPECT_THAT(agent_->log(), HasSubstr("connected to " + tls_uri() + " over TLS"));
  EXPECT_THAT(agent_->log(), Not(HasSubstr("does not offer TLS")));
  const auto births = decoded<v1::AgentStatus>(*sub_, kBase + "/status");
  ASSERT_FALSE(births.empty());
  EXPECT_EQ(births.front().state(), v1::AgentStatus::STATE_ONLINE);
  EXPECT_EQ(births.front().agent_id(), "tls-min-agent");
}

}  // namespace
}  // namespace rackwatch::test
