// The agent's Modbus TCP client against the libmodbus peer: values as the
// peer served them, exceptions, the peer's faults (no answer, wrong
// transaction id, short frame, closed connection) each failing one read and
// the next read recovering, answers split into pieces or preceded by a stale
// one, unit ids behind one connection, and concurrent callers taking turns
// on the connection.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "sources/modbus/modbus_tcp_client.hpp"
#include "support/link_reader.hpp"
#include "support/modbus_peer.hpp"

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
input 1 s16 -5
coil 0 1 0 1 1 0
discrete 0 1
)";

ReadRequest holding(std::uint16_t address, std::uint16_t quantity) {
  return {FunctionCode::read_holding_registers, address, quantity};
}

class ModbusTcpClientTest : public test::LinkClientTest<TcpClient> {
 protected:
  void start(ModbusPeer::Options options) {
    peer_.emplace(std::move(options));
    client_.emplace(io_.get_executor(),
                    TcpClient::Options{peer_->host(), peer_->port(), std::chrono::milliseconds{0}});
  }
  void start_with_map() {
    ModbusPeer::Options options;
    options.map = kMap;
    start(std::move(options));
  }
};

TEST_F(ModbusTcpClientTest, ReadsEachTableAsServed) {
  start_with_map();
  {
    const auto r = read(1, holding(0, 4));
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->values, (std::vector<std::uint16_t>{2300, 1234, 1, 4464}));
    const auto last = peer_->last_served();
    ASSERT_TRUE(last.has_value());
    EXPECT_EQ(last->table, "holding");
    EXPECT_EQ(r->values, as_u16(last->data));
  }
  {
    const auto r = read(1, {FunctionCode::read_input_registers, 0, 2});
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->values, (std::vector<std::uint16_t>{111, 0xFFFB}));
    EXPECT_EQ(peer_->last_served()->table, "input");
    EXPECT_EQ(r->values, as_u16(peer_->last_served()->data));
  }
  {
    const auto r = read(1, {FunctionCode::read_coils, 0, 5});
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->values, (std::vector<std::uint16_t>{1, 0, 1, 1, 0}));
    EXPECT_EQ(peer_->last_served()->table, "coil");
    EXPECT_EQ(r->values, as_u16(peer_->last_served()->data));
  }
  expect_served_read(1, {FunctionCode::read_discrete_inputs, 0, 3});

  const auto& c = client_->counters();
  EXPECT_EQ(c.requests, 4u);
  EXPECT_EQ(c.successes, 4u);
  EXPECT_TRUE(c.last_success.has_value());
  EXPECT_EQ(c.timeouts + c.framing_errors + c.io_errors + c.connect_failures + c.exceptions, 0u);
  EXPECT_EQ(peer_->served().size(), 4u);
}

TEST_F(ModbusTcpClientTest, UnreadableRangeIsAnExceptionAndKeepsTheConnection) {
  start_with_map();
  const auto r = read(1, holding(8, 4));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().failure, LinkFailure::exception);
  ASSERT_TRUE(r.error().modbus.has_value());
  EXPECT_EQ(r.error().modbus->code, ErrorCode::exception);
  EXPECT_EQ(r.error().modbus->exception_code, 0x02);
  EXPECT_EQ(peer_->last_served()->outcome, "exception");
  EXPECT_EQ(client_->counters().exceptions, 1u);
  EXPECT_TRUE(client_->connected());

  expect_served_read(1, holding(0, 2));
}

TEST_F(ModbusTcpClientTest, NoAnswerTimesOutThenReconnects) {
  start_with_map();
  expect_served_read(1, holding(0, 1));

  peer_->set_faults("drop-every 1\n");
  const auto r = read(1, holding(0, 2), 300ms);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().failure, LinkFailure::timeout) << r.error().message;
  EXPECT_EQ(client_->counters().timeouts, 1u);
  EXPECT_FALSE(client_->connected());
  EXPECT_EQ(peer_->last_served()->outcome, "dropped");

  peer_->set_faults("");
  expect_served_read(1, holding(0, 3));
}

TEST_F(ModbusTcpClientTest, WrongTransactionIdFailsAndRecovers) {
  start_with_map();
  peer_->set_faults("wrong-tid-every 1\n");
  const auto r = read(1, holding(0, 2));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().failure, LinkFailure::framing) << r.error().message;
  ASSERT_TRUE(r.error().modbus.has_value());
  EXPECT_EQ(r.error().modbus->code, ErrorCode::transaction_mismatch);
  EXPECT_NE(r.error().message.find("transaction id"), std::string::npos) << r.error().message;
  EXPECT_EQ(client_->counters().framing_errors, 1u);
  EXPECT_FALSE(client_->connected());

  peer_->set_faults("");
  expect_served_read(1, holding(0, 2));
}

TEST_F(ModbusTcpClientTest, ShortFrameFailsAndRecovers) {
  start_with_map();
  peer_->set_faults("short-every 1\n");
  const auto r = read(1, holding(0, 4));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().failure, LinkFailure::framing) << r.error().message;
  EXPECT_EQ(peer_->last_served()->outcome, "short");
  EXPECT_EQ(client_->counters().framing_errors, 1u);

  peer_->set_faults("");
  expect_served_read(1, holding(0, 4));
}

TEST_F(ModbusTcpClientTest, ClosedConnectionFailsAndRecovers) {
  start_with_map();
  expect_served_read(1, holding(0, 1));
  peer_->set_faults("close-every 1\n");
  const auto r = read(1, holding(0, 2));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().failure, LinkFailure::io) << r.error().message;
  EXPECT_EQ(client_->counters().io_errors, 1u);
  EXPECT_FALSE(client_->connected());

  peer_->set_faults("");
  expect_served_read(1, holding(0, 2));
}

TEST_F(ModbusTcpClientTest, ConnectionRefusedIsAConnectFailure) {
  start_with_map();
  const std::uint16_t port = peer_->port();
  peer_->stop();
  TcpClient lonely(io_.get_executor(), TcpClient::Options{"127.0.0.1", port, 0ms});
  std::optional<ReadResult> out;
  asio::co_spawn(
      io_,
      [&]() -> asio::awaitable<void> {
        out.emplace(co_await lonely.read(1, holding(0, 1), TcpClient::SteadyClock::now() + 2s));
      },
      asio::detached);
  run();
  ASSERT_TRUE(out.has_value());
  ASSERT_FALSE(out->ok());
  EXPECT_EQ(out->error().failure, LinkFailure::connect) << out->error().message;
  EXPECT_EQ(lonely.counters().connect_failures, 1u);
  EXPECT_EQ(lonely.counters().requests, 0u);
}

TEST_F(ModbusTcpClientTest, TwoUnitsShareOneConnection) {
  ModbusPeer::Options options;
  options.unit_maps = {{1, "holding 0 101 102\n"}, {2, "holding 0 201 202\n"}};
  start(std::move(options));

  const auto one = read(1, holding(0, 2));
  ASSERT_TRUE(one.ok()) << one.error().message;
  EXPECT_EQ(one->values, (std::vector<std::uint16_t>{101, 102}));
  const auto two = read(2, holding(0, 2));
  ASSERT_TRUE(two.ok()) << two.error().message;
  EXPECT_EQ(two->values, (std::vector<std::uint16_t>{201, 202}));

  const auto served = peer_->served();
  ASSERT_EQ(served.size(), 2u);
  EXPECT_EQ(served[0].unit, 1);
  EXPECT_EQ(served[1].unit, 2);
  EXPECT_EQ(client_->counters().connect_failures, 0u);
  EXPECT_TRUE(client_->connected());
}

TEST_F(ModbusTcpClientTest, ConcurrentReadsTakeTurns) {
  start_with_map();
  // A slow answer keeps the first read on the connection while the second waits.
  peer_->set_faults("delay-ms 100\n");
  std::optional<ReadResult> first;
  std::optional<ReadResult> second;
  spawn_read(1, holding(0, 2), 3s, first);
  spawn_read(1, {FunctionCode::read_input_registers, 0, 2}, 3s, second);
  run();
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(second.has_value());
  ASSERT_TRUE(first->ok()) << first->error().message;
  ASSERT_TRUE(second->ok()) << second->error().message;

  const auto served = peer_->served();
  ASSERT_EQ(served.size(), 2u);
  EXPECT_EQ(served[0].table, "holding");
  EXPECT_EQ(served[1].table, "input");
  EXPECT_EQ((*first)->values, as_u16(served[0].data));
  EXPECT_EQ((*second)->values, as_u16(served[1].data));
  EXPECT_EQ(client_->counters().requests, 2u);
}

TEST_F(ModbusTcpClientTest, QueuedReadTimesOutWhileWaitingItsTurn) {
  start_with_map();
  peer_->set_faults("delay-ms 500\n");
  std::optional<ReadResult> first;
  std::optional<ReadResult> second;
  spawn_read(1, holding(0, 1), 5s, first);
  spawn_read(1, holding(1, 1), 50ms, second);
  run();
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(second.has_value());
  EXPECT_TRUE(first->ok()) << first->error().message;
  ASSERT_FALSE(second->ok());
  EXPECT_EQ(second->error().failure, LinkFailure::not_sent) << "it never went out: not the device's timeout";
  EXPECT_EQ(client_->counters().not_sent, 1u);
  EXPECT_EQ(client_->counters().timeouts, 0u);

  // The queue is empty again: a later read gets its turn at once.
  peer_->set_faults("");
  expect_served_read(1, holding(2, 2));
}

TEST_F(ModbusTcpClientTest, InterRequestDelayKeepsTheLinkQuietAndReadsInOrder) {
  ModbusPeer::Options options;
  options.map = kMap;
  options.manual_clock = false;  // the peer's clock: seconds since it started
  start(std::move(options));
  client_.emplace(io_.get_executor(), TcpClient::Options{peer_->host(), peer_->port(), 50ms});
  std::optional<ReadResult> a;
  std::optional<ReadResult> b;
  spawn_read(1, holding(0, 1), 3s, a);
  spawn_read(1, holding(1, 1), 3s, b);
  run();
  ASSERT_TRUE(a.has_value() && a->ok());
  ASSERT_TRUE(b.has_value() && b->ok());
  EXPECT_EQ((*a)->values, (std::vector<std::uint16_t>{2300}));
  EXPECT_EQ((*b)->values, (std::vector<std::uint16_t>{1234}));
  // The peer's clock at each request: the second came at least the delay
  // after the first (after its answer, even). Load only widens the gap.
  const auto served = peer_->served();
  ASSERT_EQ(served.size(), 2u);
  EXPECT_GE(served[1].clock - served[0].clock, 0.050) << "the link was not kept quiet for 50 ms";
}

TEST_F(ModbusTcpClientTest, InvalidRequestFailsWithoutSending) {
  start_with_map();
  const auto r = read(1, holding(0, 126));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().failure, LinkFailure::request);
  ASSERT_TRUE(r.error().modbus.has_value());
  EXPECT_EQ(r.error().modbus->code, ErrorCode::invalid_quantity);
  EXPECT_EQ(client_->counters().requests, 0u);
  EXPECT_TRUE(peer_->served().empty());
}

// A gateway that sends an answer in pieces (one byte a segment) and one
// that still delivers the answer to a transaction before the current one:
// the client reassembles the first and skips the second, keeping its
// connection and counting no framing error.
TEST_F(ModbusTcpClientTest, ReassemblesSplitAnswersAndSkipsStaleOnes) {
  start_with_map();
  peer_->set_faults("split-every 1\nstale-every 2\n");
  for (const auto* outcome : {"split", "stale-first", "split", "stale-first"}) {
    SCOPED_TRACE(outcome);
    const auto r = read(1, holding(0, 4));
    ASSERT_TRUE(r.ok()) << r.error().message;
    const auto last = peer_->last_served();
    ASSERT_TRUE(last.has_value());
    EXPECT_EQ(last->outcome, outcome);
    EXPECT_EQ(r->values, as_u16(last->data));
  }
  EXPECT_EQ(client_->counters().framing_errors, 0u);
  EXPECT_EQ(client_->counters().requests, 4u);
  EXPECT_TRUE(client_->connected());
}

}  // namespace
}  // namespace rackwatch::modbus
