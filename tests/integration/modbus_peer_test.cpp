// The Modbus test peer (tests/peers/modbus_peer) against an independent
// client, libmodbus's own: what it serves, its log, unit ids, faults. Tests
// of the agent's Modbus source rely on all of this being right.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <modbus.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstring>
#include <memory>
#include <numbers>
#include <vector>

#include "support/modbus_peer.hpp"
#include "support/run.hpp"

namespace rackwatch::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A connected libmodbus client, closed and freed on scope exit.
class Client {
 public:
  static Client tcp(const ModbusPeer& peer, int unit = 1) {
    return Client(modbus_new_tcp(peer.host().c_str(), peer.port()), unit);
  }
  static Client rtu(const ModbusPeer& peer, int unit = 1) {
    return Client(modbus_new_rtu(peer.pty_path().c_str(), 19200, 'E', 8, 1), unit);
  }
  // libmodbus's RTU client on a TCP connection opened here: its RTU code
  // only reads and writes the descriptor it is given.
  static Client rtu_over_tcp(const ModbusPeer& peer, int unit = 1) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(peer.port());
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      const int error = errno;
      if (fd >= 0) ::close(fd);
      throw std::runtime_error(std::string("connect to ") + peer.endpoint() + ": " + std::strerror(error));
    }
    return Client(modbus_new_rtu("rtu-over-tcp", 19200, 'E', 8, 1), unit, fd);
  }

  Client(Client&& other) noexcept : ctx_(std::exchange(other.ctx_, nullptr)) {}
  ~Client() {
    if (ctx_ != nullptr) {
      modbus_close(ctx_);
      modbus_free(ctx_);
    }
  }

  void set_unit(int unit) { modbus_set_slave(ctx_, unit); }
  void set_timeout(std::chrono::milliseconds t) {
    modbus_set_response_timeout(ctx_, static_cast<std::uint32_t>(t.count() / 1000),
                                static_cast<std::uint32_t>((t.count() % 1000) * 1000));
  }

  // Registers (fc 3 or 4), or the errno of the failure.
  struct Result {
    std::vector<std::uint16_t> values;
    int error = 0;
  };
  Result holding(int addr, int count) { return registers(addr, count, false); }
  Result input(int addr, int count) { return registers(addr, count, true); }
  Result bits(int addr, int count, bool discrete) {
    std::vector<std::uint8_t> raw(static_cast<std::size_t>(count));
    const int rc = discrete ? modbus_read_input_bits(ctx_, addr, count, raw.data())
                            : modbus_read_bits(ctx_, addr, count, raw.data());
    if (rc < 0) return {{}, errno};
    return {std::vector<std::uint16_t>(raw.begin(), raw.end()), 0};
  }

 private:
  // With `socket`, that connection instead of the context's own.
  Client(modbus_t* ctx, int unit, int socket = -1) : ctx_(ctx) {
    if (ctx_ == nullptr) throw std::runtime_error("libmodbus: cannot create a context");
    modbus_set_slave(ctx_, unit);
    set_timeout(std::chrono::seconds{2});
    if (socket >= 0) {
      modbus_set_socket(ctx_, socket);
    } else if (modbus_connect(ctx_) != 0) {
      throw std::runtime_error(std::string("libmodbus connect: ") + modbus_strerror(errno));
    }
  }

  Result registers(int addr, int count, bool input) {
    std::vector<std::uint16_t> out(static_cast<std::size_t>(count));
    const int rc = input ? modbus_read_input_registers(ctx_, addr, count, out.data())
                         : modbus_read_registers(ctx_, addr, count, out.data());
    if (rc < 0) return {{}, errno};
    return {out, 0};
  }

  modbus_t* ctx_;
};

std::vector<std::uint32_t> widen(const std::vector<std::uint16_t>& v) {
  return {v.begin(), v.end()};
}

// Expected words for values the test encodes itself (not with the peer's code).
std::uint16_t hi(std::uint32_t v) { return static_cast<std::uint16_t>(v >> 16); }
std::uint16_t lo(std::uint32_t v) { return static_cast<std::uint16_t>(v & 0xFFFF); }

// Options for a peer serving `map` to every unit id; callers adjust the rest.
// (Designated initializers would do, but g++ 12 warns about omitted fields.)
ModbusPeer::Options serving(std::string map, std::vector<std::string> extra_args = {}) {
  ModbusPeer::Options o;
  o.map = std::move(map);
  o.extra_args = std::move(extra_args);
  return o;
}

ModbusPeer::Options over_rtu(ModbusPeer::Options o) {
  o.rtu = true;
  return o;
}

constexpr const char* kFixedMap = R"(# a little of everything
holding 0 1 2 3
holding 10 f32 230.5
holding 20 u32:cdab 0x12345678
holding 30 s16 -2
holding 31 u16 0xFFFF
holding 40 f32:badc 1.5
holding 50-54 0x8000
input 5 s32 -100000
coil 0 1 0 1 1
discrete 3 1
)";

TEST(ModbusPeerTcp, ServesFixedValuesInEveryTableAndOrder) {
  ModbusPeer peer(serving(kFixedMap));
  auto client = Client::tcp(peer);

  auto r = client.holding(0, 4);
  ASSERT_EQ(r.error, 0) << modbus_strerror(r.error);
  EXPECT_THAT(r.values, ElementsAre(1, 2, 3, 0));  // 3: unmapped reads 0

  const auto f = std::bit_cast<std::uint32_t>(230.5F);
  r = client.holding(10, 2);
  EXPECT_THAT(r.values, ElementsAre(hi(f), lo(f)));
  r = client.holding(20, 2);
  EXPECT_THAT(r.values, ElementsAre(0x5678, 0x1234));
  r = client.holding(30, 2);
  EXPECT_THAT(r.values, ElementsAre(0xFFFE, 0xFFFF));
  const auto g = std::bit_cast<std::uint32_t>(1.5F);
  const auto swap = [](std::uint16_t w) { return static_cast<std::uint16_t>((w << 8) | (w >> 8)); };
  r = client.holding(40, 2);
  EXPECT_THAT(r.values, ElementsAre(swap(hi(g)), swap(lo(g))));
  r = client.holding(50, 5);
  EXPECT_THAT(r.values, ElementsAre(0x8000, 0x8000, 0x8000, 0x8000, 0x8000));

  r = client.input(5, 2);
  const auto s = static_cast<std::uint32_t>(-100000);
  EXPECT_THAT(r.values, ElementsAre(hi(s), lo(s)));

  r = client.bits(0, 6, false);
  ASSERT_EQ(r.error, 0) << modbus_strerror(r.error);
  EXPECT_THAT(r.values, ElementsAre(1, 0, 1, 1, 0, 0));
  r = client.bits(2, 3, true);
  EXPECT_THAT(r.values, ElementsAre(0, 1, 0));

  // The log holds what went out, one line per request.
  const auto served = peer.served();
  ASSERT_EQ(served.size(), 9U);
  EXPECT_EQ(served[0].table, "holding");
  EXPECT_EQ(served[0].outcome, "ok");
  EXPECT_THAT(served[0].data, ElementsAre(1, 2, 3, 0));
  EXPECT_EQ(served[7].table, "coil");
  EXPECT_THAT(served[7].data, ElementsAre(1, 0, 1, 1, 0, 0));
}

TEST(ModbusPeerTcp, GeneratedValuesFollowTheClockAndMatchTheLog) {
  ModbusPeer peer(serving("holding 100 ramp 1000 5\n"
                          "holding 101 sine 500 100 60\n"
                          "holding 102 s32 ramp -10 -3 2\n"
                          "input 0 counter 7 2\n"));
  auto client = Client::tcp(peer);

  peer.set_clock(12.5);
  auto r = client.holding(100, 4);
  ASSERT_EQ(r.error, 0) << modbus_strerror(r.error);
  const double sine = 500 + 100 * std::sin(2 * std::numbers::pi * 12.5 / 60);
  const auto ramp32 = static_cast<std::uint32_t>(-10 - 3 * 6);
  EXPECT_THAT(r.values, ElementsAre(1060, static_cast<std::uint16_t>(std::lround(sine)),
                                    hi(ramp32), lo(ramp32)));
  auto last = peer.last_served();
  ASSERT_TRUE(last);
  EXPECT_DOUBLE_EQ(last->clock, 12.5);
  EXPECT_EQ(last->addr, 100);
  EXPECT_EQ(last->data, widen(r.values));

  peer.set_clock(20);
  r = client.holding(100, 1);
  EXPECT_THAT(r.values, ElementsAre(1100));

  // A counter advances once per read that covers it.
  EXPECT_THAT(client.input(0, 1).values, ElementsAre(7));
  EXPECT_THAT(client.input(0, 1).values, ElementsAre(9));
  EXPECT_THAT(client.input(0, 2).values, ElementsAre(11, 0));
  EXPECT_THAT(peer.last_served()->data, ElementsAre(11, 0));
}

TEST(ModbusPeerTcp, RealClockValuesAreLoggedExactly) {
  auto options = serving("holding 0 sine 1000 900 0.7\n");
  options.manual_clock = false;  // seconds since the peer started
  ModbusPeer peer(options);
  auto client = Client::tcp(peer);
  for (int i = 0; i < 5; ++i) {
    auto r = client.holding(0, 1);
    ASSERT_EQ(r.error, 0);
    const auto last = peer.last_served();
    ASSERT_TRUE(last);
    EXPECT_EQ(last->data, widen(r.values));
    EXPECT_EQ(r.values[0],
              std::lround(1000 + 900 * std::sin(2 * std::numbers::pi * last->clock / 0.7)));
  }
}

TEST(ModbusPeerTcp, UnreadableRangeAnswersIllegalDataAddress) {
  ModbusPeer peer(serving("holding 40 1\nholding 50-59 unreadable\nholding 60 6\n"));
  auto client = Client::tcp(peer);
  EXPECT_EQ(client.holding(45, 10).error, EMBXILADD);
  EXPECT_EQ(client.holding(59, 2).error, EMBXILADD);
  auto last = peer.last_served();
  ASSERT_TRUE(last);
  EXPECT_EQ(last->outcome, "exception");
  EXPECT_THAT(last->data, ElementsAre(2));
  // Around it everything reads.
  EXPECT_THAT(client.holding(40, 10).values.front(), 1);
  EXPECT_THAT(client.holding(60, 1).values, ElementsAre(6));
  // Past the end of the address space too.
  EXPECT_EQ(client.holding(65530, 10).error, EMBXILADD);
}

TEST(ModbusPeerTcp, UnitsBehindOneServerAndGatewaySilence) {
  auto options = serving("");
  options.unit_maps = {{1, "holding 0 111\n"}, {2, "holding 0 222\n"}};
  ModbusPeer peer(options);
  auto client = Client::tcp(peer, 1);
  EXPECT_THAT(client.holding(0, 1).values, ElementsAre(111));
  client.set_unit(2);
  EXPECT_THAT(client.holding(0, 1).values, ElementsAre(222));
  client.set_unit(3);
  client.set_timeout(std::chrono::milliseconds{300});
  EXPECT_EQ(client.holding(0, 1).error, ETIMEDOUT);
  EXPECT_EQ(peer.last_served()->outcome, "ignored");
  EXPECT_EQ(peer.last_served()->unit, 3);
}

TEST(ModbusPeerTcp, GatewayExceptionsForUnknownUnits) {
  auto options = serving("holding 0 5\n", {"--gateway-exceptions"});
  options.units = {1, 4};
  ModbusPeer peer(options);
  auto client = Client::tcp(peer, 4);
  EXPECT_THAT(client.holding(0, 1).values, ElementsAre(5));
  client.set_unit(9);
  EXPECT_EQ(client.holding(0, 1).error, EMBXGTAR);
  EXPECT_THAT(peer.last_served()->data, ElementsAre(11));
}

TEST(ModbusPeerTcp, DropsEveryNthRequest) {
  ModbusPeer peer(serving("holding 0 42\n", {"--drop-every", "2"}));
  auto client = Client::tcp(peer);
  client.set_timeout(std::chrono::milliseconds{300});
  EXPECT_EQ(client.holding(0, 1).error, 0);
  EXPECT_EQ(client.holding(0, 1).error, ETIMEDOUT);
  EXPECT_EQ(peer.last_served()->outcome, "dropped");
  EXPECT_THAT(client.holding(0, 1).values, ElementsAre(42));
}

TEST(ModbusPeerTcp, DelayAndHealThroughTheFaultsFile) {
  ModbusPeer peer(serving("holding 0 42\n"));
  peer.set_faults("delay-ms 600\n");
  {
    auto client = Client::tcp(peer);
    client.set_timeout(std::chrono::milliseconds{200});
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(client.holding(0, 1).error, ETIMEDOUT);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds{550});
  }
  {
    auto client = Client::tcp(peer);  // a fresh connection: no stale late answer
    client.set_timeout(std::chrono::seconds{2});
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_THAT(client.holding(0, 1).values, ElementsAre(42));
    EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds{600});
  }
  peer.set_faults("");
  auto client = Client::tcp(peer);
  client.set_timeout(std::chrono::milliseconds{300});
  EXPECT_THAT(client.holding(0, 1).values, ElementsAre(42));
}

TEST(ModbusPeerTcp, ExceptionAtAnAddressOnlyForTheFaultUnit) {
  auto options = serving("holding 0 1 2 3 4 5 6 7 8\n",
                         {"--exception-at", "7", "4", "--fault-unit", "2"});
  options.units = {1, 2};
  ModbusPeer peer(options);
  auto client = Client::tcp(peer, 2);
  EXPECT_EQ(client.holding(0, 8).error, EMBXSFAIL);
  EXPECT_EQ(client.holding(0, 7).error, 0);
  client.set_unit(1);
  EXPECT_EQ(client.holding(0, 8).error, 0);
}

TEST(ModbusPeerTcp, WrongTransactionIdShortFrameAndClose) {
  ModbusPeer peer(serving("holding 0 1 2\n"));
  {
    peer.set_faults("wrong-tid-every 1\n");
    auto client = Client::tcp(peer);
    EXPECT_NE(client.holding(0, 2).error, 0);
    EXPECT_EQ(peer.last_served()->outcome, "wrong-tid");
  }
  {
    peer.set_faults("short-every 1\n");
    auto client = Client::tcp(peer);
    client.set_timeout(std::chrono::milliseconds{300});
    EXPECT_NE(client.holding(0, 2).error, 0);
    EXPECT_EQ(peer.last_served()->outcome, "short");
    EXPECT_THAT(peer.last_served()->data, ElementsAre(1, 2));
  }
  {
    peer.set_faults("close-every 1\n");
    auto client = Client::tcp(peer);
    client.set_timeout(std::chrono::milliseconds{300});
    EXPECT_NE(client.holding(0, 2).error, 0);
    EXPECT_EQ(peer.last_served()->outcome, "closed");
  }
}

TEST(ModbusPeerTcp, SigtermExitsZero) {
  ModbusPeer peer(serving("holding 0 1\n"));
  auto client = Client::tcp(peer);
  EXPECT_EQ(client.holding(0, 1).error, 0);
  const auto status = peer.stop();
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << Process::describe(*status);
}

TEST(ModbusPeerMap, BadMapFileNamesFileAndLine) {
  TempDir dir("modbus-map");
  const auto map = dir / "bad.map";
  write_file(map, "holding 0 1\n# fine\nholding 1 ramp 5\n");
  auto r = run({bin("modbus_peer"), "--tcp", "127.0.0.1:0", "--map", map.string()},
               std::chrono::seconds{5});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr(map.string() + ":3: ramp: missing STEP"));

  write_file(map, "holding 0 1\nholding 0-3 unreadable\n");
  r = run({bin("modbus_peer"), "--tcp", "127.0.0.1:0", "--map", map.string()},
          std::chrono::seconds{5});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr(":2: holding 0 is already defined on line 1"));

  write_file(map, "register 0 1\n");
  r = run({bin("modbus_peer"), "--tcp", "127.0.0.1:0", "--map", map.string()},
          std::chrono::seconds{5});
  EXPECT_THAT(r.err, HasSubstr(":1: unknown table \"register\""));

  write_file(map, "holding 0 70000\n");
  r = run({bin("modbus_peer"), "--tcp", "127.0.0.1:0", "--map", map.string()},
          std::chrono::seconds{5});
  EXPECT_THAT(r.err, HasSubstr(":1: value 70000 does not fit in 16 bits"));
}

TEST(ModbusPeerRtu, ServesOverAPtyAt19200_8E1) {
  auto options = over_rtu(serving(""));
  options.unit_maps = {{1, "holding 0 0x1234\ninput 3 ramp 10 1\nholding 9 unreadable\n"},
                       {2, "holding 0 0x2222\n"}};
  ModbusPeer peer(options);
  ASSERT_THAT(peer.pty_path(), HasSubstr("/dev/pts/"));
  auto client = Client::rtu(peer, 1);
  client.set_timeout(std::chrono::milliseconds{500});
  auto r = client.holding(0, 2);
  ASSERT_EQ(r.error, 0) << modbus_strerror(r.error);
  EXPECT_THAT(r.values, ElementsAre(0x1234, 0));
  peer.set_clock(3.9);
  EXPECT_THAT(client.input(3, 1).values, ElementsAre(13));
  EXPECT_THAT(peer.last_served()->data, ElementsAre(13));
  EXPECT_EQ(client.holding(8, 2).error, EMBXILADD);

  // A second device on the same line.
  client.set_unit(2);
  EXPECT_THAT(client.holding(0, 1).values, ElementsAre(0x2222));
  // Nobody answers for a unit that is not on the line.
  client.set_unit(7);
  EXPECT_EQ(client.holding(0, 1).error, ETIMEDOUT);
  EXPECT_EQ(peer.last_served()->outcome, "ignored");
}

TEST(ModbusPeerRtu, CorruptsTheCrcOfEveryNthAnswer) {
  ModbusPeer peer(over_rtu(serving("holding 0 7\n", {"--corrupt-crc-every", "2"})));
  auto client = Client::rtu(peer, 1);
  client.set_timeout(std::chrono::milliseconds{500});
  EXPECT_THAT(client.holding(0, 1).values, ElementsAre(7));
  EXPECT_EQ(client.holding(0, 1).error, EMBBADCRC);
  EXPECT_EQ(peer.last_served()->outcome, "bad-crc");
  EXPECT_THAT(client.holding(0, 1).values, ElementsAre(7));
}

TEST(ModbusPeerRtu, DropsAndRecovers) {
  ModbusPeer peer(over_rtu(serving("holding 0 7\n")));
  auto client = Client::rtu(peer, 1);
  client.set_timeout(std::chrono::milliseconds{300});
  peer.set_faults("drop-every 1\n");
  EXPECT_EQ(client.holding(0, 1).error, ETIMEDOUT);
  EXPECT_EQ(client.holding(0, 1).error, ETIMEDOUT);
  peer.set_faults("");
  EXPECT_THAT(client.holding(0, 1).values, ElementsAre(7));
}

// RTU frames on TCP connections, as a serial device server carries them:
// libmodbus's own RTU framing reads the answers, for several units on one
// connection, and the faults a serial line has (bad CRC, no answer) as well
// as the connection's own (closed).
TEST(ModbusPeerRtuOverTcp, ServesRtuFramesOnTcpConnections) {
  auto options = serving("");
  options.rtu_over_tcp = true;
  options.unit_maps = {{1, "holding 0 0x1234\nholding 9 unreadable\n"}, {2, "holding 0 0x2222\n"}};
  ModbusPeer peer(options);
  auto client = Client::rtu_over_tcp(peer, 1);
  client.set_timeout(std::chrono::milliseconds{500});
  auto r = client.holding(0, 2);
  ASSERT_EQ(r.error, 0) << modbus_strerror(r.error);
  EXPECT_THAT(r.values, ElementsAre(0x1234, 0));
  EXPECT_THAT(peer.last_served()->data, ElementsAre(0x1234, 0));
  EXPECT_EQ(client.holding(8, 2).error, EMBXILADD);
  client.set_unit(2);
  EXPECT_THAT(client.holding(0, 1).values, ElementsAre(0x2222));
  client.set_unit(7);
  EXPECT_EQ(client.holding(0, 1).error, ETIMEDOUT);
  EXPECT_EQ(peer.last_served()->outcome, "ignored");

  client.set_unit(1);
  peer.set_faults("corrupt-crc-every 1\n");
  EXPECT_EQ(client.holding(0, 1).error, EMBBADCRC);
  EXPECT_EQ(peer.last_served()->outcome, "bad-crc");
  peer.set_faults("split-every 1\n");
  EXPECT_THAT(client.holding(0, 1).values, ElementsAre(0x1234));
  EXPECT_EQ(peer.last_served()->outcome, "split");
  EXPECT_EQ(peer.connections_accepted(), 1);

  peer.set_faults("close-every 1\n");
  EXPECT_NE(client.holding(0, 1).error, 0);
  EXPECT_EQ(peer.last_served()->outcome, "closed");
  auto again = Client::rtu_over_tcp(peer, 1);
  peer.set_faults("");
  EXPECT_THAT(again.holding(0, 1).values, ElementsAre(0x1234));
  EXPECT_EQ(peer.connections_accepted(), 2);
}

}  // namespace
}  // namespace rackwatch::test
