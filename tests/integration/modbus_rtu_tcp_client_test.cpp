// The agent's Modbus RTU-over-TCP client (RTU frames on a TCP connection to
// a serial device server) against the libmodbus peer serving RTU on TCP
// connections: values as served from several units over one connection,
// exceptions keeping it, the peer's faults (bad CRC, no answer, short frame,
// closed connection) each failing one read with its own counter and the next
// read reconnecting, answers delivered one byte a segment, a gateway that
// dropped an idle connection, and errors that name the gateway.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "sources/modbus/modbus_rtu_tcp_client.hpp"
#include "support/link_reader.hpp"
#include "support/modbus_peer.hpp"
#include "support/net.hpp"

namespace rackwatch::modbus {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::ModbusPeer;
using test::as_u16;

// 70000 as u32 is registers 1, 4464.
constexpr const char* kMap = R"(holding 0 u16 2300
holding 1 1234
holding 2 u32 70000
holding 10-19 unreadable
input 0 111
coil 0 1 0 1 1 0
)";

ReadRequest holding(std::uint16_t address, std::uint16_t quantity) {
  return {FunctionCode::read_holding_registers, address, quantity};
}

class ModbusRtuTcpClientTest : public test::LinkClientTest<RtuOverTcpClient> {
 protected:
  void start(std::vector<int> units = {}, std::chrono::milliseconds inter_request_delay = 0ms,
             bool manual_clock = true) {
    ModbusPeer::Options options;
    options.rtu_over_tcp = true;
    options.map = kMap;
    options.units = std::move(units);
    options.manual_clock = manual_clock;
    peer_.emplace(std::move(options));
    client_.emplace(io_.get_executor(),
                    RtuOverTcpClient::Options{peer_->host(), peer_->port(), inter_request_delay});
  }
};

TEST_F(ModbusRtuTcpClientTest, ReadsEachTableOfSeveralUnitsOverOneConnection) {
  start({1, 7});
  EXPECT_EQ(client_->describe(), "rtu-over-tcp " + peer_->endpoint());
  EXPECT_FALSE(client_->connected()) << "connects on first use";
  for (const std::uint8_t unit : {std::uint8_t{1}, std::uint8_t{7}}) {
    SCOPED_TRACE("unit " + std::to_string(unit));
    const auto r = read(unit, holding(0, 4));
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->values, (std::vector<std::uint16_t>{2300, 1234, 1, 4464}));
    const auto last = peer_->last_served();
    ASSERT_TRUE(last.has_value());
    EXPECT_EQ(last->unit, unit);
    EXPECT_EQ(last->outcome, "ok");
    EXPECT_EQ(r->values, as_u16(last->data));
  }
  const auto coils = read(1, {FunctionCode::read_coils, 0, 5});
  ASSERT_TRUE(coils.ok()) << coils.error().message;
  EXPECT_EQ(coils->values, (std::vector<std::uint16_t>{1, 0, 1, 1, 0}));
  expect_served_read(7, {FunctionCode::read_input_registers, 0, 1});
  EXPECT_EQ(client_->counters().requests, 4u);
  EXPECT_EQ(client_->counters().successes, 4u);
  EXPECT_TRUE(client_->connected());
  EXPECT_EQ(peer_->connections_accepted(), 1);
}

// Two callers at once, for two units behind the gateway: they take turns on
// the one connection, each answer going to its own caller.
TEST_F(ModbusRtuTcpClientTest, TwoUnitsTakeTurnsOnOneConnection) {
  start({1, 2});
  peer_->set_faults("delay-ms 50\n");  // the first answer is still due when the second read queues
  std::optional<ReadResult> one;
  std::optional<ReadResult> two;
  spawn_read(1, holding(0, 2), 3s, one);
  spawn_read(2, {FunctionCode::read_input_registers, 0, 1}, 3s, two);
  run();
  ASSERT_TRUE(one.has_value() && two.has_value());
  ASSERT_TRUE(one->ok()) << one->error().message;
  ASSERT_TRUE(two->ok()) << two->error().message;
  const auto served = peer_->served();
  ASSERT_EQ(served.size(), 2u);
  EXPECT_EQ(served[0].unit, 1);
  EXPECT_EQ(served[1].unit, 2);
  EXPECT_EQ((*one)->values, as_u16(served[0].data));
  EXPECT_EQ((*two)->values, as_u16(served[1].data));
  EXPECT_EQ(peer_->connections_accepted(), 1);
}

TEST_F(ModbusRtuTcpClientTest, ExceptionIsNamedAndTheConnectionStays) {
  start();
  const auto r = read(1, holding(10, 2));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().failure, LinkFailure::exception);
  ASSERT_TRUE(r.error().modbus.has_value());
  EXPECT_EQ(r.error().modbus->exception_code, 2);
  EXPECT_NE(r.error().message.find("illegal data address"), std::string::npos) << r.error().message;
  EXPECT_EQ(client_->counters().exceptions, 1u);
  EXPECT_TRUE(client_->connected());
  expect_served_read(1, holding(0, 2));
  EXPECT_EQ(peer_->connections_accepted(), 1);
}

TEST_F(ModbusRtuTcpClientTest, BadCrcFailsOneReadAndTheNextRecovers) {
  start();
  peer_->set_faults("corrupt-crc-every 1\n");
  const auto r = read(1, holding(0, 2));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().failure, LinkFailure::crc) << r.error().message;
  EXPECT_NE(r.error().message.find(peer_->endpoint()), std::string::npos) << r.error().message;
  EXPECT_EQ(client_->counters().crc_errors, 1u);
  EXPECT_EQ(peer_->last_served()->outcome, "bad-crc");
  EXPECT_FALSE(client_->connected());

  peer_->set_faults("");
  expect_served_read(1, holding(0, 2));
}

TEST_F(ModbusRtuTcpClientTest, NoAnswerTimesOutThenReconnects) {
  start();
  expect_served_read(1, holding(0, 1));
  peer_->set_faults("drop-every 1\n");
  const auto r = read(1, holding(0, 2), 300ms);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().failure, LinkFailure::timeout) << r.error().message;
  EXPECT_NE(r.error().message.find("no answer from unit 1 through " + peer_->endpoint()), std::string::npos)
      << r.error().message;
  EXPECT_EQ(client_->counters().timeouts, 1u);
  EXPECT_FALSE(client_->connected()) << "a late answer must not meet the next request";
  EXPECT_EQ(peer_->last_served()->outcome, "dropped");

  peer_->set_faults("");
  expect_served_read(1, holding(0, 3));
  EXPECT_EQ(peer_->connections_accepted(), 2);
}

TEST_F(ModbusRtuTcpClientTest, SilentUnitTimesOutWithoutHoldingUpTheNext) {
  start({1});
  const auto r = read(5, holding(0, 1), 300ms);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().failure, LinkFailure::timeout);
  EXPECT_EQ(peer_->last_served()->outcome, "ignored");
  expect_served_read(1, holding(0, 2));
}

// The peer sends the answer without its last register, the CRC computed
// over what it sent: the silence after it ends the frame, long before the
// deadline, and the frame is too short for its request.
TEST_F(ModbusRtuTcpClientTest, ShortFrameEndsAtASilenceAndIsAFramingError) {
  start();
  peer_->set_faults("short-every 1\n");
  const auto started = Link::SteadyClock::now();
  const auto r = read(1, holding(0, 4), 8s);
  ASSERT_FALSE(r.ok());
  EXPECT_LT(Link::SteadyClock::now() - started, 4s) << "ended by the deadline, not by a silence";
  EXPECT_EQ(r.error().failure, LinkFailure::framing) << r.error().message;
  ASSERT_TRUE(r.error().modbus.has_value());
  EXPECT_EQ(r.error().modbus->code, ErrorCode::truncated);
  EXPECT_EQ(client_->counters().framing_errors, 1u);
  EXPECT_EQ(peer_->last_served()->outcome, "short");
  EXPECT_FALSE(client_->connected());

  peer_->set_faults("");
  expect_served_read(1, holding(0, 4));
}

TEST_F(ModbusRtuTcpClientTest, ClosedConnectionFailsOneReadAndReconnects) {
  start();
  expect_served_read(1, holding(0, 1));
  peer_->set_faults("close-every 1\n");
  const auto r = read(1, holding(0, 2));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().failure, LinkFailure::io) << r.error().message;
  EXPECT_NE(r.error().message.find(peer_->endpoint() + ": the gateway closed the connection"), std::string::npos)
      << r.error().message;
  EXPECT_EQ(client_->counters().io_errors, 1u);
  EXPECT_FALSE(client_->connected());

  peer_->set_faults("");
  expect_served_read(1, holding(0, 2));
  EXPECT_EQ(peer_->connections_accepted(), 2);
}

// One byte a segment, as a gateway with a short packing timer delivers a
// frame: assembled to the request's size, nothing counted against it.
TEST_F(ModbusRtuTcpClientTest, AnswerInOneByteSegmentsIsAssembled) {
  start();
  peer_->set_faults("split-every 1\n");
  for (const auto& request : {holding(0, 4), ReadRequest{FunctionCode::read_coils, 0, 5}, holding(10, 1)}) {
    const auto r = read(1, request);
    const auto last = peer_->last_served();
    ASSERT_TRUE(last.has_value());
    if (last->outcome == "split") {
      ASSERT_TRUE(r.ok()) << r.error().message;
      EXPECT_EQ(r->values, as_u16(last->data));
    } else {
      // The unreadable range: an exception, which the peer sends whole.
      EXPECT_EQ(last->outcome, "exception");
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.error().failure, LinkFailure::exception);
    }
  }
  EXPECT_EQ(client_->counters().framing_errors, 0u);
  EXPECT_EQ(client_->counters().timeouts, 0u);
  EXPECT_EQ(peer_->connections_accepted(), 1);
}

// Serial device servers close connections left idle. The next read finds
// the connection closed before it sends, and opens a new one: no failure.
TEST_F(ModbusRtuTcpClientTest, ConnectionTheGatewayClosedWhileIdleIsReopenedWithoutAFailure) {
  start();
  expect_served_read(1, holding(0, 1));
  const std::uint16_t port = peer_->port();
  peer_->stop();  // closes its connections
  ModbusPeer::Options options;
  options.rtu_over_tcp = true;
  options.map = kMap;
  options.port = port;
  peer_.emplace(std::move(options));
  expect_served_read(1, holding(0, 2));
  EXPECT_EQ(client_->counters().io_errors, 0u);
  EXPECT_EQ(client_->counters().successes, 2u);
  EXPECT_EQ(client_->counters().requests, 2u);
}

TEST_F(ModbusRtuTcpClientTest, InterRequestDelayKeepsTheGatewayQuiet) {
  start({}, 50ms, false);  // the peer's clock: seconds since it started
  std::optional<ReadResult> a;
  std::optional<ReadResult> b;
  spawn_read(1, holding(0, 1), 3s, a);
  spawn_read(1, holding(1, 1), 3s, b);
  run();
  ASSERT_TRUE(a.has_value() && a->ok());
  ASSERT_TRUE(b.has_value() && b->ok());
  const auto served = peer_->served();
  ASSERT_EQ(served.size(), 2u);
  EXPECT_GE(served[1].clock - served[0].clock, 0.050) << "the link was not kept quiet for 50 ms";
}

TEST_F(ModbusRtuTcpClientTest, GatewayNotListeningIsAConnectFailureSayingWhatToCheck) {
  const std::uint16_t port = test::free_port();
  client_.emplace(io_.get_executor(), RtuOverTcpClient::Options{"127.0.0.1", port, 0ms});
  const auto r = read(1, holding(0, 1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().failure, LinkFailure::connect);
  const std::string& message = r.error().message;
  EXPECT_NE(message.find("connecting to 127.0.0.1:" + std::to_string(port)), std::string::npos) << message;
  EXPECT_NE(message.find("TCP server (raw) mode"), std::string::npos) << message;
  EXPECT_EQ(client_->counters().connect_failures, 1u);
  EXPECT_EQ(client_->counters().requests, 0u);
}

TEST_F(ModbusRtuTcpClientTest, BroadcastUnitIsRefusedWithoutSending) {
  start();
  const auto r = read(0, holding(0, 1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().failure, LinkFailure::request);
  EXPECT_EQ(client_->counters().requests, 0u);
  EXPECT_TRUE(peer_->served().empty());
}

}  // namespace
}  // namespace rackwatch::modbus
