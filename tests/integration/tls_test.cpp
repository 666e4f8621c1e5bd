// TLS to the broker with certificates made by openssl for the test: mutual
// TLS connects and delivers; a wrong CA, an expired server certificate, a
// host name mismatch, a missing client certificate and one the broker does
// not trust each fail with their own clear error in the agent's log and in
// `rackwatch status`, while the outbox keeps every reading; once the config
// is fixed and reloaded, everything taken is delivered, from sequence 1.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "rackwatch/v1/telemetry.pb.h"
#include "support/agent_state.hpp"
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

const std::string kBase = "rackwatch/v1/hall-t/r01";

// One broker, four listeners: plain (for the test's subscriber), and three
// TLS ones that require a client certificate from the CA, with a good,
// an expired and another host's server certificate.
class TlsBroker {
 public:
  // `acl`: the text of an ACL file for the broker, none when empty.
  explicit TlsBroker(const std::filesystem::path& dir, const std::string& acl = "") : pki_(dir / "pki") {
    good_ = pki_.issue("server", "broker", "IP:127.0.0.1,DNS:localhost");
    expired_ = pki_.issue("expired", "broker", "IP:127.0.0.1", -1);
    other_host_ = pki_.issue("other-host", "broker", "DNS:broker.example");
    std::string extra;
    for (auto* l : {&good_port_, &expired_port_, &other_port_}) *l = free_port();
    auto listener = [&](std::uint16_t port, const Pki::Leaf& leaf) {
      extra += "listener " + std::to_string(port) + " 127.0.0.1\n" + "cafile " + pki_.ca() + "\n" + "certfile " +
               leaf.cert + "\n" + "keyfile " + leaf.key + "\n" +
               "require_certificate true\nuse_identity_as_username true\n";
    };
    listener(good_port_, good_);
    listener(expired_port_, expired_);
    listener(other_port_, other_host_);
    if (!acl.empty()) {
      write_file(dir / "acl", acl);
      extra += "acl_file " + (dir / "acl").string() + "\n";
    }
    Mosquitto::Options options;
    options.extra_config = extra;
    broker_.emplace(options);
    broker_->start();
    for (auto port : {good_port_, expired_port_, other_port_}) {
      if (!wait_until([&] { return port_accepts(port); }, 10s)) {
        throw std::runtime_error("TLS listener " + std::to_string(port) + " did not open:\n" + broker_->log());
      }
    }
  }

  Pki& pki() { return pki_; }
  std::string plain() const { return broker_->uri(); }
  std::string good() const { return "ssl://127.0.0.1:" + std::to_string(good_port_); }
  std::string expired() const { return "ssl://127.0.0.1:" + std::to_string(expired_port_); }
  std::string other_host() const { return "mqtts://127.0.0.1:" + std::to_string(other_port_); }
  std::string log() const { return broker_->log(); }

 private:
  Pki pki_;
  Pki::Leaf good_, expired_, other_host_;
  std::uint16_t good_port_ = 0, expired_port_ = 0, other_port_ = 0;
  std::optional<Mosquitto> broker_;
};

struct Agent {
  std::string broker;
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  bool verify = true;
  std::string protocol = "3.1.1";
};

std::string config(const std::filesystem::path& dir, const Agent& a, const std::string& rack = "r01",
                   const std::string& id = "tls-agent") {
  std::string tls = "  tls:\n    ca_file: " + a.ca_file + "\n";
  if (!a.cert_file.empty()) tls += "    cert_file: " + a.cert_file + "\n    key_file: " + a.key_file + "\n";
  if (!a.verify) tls += "    verify: false\n";
  return "agent: {site: hall-t, rack: " + rack + ", id: " + id + "}\nmqtt:\n  brokers: [" + a.broker +
         "]\n  connect_timeout: 3s\n  reconnect_min: 200ms\n  reconnect_max: 1s\n  protocol: \"" + a.protocol +
         "\"\n" + tls +
         "outbox: {dir: " + (dir / "outbox").string() + "}\ndiag: {socket: " + (dir / "diag.sock").string() +
         "}\nsources:\n  - name: rack\n    type: sim\n    interval: 200ms\n    points: [{name: power, signal: "
         "pdu.total.power}]\n";
}

std::vector<std::uint64_t> sequences(TestSubscriber& sub) {
  std::vector<std::uint64_t> out;
  for (const auto& t : decoded<v1::Telemetry>(sub, kBase + "/telemetry")) out.push_back(t.sequence());
  return out;
}

TEST(TlsTest, MutualTlsConnectsAndDelivers) {
  TempDir dir("rackwatch-tls");
  TlsBroker broker(dir.path());
  const auto client = broker.pki().issue("agent", "tls-agent", "", 30, false);
  write_file(dir / "agent.yaml", config(dir.path(), {broker.good(), broker.pki().ca(), client.cert, client.key}));
  TestSubscriber sub(broker.plain(), kBase + "/#");
  Process agent({bin("rackwatchd"), "--config", (dir / "agent.yaml").string()}, dir.path());
  ASSERT_TRUE(wait_until([&] { return sequences(sub).size() >= 5; }, 20s)) << agent.log() << broker.log();
  EXPECT_EQ(sequences(sub).front(), 1u);
  EXPECT_THAT(agent.log(), HasSubstr("connected to " + broker.good()));
  // The broker took the certificate's CN as the client's user name.
  EXPECT_THAT(broker.log(), HasSubstr("u'tls-agent'"));
}

// A certificate rotated in place (same file names, new contents) is taken up
// by a reload: the session reconnects with it.
TEST(TlsTest, AReloadTakesUpARotatedCertificate) {
  TempDir dir("rackwatch-tls");
  TlsBroker broker(dir.path());
  const auto client = broker.pki().issue("agent", "tls-agent", "", 30, false);
  write_file(dir / "agent.yaml", config(dir.path(), {broker.good(), broker.pki().ca(), client.cert, client.key}));
  TestSubscriber sub(broker.plain(), kBase + "/#");
  Process agent({bin("rackwatchd"), "--config", (dir / "agent.yaml").string()}, dir.path());
  ASSERT_TRUE(wait_until([&] { return sequences(sub).size() >= 3; }, 20s)) << agent.log();
  const auto socket = (dir / "diag.sock").string();
  // Unchanged files: nothing to do for the session.
  auto same = rackwatch_verb(socket, {"reload", "--json"});
  EXPECT_THAT(same.out, Not(HasSubstr("\"session_restarted\":true"))) << same.out;

  // A new certificate for a new CN, written over the old files.
  broker.pki().issue("agent", "tls-agent-2027", "", 60, false);
  auto rotated = rackwatch_verb(socket, {"reload", "--json"});
  ASSERT_EQ(rotated.exit_code, 0) << rotated.err;
  EXPECT_THAT(rotated.out, HasSubstr("\"session_restarted\":true"));
  ASSERT_TRUE(wait_until([&] { return broker.log().find("u'tls-agent-2027'") != std::string::npos; }, 15s))
      << broker.log();
  const auto before = sequences(sub).size();
  ASSERT_TRUE(wait_until([&] { return sequences(sub).size() >= before + 3; }, 15s)) << agent.log();
}

// The lab opt-out: an unverifiable broker is accepted, and the log says so
// at every connect.
TEST(TlsTest, VerifyOffConnectsAndSaysSoLoudly) {
  TempDir dir("rackwatch-tls");
  TlsBroker broker(dir.path());
  const auto client = broker.pki().issue("agent", "tls-agent", "", 30, false);
  write_file(dir / "agent.yaml",
             config(dir.path(), {broker.other_host(), broker.pki().ca("other-ca"), client.cert, client.key, false}));
  TestSubscriber sub(broker.plain(), kBase + "/#");
  Process agent({bin("rackwatchd"), "--config", (dir / "agent.yaml").string()}, dir.path());
  ASSERT_TRUE(wait_until([&] { return sequences(sub).size() >= 3; }, 20s)) << agent.log();
  EXPECT_THAT(agent.log(), HasSubstr("<4>TLS verification is OFF (mqtt.tls.verify: false)"));
  EXPECT_THAT(agent.log(), HasSubstr("over TLS, NOT VERIFIED"));
}

// The facility's broker-side identity: each agent's certificate names its
// rack (use_identity_as_username), and the ACL lets it write under that
// rack's topics only. An agent with another rack's identity that claims
// this rack (a copied config, an impostor) can neither publish telemetry
// there nor overwrite the rack's retained status.
// Two racks' agents on a broker with per-rack identities and ACL: `a` is
// r01 with r01's certificate, `b` holds r02's certificate.
class TlsAclTest : public ::testing::Test {
 protected:
  TlsAclTest() {
    std::filesystem::create_directories(a_dir);
    std::filesystem::create_directories(b_dir);
  }
  // The agent config of `dir` with `leaf`'s identity, claiming `rack`.
  void configure(const std::filesystem::path& agent_dir, const Pki::Leaf& leaf, const std::string& rack,
                 const std::string& id, const std::string& protocol = "3.1.1") {
    Agent agent{broker.good(), broker.pki().ca(), leaf.cert, leaf.key};
    agent.protocol = protocol;
    write_file(agent_dir / "agent.yaml", config(agent_dir, agent, rack, id));
  }

  TempDir dir{"rackwatch-tls"};
  TlsBroker broker{dir.path(), R"(# Everyone may read the telemetry tree (the test's subscriber among them).
pattern read rackwatch/#
# Each rack's agent, known by its certificate's CN, writes under its rack only.
user hall-t.r01
topic write rackwatch/v1/hall-t/r01/#
user hall-t.r02
topic write rackwatch/v1/hall-t/r02/#
)"};
  Pki::Leaf r01 = broker.pki().issue("r01", "hall-t.r01", "", 30, false);
  Pki::Leaf r02 = broker.pki().issue("r02", "hall-t.r02", "", 30, false);
  std::filesystem::path a_dir = dir / "a";
  std::filesystem::path b_dir = dir / "b";
};

TEST_F(TlsAclTest, AnAgentWritesOnlyUnderItsOwnRack) {
  configure(a_dir, r01, "r01", "agent-r01");
  configure(b_dir, r02, "r01", "impostor");  // r02's identity, configured as r01
  TestSubscriber sub(broker.plain(), "rackwatch/v1/hall-t/#");
  Process a({bin("rackwatchd"), "--config", (a_dir / "agent.yaml").string()}, a_dir);
  ASSERT_TRUE(wait_until([&] { return sequences(sub).size() >= 3; }, 20s)) << a.log() << broker.log();
  Process b({bin("rackwatchd"), "--config", (b_dir / "agent.yaml").string()}, b_dir);
  // The impostor connects (its certificate is good) and publishes its birth
  // and telemetry to r01's topics, which the broker drops: under MQTT 3.1.1
  // it still acknowledges them, after routing them nowhere.
  ASSERT_TRUE(wait_until(
      [&] {
        const auto st = agent_state((b_dir / "diag.sock").string());
        return st && json_int(st->at("outbox").at("acknowledged")) >= 3;
      },
      20s))
      << b.log();
  // Anything the broker had passed on from b would be ahead of a's next two
  // messages: the subscriber has one connection, served in order.
  const auto a_before = sequences(sub).size();
  ASSERT_TRUE(wait_until([&] { return sequences(sub).size() >= a_before + 2; }, 10s)) << a.log();

  const auto telemetry = decoded<v1::Telemetry>(sub, kBase + "/telemetry");
  for (const auto& t : telemetry) EXPECT_EQ(t.agent_id(), "agent-r01");
  EXPECT_GE(telemetry.size(), 3u);
  for (const auto& st : decoded<v1::AgentStatus>(sub, kBase + "/status")) EXPECT_EQ(st.agent_id(), "agent-r01");
  auto retained = TestSubscriber::read_retained(broker.plain(), kBase + "/status", 3s);
  ASSERT_TRUE(retained);
  v1::AgentStatus status;
  ASSERT_TRUE(status.ParseFromString((*retained)->get_payload_str()));
  EXPECT_EQ(status.agent_id(), "agent-r01");
  EXPECT_EQ(status.state(), v1::AgentStatus::STATE_ONLINE);
  // Nor may r01 write under r02.
  EXPECT_FALSE(TestSubscriber::read_retained(broker.plain(), "rackwatch/v1/hall-t/r02/status", 1s));
}

// Under MQTT 5 the broker says no to what the ACL forbids: the impostor
// reports it (log, status) and keeps those readings in its outbox; once its
// config names its own rack, its new readings flow while the refused ones
// stay held. The rightful agent, on MQTT 5 too, delivers as before.
TEST_F(TlsAclTest, UnderMqtt5ARefusalIsReportedAndTheReadingsKept) {
  configure(a_dir, r01, "r01", "agent-r01", "5");
  configure(b_dir, r02, "r01", "impostor", "5");
  TestSubscriber sub(broker.plain(), "rackwatch/v1/hall-t/#");
  Process a({bin("rackwatchd"), "--config", (a_dir / "agent.yaml").string()}, a_dir);
  ASSERT_TRUE(wait_until([&] { return sequences(sub).size() >= 3; }, 20s)) << a.log() << broker.log();
  Process b({bin("rackwatchd"), "--config", (b_dir / "agent.yaml").string()}, b_dir);
  ASSERT_TRUE(wait_until([&] { return b.log().find("the message stays in the outbox") != std::string::npos; }, 20s))
      << b.log();
  // Said once a round, of the first refused: the catalog stored at start, or telemetry.
  EXPECT_THAT(b.log(), HasSubstr("<3>publish refused by the broker: Not authorized (0x87) on rackwatch/v1/hall-t/r01/"));
  EXPECT_THAT(b.log(), HasSubstr(": the message stays in the outbox"));
  EXPECT_THAT(b.log(), HasSubstr("<3>birth message on rackwatch/v1/hall-t/r01/status not delivered: refused by the "
                                 "broker: Not authorized (0x87)"));
  const auto socket = (b_dir / "diag.sock").string();
  auto status = rackwatch_verb(socket, {"status"});
  EXPECT_THAT(status.out, HasSubstr("last refusal: refused by the broker: Not authorized (0x87) on rackwatch/v1/hall-t/r01/"));
  EXPECT_THAT(status.out, HasSubstr("held (refused by the broker)"));
  for (const auto& t : decoded<v1::Telemetry>(sub, kBase + "/telemetry")) EXPECT_EQ(t.agent_id(), "agent-r01");

  // Its own rack: the new readings flow, the refused ones stay held.
  configure(b_dir, r02, "r02", "agent-r02", "5");
  ASSERT_EQ(rackwatch_verb(socket, {"reload"}).exit_code, 0);
  ASSERT_TRUE(wait_until([&] {
    for (const auto& m : sub.messages()) {
      if (m->get_topic() == "rackwatch/v1/hall-t/r02/telemetry") return true;
    }
    return false;
  }, 20s)) << b.log();
  status = rackwatch_verb(socket, {"status", "--json"});
  EXPECT_THAT(status.out, HasSubstr("\"pending\":\""));
  EXPECT_THAT(status.out, Not(HasSubstr("\"pending\":\"0\"")));
}

// check-config refuses a secret that other users can read, naming the file and its mode.
TEST(SecretFileTest, CheckConfigRefusesAWorldReadablePasswordFile) {
  TempDir dir("rackwatch-secret");
  write_file(dir / "password", "s3cret\n");
  ::chmod((dir / "password").c_str(), 0644);
  write_file(dir / "agent.yaml", "agent: {site: s, rack: r}\nmqtt:\n  brokers: [tcp://127.0.0.1:1883]\n"
                                 "  username: r-agent\n  password_file: " + (dir / "password").string() +
                                 "\nsources:\n  - {name: pdu, type: sim, interval: 1s, points: [{name: p, signal: "
                                 "pdu.total.power}]}\n");
  auto r = run({bin("rackwatch"), "check-config", (dir / "agent.yaml").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("agent.yaml:5:18: password file '" + (dir / "password").string() +
                               "': readable by other users (mode 0644)"));
  EXPECT_THAT(r.out + r.err, Not(HasSubstr("s3cret")));
  ::chmod((dir / "password").c_str(), 0640);
  r = run({bin("rackwatch"), "check-config", (dir / "agent.yaml").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

struct Case {
  const char* name;
  // The agent's first (broken) settings, and the fix.
  std::function<Agent(TlsBroker&, const Pki::Leaf& client)> broken;
  std::function<Agent(TlsBroker&, const Pki::Leaf& client)> fixed;
  const char* error;  // what the log and status must say
};

// How gtest shows a case in listings and failures: by its name, not its bytes.
void PrintTo(const Case& c, std::ostream* out) { *out << c.name; }

class TlsFailureTest : public ::testing::TestWithParam<Case> {};

TEST_P(TlsFailureTest, SaysWhyKeepsTheReadingsAndDeliversThemOnceFixed) {
  const auto& c = GetParam();
  TempDir dir("rackwatch-tls");
  TlsBroker broker(dir.path());
  const auto client = broker.pki().issue("agent", "tls-agent", "", 30, false);
  write_file(dir / "agent.yaml", config(dir.path(), c.broken(broker, client)));
  TestSubscriber sub(broker.plain(), kBase + "/#");
  Process agent({bin("rackwatchd"), "--config", (dir / "agent.yaml").string()}, dir.path());

  ASSERT_TRUE(wait_until([&] { return agent.log().find(c.error) != std::string::npos; }, 20s)) << agent.log();
  const auto socket = (dir / "diag.sock").string();
  auto status = rackwatch_verb(socket, {"status"});
  EXPECT_THAT(status.out, HasSubstr("NOT connected"));
  EXPECT_THAT(status.out, HasSubstr(c.error));
  if (::testing::Test::HasFailure()) std::cerr << status.out << agent.log();
  // Readings are taken and kept meanwhile, and none of them goes out.
  ASSERT_TRUE(wait_until(
      [&] {
        const auto st = agent_state(socket);
        return st && json_int(st->at("outbox").at("pending")) >= 5;
      },
      10s));
  EXPECT_TRUE(sequences(sub).empty());

  write_file(dir / "agent.yaml", config(dir.path(), c.fixed(broker, client)));
  auto reload = rackwatch_verb(socket, {"reload"});
  ASSERT_EQ(reload.exit_code, 0) << reload.out << reload.err;
  ASSERT_TRUE(wait_until([&] { return sequences(sub).size() >= 15; }, 20s)) << agent.log();
  // Everything from the first reading on, none missing.
  std::set<std::uint64_t> seen;
  for (auto s : sequences(sub)) seen.insert(s);
  const auto last = *seen.rbegin();
  for (std::uint64_t s = 1; s <= last; ++s) EXPECT_TRUE(seen.contains(s)) << "sequence " << s << " missing";
  EXPECT_THAT(rackwatch_verb(socket, {"status"}).out, HasSubstr("connected to "));
}

Agent good_agent(TlsBroker& b, const Pki::Leaf& client) { return {b.good(), b.pki().ca(), client.cert, client.key}; }

const Case kCases[] = {
    {"wrong_ca",
     [](TlsBroker& b, const Pki::Leaf& c) { return Agent{b.good(), b.pki().ca("other-ca"), c.cert, c.key}; },
     good_agent, "the broker's certificate is not signed by a CA in ca_file"},
    {"expired_server_certificate",
     [](TlsBroker& b, const Pki::Leaf& c) { return Agent{b.expired(), b.pki().ca(), c.cert, c.key}; }, good_agent,
     "the broker's certificate has expired (not valid after 20"},
    {"host_name_mismatch",
     [](TlsBroker& b, const Pki::Leaf& c) { return Agent{b.other_host(), b.pki().ca(), c.cert, c.key}; },
     good_agent, "the broker's certificate is not issued for '127.0.0.1' (it names broker.example)"},
    {"missing_client_certificate",
     [](TlsBroker& b, const Pki::Leaf&) { return Agent{b.good(), b.pki().ca(), "", ""}; }, good_agent,
     "the broker requires a client certificate and none is configured"},
    {"untrusted_client_certificate",
     [](TlsBroker& b, const Pki::Leaf&) {
       const auto stranger = b.pki().issue("stranger", "tls-agent", "", 30, false, "other-ca");
       return Agent{b.good(), b.pki().ca(), stranger.cert, stranger.key};
     },
     good_agent, "the broker refused the client certificate"},
};

INSTANTIATE_TEST_SUITE_P(Tls, TlsFailureTest, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& param) { return std::string(param.param.name); });

}  // namespace
}  // namespace rackwatch::test
