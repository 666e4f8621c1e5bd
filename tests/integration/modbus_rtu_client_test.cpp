// The agent's Modbus RTU client against the libmodbus peer on a
// pseudo-terminal at 19200 8E1: values as served from several units on one
// bus, exceptions, and the peer's faults (no answer, bad CRC, short frame)
// each failing one read with its own counter, the next read recovering.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "sources/modbus/modbus_rtu_client.hpp"
#include "support/link_reader.hpp"
#include "support/modbus_peer.hpp"

namespace rackwatch::modbus {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::ModbusPeer;

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

class ModbusRtuClientTest : public test::LinkClientTest<RtuClient> {
 protected:
  void start(std::vector<int> units = {}, std::vector<std::string> extra = {}) {
    ModbusPeer::Options options;
    options.rtu = true;
    options.map = kMap;
    options.units = std::move(units);
    options.extra_args = std::move(extra);
    peer_.emplace(std::move(options));
    RtuClient::Options client;
    client.device = peer_->pty_path();
    client.serial = {19200, 8, Parity::even, 1};
    client_.emplace(io_.get_executor(), client);
  }

  // A bus answers within its turnaround: a shorter default than over TCP.
  ReadResult read(std::uint8_t unit, ReadRequest request, std::chrono::milliseconds timeout = 1s) {
    return reader_.read(*client_, unit, request, timeout);
  }
};

TEST_F(ModbusRtuClientTest, ReadsRegistersAndBitsOfSeveralUnitsOnOneBus) {
  start({1, 7});
  EXPECT_EQ(client_->describe(), "rtu " + peer_->pty_path() + " 19200 8E1");
  for (const std::uint8_t unit : {std::uint8_t{1}, std::uint8_t{7}}) {
    const auto r = read(unit, holding(0, 4));
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->values, (std::vector<std::uint16_t>{2300, 1234, 1, 4464}));
    const auto last = peer_->last_served();
    ASSERT_TRUE(last.has_value());
    EXPECT_EQ(last->unit, unit);
    EXPECT_EQ(last->outcome, "ok");
  }
  const auto coils = read(1, {FunctionCode::read_coils, 0, 5});
  ASSERT_TRUE(coils.ok()) << coils.error().message;
  EXPECT_EQ(coils->values, (std::vector<std::uint16_t>{1, 0, 1, 1, 0}));
  const auto input = read(7, {FunctionCode::read_input_registers, 0, 1});
  ASSERT_TRUE(input.ok()) << input.error().message;
  EXPECT_EQ(input->values, (std::vector<std::uint16_t>{111}));
  EXPECT_EQ(client_->counters().requests, 4u);
  EXPECT_EQ(client_->counters().successes, 4u);
}

TEST_F(ModbusRtuClientTest, ExceptionIsNamedAndTheBusStaysUsable) {
  start();
  const auto r = read(1, holding(10, 2));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().failure, LinkFailure::exception);
  ASSERT_TRUE(r.error().modbus.has_value());
  EXPECT_EQ(r.error().modbus->exception_code, 2);
  EXPECT_NE(r.error().message.find("illegal data address"), std::string::npos) << r.error().message;
  EXPECT_EQ(client_->counters().exceptions, 1u);
  EXPECT_TRUE(read(1, holding(0, 1)).ok());
}

TEST_F(ModbusRtuClientTest, SilentUnitTimesOutWithoutHoldingUpTheNext) {
  start({1});
  const auto start_time = Link::SteadyClock::now();
  const auto r = read(5, holding(0, 1), 300ms);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().failure, LinkFailure::timeout);
  EXPECT_NE(r.error().message.find("unit 5"), std::string::npos) << r.error().message;
  // Bounded by its deadline, not by some fixed wait of the client.
  EXPECT_LT(Link::SteadyClock::now() - start_time, 2s);
  EXPECT_EQ(client_->counters().timeouts, 1u);
  const auto ok = read(1, holding(0, 2));
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->values, (std::vector<std::uint16_t>{2300, 1234}));
}

TEST_F(ModbusRtuClientTest, BadCrcShortFrameAndDroppedRequestEachFailOneRead) {
  start();
  peer_->set_faults("corrupt-crc-every 1\n");
  auto r = read(1, holding(0, 2));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().failure, LinkFailure::crc);
  EXPECT_EQ(client_->counters().crc_errors, 1u);
  EXPECT_EQ(peer_->last_served()->outcome, "bad-crc");

  peer_->set_faults("short-every 1\n");
  r = read(1, holding(0, 2));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().failure, LinkFailure::framing) << r.error().message;
  EXPECT_EQ(client_->counters().framing_errors, 1u);
  EXPECT_EQ(peer_->last_served()->outcome, "short");

  peer_->set_faults("drop-every 1\n");
  r = read(1, holding(0, 2), 300ms);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().failure, LinkFailure::timeout);
  EXPECT_EQ(peer_->last_served()->outcome, "dropped");

  peer_->set_faults("");
  r = read(1, holding(0, 2));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->values, (std::vector<std::uint16_t>{2300, 1234}));
  EXPECT_EQ(client_->counters().requests, 4u);
}

TEST_F(ModbusRtuClientTest, MissingDeviceIsAConnectFailureNamingIt) {
  RtuClient::Options options;
  options.device = "/dev/nonexistent-rackwatch-tty";
  client_.emplace(io_.get_executor(), options);
  const auto r = read(1, holding(0, 1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().failure, LinkFailure::connect);
  EXPECT_NE(r.error().message.find("/dev/nonexistent-rackwatch-tty"), std::string::npos);
  EXPECT_EQ(client_->counters().requests, 0u);
}

TEST_F(ModbusRtuClientTest, UnitZeroIsRefusedAsARequestError) {
  start();
  const auto r = read(0, holding(0, 1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().failure, LinkFailure::request);
  EXPECT_EQ(client_->counters().requests, 0u);
}

}  // namespace
}  // namespace rackwatch::modbus
