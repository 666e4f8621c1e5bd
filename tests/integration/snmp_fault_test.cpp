// The SNMP source against an agent that misbehaves on the wire, which no
// real agent does on request: a small UDP responder written here (a mock,
// and the only one: snmpsimd answers correctly or not at all). For each
// GET it may first send a truncated datagram, a response to another
// request id and a garbled one, then the right answer. The source must drop
// the first three, counting them, and take the answer; and datagrams that
// come alone must not be taken for one. Its answer to every GETBULK is the
// same OID: a table walk that would go round for ever, which the source
// must refuse after one turn. (A response's community is not
// checked, by net-snmp as by the RFCs: it is matched by its request id.)
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include "sources/snmp/snmp_source.hpp"
#include "support/config_text.hpp"
#include "support/source_poll.hpp"
#include "support/temp_dir.hpp"

namespace rackwatch {
namespace {

using ::testing::HasSubstr;
using Bytes = std::vector<std::uint8_t>;

// BER with short lengths: enough for the small messages here.
Bytes tlv(std::uint8_t tag, const Bytes& value) {
  Bytes out{tag, static_cast<std::uint8_t>(value.size())};
  out.insert(out.end(), value.begin(), value.end());
  return out;
}
Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}
Bytes text(const std::string& s) { return Bytes(s.begin(), s.end()); }

// The request id of a v2c GET: SEQUENCE { version, community, PDU {
// request-id, ... } }. Nothing when the datagram is not laid out so.
std::optional<Bytes> request_id(const Bytes& d) {
  std::size_t i = 0;
  auto header = [&](std::uint8_t tag) -> std::optional<std::size_t> {
    if (i + 2 > d.size() || d[i] != tag || (d[i + 1] & 0x80)) return std::nullopt;
    const std::size_t len = d[i + 1];
    i += 2;
    return len;
  };
  if (!header(0x30)) return std::nullopt;
  auto version = header(0x02);
  if (!version) return std::nullopt;
  i += *version;
  auto community = header(0x04);
  if (!community) return std::nullopt;
  i += *community;
  // GET or GETBULK
  if (i + 2 > d.size() || (d[i] != 0xA0 && d[i] != 0xA5)) return std::nullopt;
  if (!header(d[i])) return std::nullopt;
  auto id = header(0x02);
  if (!id || i + *id > d.size()) return std::nullopt;
  return Bytes(d.begin() + static_cast<std::ptrdiff_t>(i), d.begin() + static_cast<std::ptrdiff_t>(i + *id));
}

// 1.3.6.1.4.1.99999.1.1.0 = INTEGER 42
const Bytes kOid{0x2B, 6, 1, 4, 1, 0x86, 0x8D, 0x1F, 1, 1, 0};
Bytes response(const Bytes& id) {
  const Bytes varbinds = tlv(0x30, tlv(0x30, cat({tlv(0x06, kOid), tlv(0x02, {42})})));
  const Bytes pdu = tlv(0xA2, cat({tlv(0x02, id), tlv(0x02, {0}), tlv(0x02, {0}), varbinds}));
  return tlv(0x30, cat({tlv(0x02, {1}), tlv(0x04, text("public")), pdu}));
}

class FaultyAgent {
 public:
  FaultyAgent() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw std::runtime_error("bind");
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~FaultyAgent() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }
  std::atomic<bool> misbehave{true};
  std::atomic<bool> answer{true};
  std::atomic<int> requests{0};

 private:
  void serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      Bytes in(2048);
      sockaddr_in from{};
      socklen_t len = sizeof from;
      const auto n = ::recvfrom(fd_, in.data(), in.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n <= 0) continue;
      in.resize(static_cast<std::size_t>(n));
      ++requests;
      const auto id = request_id(in);
      if (!id) continue;
      auto send = [&](const Bytes& out) {
        ::sendto(fd_, out.data(), out.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
      };
      if (misbehave) {
        const Bytes good = response(*id);
        send(Bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(good.size() / 2)));  // truncated
        Bytes other = *id;
        other.back() = static_cast<std::uint8_t>(other.back() ^ 0x5A);
        send(response(other));                 // another request's id
        send({0x30, 0x03, 0x02, 0x01});         // garbage
      }
      if (answer) send(response(*id));
    }
  }

  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class SnmpFaultTest : public ::testing::Test {
 protected:
  std::unique_ptr<Source> make(const std::string& endpoint) {
    const auto community = dir_ / "community";
    std::ofstream(community) << "public\n";
    ::chmod(community.c_str(), 0600);
    config_ = test::parse_config_text(
        "agent: {site: s, rack: r}\nmqtt: {brokers: [\"tcp://127.0.0.1:1883\"]}\nsources:\n"
        "  - name: pdu\n    type: snmp\n    interval: 5s\n    timeout: 3s\n    request_timeout: 2s\n"
        "    host: " + endpoint + "\n    community_file: " + community.string() + "\n"
        "    points: [{name: p, quantity: power, oid: 1.3.6.1.4.1.99999.1.1.0}]\n");
    return snmp::snmp_source_type().create(config_.sources[0], SourceEnv{io_.get_executor(), pool_.get_executor()});
  }
  // A source with the GET point above and a profile whose table the agent
  // walks in a circle.
  std::unique_ptr<Source> make_with_table(const std::string& endpoint) {
    const auto community = dir_ / "community";
    std::ofstream(community) << "public\n";
    ::chmod(community.c_str(), 0600);
    const auto profile = dir_ / "circle.yaml";
    std::ofstream(profile) << "description: one table\nsnmp: {}\ntables:\n  - name: t\n    index: [n]\n"
                              "    columns: {v: 1.3.6.1.4.1.99999.1.1}\n"
                              "    points: [{name: 'row{n}', value: v, quantity: power}]\n";
    config_ = test::parse_config_text(
        "agent: {site: s, rack: r}\nmqtt: {brokers: [\"tcp://127.0.0.1:1883\"]}\nsources:\n"
        "  - name: pdu\n    type: snmp\n    interval: 5s\n    timeout: 3s\n    request_timeout: 2s\n"
        "    host: " + endpoint + "\n    community_file: " + community.string() + "\n    profile: " +
        profile.string() + "\n    points: [{name: p, quantity: power, oid: 1.3.6.1.4.1.99999.1.1.0}]\n");
    return snmp::snmp_source_type().create(config_.sources[0], SourceEnv{io_.get_executor(), pool_.get_executor()});
  }
  static const snmp::Counters& counters(const Source& s) {
    return dynamic_cast<const snmp::SnmpSource&>(s).session_counters();
  }

  test::TempDir dir_{"rackwatch-snmp-fault"};
  Config config_;
  boost::asio::io_context io_;
  boost::asio::thread_pool pool_{1};
};

TEST_F(SnmpFaultTest, TruncatedForeignAndGarbledDatagramsAreDroppedAndCountedAndTheAnswerTaken) {
  FaultyAgent agent;
  auto source = make(agent.endpoint());
  for (int poll = 1; poll <= 3; ++poll) {
    const auto readings = test::poll(io_, *source);
    ASSERT_EQ(readings.size(), 1u);
    EXPECT_TRUE(readings[0].ok()) << readings[0].error;
    EXPECT_EQ(readings[0].value, 42.0);
    EXPECT_EQ(counters(*source).datagrams_dropped, 3u * static_cast<unsigned>(poll));
    EXPECT_EQ(counters(*source).responses, static_cast<unsigned>(poll));
  }
  EXPECT_EQ(counters(*source).timeouts, 0u);
}

TEST_F(SnmpFaultTest, DatagramsThatAnswerNothingAreNotAnAnswer) {
  FaultyAgent agent;
  agent.answer = false;
  auto source = make(agent.endpoint());
  const auto readings = test::poll(io_, *source);
  ASSERT_EQ(readings.size(), 1u);
  EXPECT_FALSE(readings[0].ok());
  EXPECT_THAT(readings[0].error, HasSubstr("no answer from " + agent.endpoint()));
  EXPECT_EQ(counters(*source).datagrams_dropped, 3u) << "agent saw " << agent.requests << " requests, source sent "
                                                    << counters(*source).requests;
  EXPECT_EQ(counters(*source).responses, 0u);
  EXPECT_EQ(counters(*source).timeouts, 1u);
}

TEST_F(SnmpFaultTest, AWalkThatGoesRoundInACircleIsRefusedAfterOneTurn) {
  FaultyAgent agent;
  agent.misbehave = false;
  auto source = make_with_table(agent.endpoint());
  for (int poll = 1; poll <= 2; ++poll) {
    const auto readings = test::poll(io_, *source);
    ASSERT_EQ(readings.size(), 1u) << "the table's rows are never taken from a walk that failed";
    EXPECT_TRUE(readings[0].ok()) << "the device's other points still read: " << readings[0].error;
    // A GET, then a GETBULK whose answer is fine, then one that repeats it.
    EXPECT_EQ(counters(*source).requests, 3u * static_cast<unsigned>(poll));
  }
  const auto health = source->health();
  EXPECT_EQ(health.state, DeviceState::degraded) << "the device answers, wrongly";
  EXPECT_THAT(health.detail, HasSubstr("answered 1.3.6.1.4.1.99999.1.1.0 as the successor of 1.3.6.1.4.1.99999.1.1.0"));
  EXPECT_THAT(health.detail, HasSubstr("the walk would not end (table t of profile circle)"));
}

}  // namespace
}  // namespace rackwatch
