// The diag socket end to end: a real rackwatchd (a simulated rack, a fake
// hwmon tree, a Modbus device behind the libmodbus peer, a real Mosquitto)
// and the `rackwatch` verbs against it, in human and JSON forms; a failing
// device seen and healed; an agent that is not there; and clients that
// abuse the socket without harming the agent.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <fstream>
#include <random>

#include "support/modbus_peer.hpp"
#include "support/mosquitto.hpp"
#include "support/net.hpp"
#include "support/process.hpp"
#include "support/run.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace rackwatch::test {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

class DiagTest : public ::testing::Test {
 protected:
  void SetUp() override {
#if !RACKWATCH_WITH_HWMON || !RACKWATCH_WITH_MODBUS
    GTEST_SKIP() << "this agent reads an hwmon tree and a Modbus device; the build has "
                    "RACKWATCH_WITH_HWMON or RACKWATCH_WITH_MODBUS off";
#endif
    broker_.start();
    ModbusPeer::Options options;
    options.unit_maps = {{1, "holding 0 u16 ramp 2300 1\nholding 1 s16 3200\n"}};
    peer_.emplace(options);
    const auto root = dir_ / "hwmon";
    write_file(root / "hwmon2/name", "coretemp\n");
    write_file(root / "hwmon2/temp1_input", "45250\n");
    write_file(root / "hwmon2/temp2_input", "51000\n");
    socket_ = (dir_ / "diag.sock").string();
    write_file(dir_ / "agent.yaml", R"(agent: {site: hall-d, rack: r03, id: diag-agent}
mqtt:
  brokers: [)" + broker_.uri() + R"(]
  reconnect_min: 100ms
outbox: {dir: )" + (dir_ / "outbox").string() + R"(}
diag: {socket: )" + socket_ + R"(}
sources:
  - name: pdu
    type: sim
    interval: 200ms
    points:
      - {name: l1_power, signal: pdu.l1.power}
      - {name: l2_power, signal: pdu.l2.power}
      - {name: total_power, signal: pdu.total.power}
  - name: board
    type: hwmon
    interval: 200ms
    root: )" + root.string() + R"(
    points:
      - {name: package_temp, chip: coretemp, sensor: temp1}
      - {name: core_temp, chip: coretemp, sensor: temp2}
  - name: psu
    type: modbus
    interval: 200ms
    tcp: ')" + peer_->endpoint() + R"('
    unit: 1
    request_timeout: 100ms
    dormant_after: 2
    reprobe_min: 300ms
    reprobe_max: 300ms
    points:
      - {name: power, address: 0, quantity: power}
      - {name: temp, address: 1, type: s16, precision: 7, quantity: temperature}
)");
    agent_.emplace(std::vector<std::string>{bin("rackwatchd"), "--config", (dir_ / "agent.yaml").string()},
                   dir_.path());
    ASSERT_TRUE(wait_until([&] { return verb({"status"}).exit_code == 0; }, 10s)) << agent_->log();
    // Every source polled once, and connected.
    ASSERT_TRUE(wait_until(
        [&] {
          auto s = json({"status"});
          if (!s) return false;
          const auto& st = s->at("status").as_object();
          if (!st.at("broker").at("connected").as_bool()) return false;
          for (const auto& src : st.at("sources").as_array()) {
            if (src.at("state").as_string() == "starting") return false;
          }
          return true;
        },
        10s))
        << agent_->log();
  }

  RunResult verb(std::vector<std::string> args) { return rackwatch_verb(socket_, std::move(args)); }

  std::optional<boost::json::object> json(std::vector<std::string> args) {
    args.push_back("--json");
    auto r = verb(args);
    if (r.exit_code != 0 && r.exit_code != 1) return std::nullopt;
    try {
      return boost::json::parse(r.out).as_object();
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }

  std::map<std::string, boost::json::object> sources() {
    std::map<std::string, boost::json::object> out;
    auto s = json({"status"});
    if (!s) return out;
    for (const auto& src : s->at("status").at("sources").as_array()) {
      out[std::string(src.at("name").as_string())] = src.as_object();
    }
    return out;
  }

  long rss_kb() {
    std::ifstream in("/proc/" + std::to_string(agent_->pid()) + "/status");
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    }
    return -1;
  }

  TempDir dir_{"rackwatch-diag"};
  Mosquitto broker_;
  std::optional<ModbusPeer> peer_;
  std::optional<Process> agent_;
  std::string socket_;
};

TEST_F(DiagTest, StatusSaysWhatTheAgentIsDoing) {
  auto r = verb({"status"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("agent     diag-agent (site hall-d, rack r03), rackwatchd "));
  EXPECT_THAT(r.out, HasSubstr("config    " + (dir_ / "agent.yaml").string() + " (hash "));
  EXPECT_THAT(r.out, HasSubstr("broker    connected to " + broker_.uri()));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("pdu +sim +ok +3 +0 "));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("board +hwmon +ok +2 +0 "));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("psu +modbus +ok +2 +0 "));
  // The last poll's age and how long it took, each under its own heading.
  EXPECT_THAT(r.out, ::testing::ContainsRegex("LAST POLL +POLL TOOK +LAST ERROR"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("board +hwmon +ok +2 +0 +[0-9]+ +0 +[0-9.]+s ago +[0-9.]+(µs|ms|s)"));
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) EXPECT_LE(line.size(), 100u) << line;

  auto j = json({"status"});
  ASSERT_TRUE(j);
  const auto& st = j->at("status").as_object();
  EXPECT_EQ(st.at("agent_id").as_string(), "diag-agent");
  EXPECT_EQ(st.at("config_hash").as_string().size(), 16u);
  EXPECT_TRUE(st.at("broker").at("connected").as_bool());
  EXPECT_EQ(st.at("sources").as_array().size(), 3u);
  EXPECT_TRUE(st.contains("outbox"));
  EXPECT_EQ(j->at("error").as_string(), "");
}

TEST_F(DiagTest, ReadGivesTheLatestValuesWithUnitsAndFilters) {
  auto r = verb({"read"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, ::testing::ContainsRegex("board.package_temp +45.25 +°C +good"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("psu.temp +25 +°C +good"));
  EXPECT_THAT(r.out, HasSubstr("pdu.total_power"));

  auto j = json({"read", "--point", "*_temp"});
  ASSERT_TRUE(j);
  const auto& points = j->at("read").at("points").as_array();
  ASSERT_EQ(points.size(), 2u);
  EXPECT_EQ(points[0].at("id").as_string(), "board.package_temp");
  EXPECT_EQ(points[0].at("value").to_number<double>(), 45.25);
  EXPECT_EQ(points[0].at("unit_symbol").as_string(), "°C");
  EXPECT_EQ(points[0].at("quality").as_string(), "QUALITY_GOOD");

  j = json({"read", "--source", "psu"});
  ASSERT_TRUE(j);
  EXPECT_EQ(j->at("read").at("points").as_array().size(), 2u);

  r = verb({"read", "--source", "nope"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("no source named 'nope' (sources: pdu, board, psu)"));
}

TEST_F(DiagTest, DevicesAndPollShowModbusCountersAndFreshValues) {
  auto j = json({"devices"});
  ASSERT_TRUE(j);
  std::map<std::string, boost::json::object> devices;
  for (const auto& d : j->at("devices").at("devices").as_array()) {
    devices[std::string(d.at("source").as_string())] = d.as_object();
  }
  ASSERT_EQ(devices.size(), 3u);
  EXPECT_EQ(devices.at("psu").at("state").as_string(), "ok");
  bool saw_requests = false;
  for (const auto& c : devices.at("psu").at("counters").as_array()) {
    saw_requests = saw_requests || (c.at("name").as_string() == "requests" &&
                                    std::stoull(std::string(c.at("value").as_string())) > 0);
  }
  EXPECT_TRUE(saw_requests);
  // Every source type says when it last read its device.
  for (const auto& [name, device] : devices) {
    EXPECT_GT(std::stoll(std::string(device.at("last_success_ms").as_string())), 0) << name;
  }
  auto human = verb({"devices"});
  EXPECT_THAT(human.out, ::testing::ContainsRegex("psu +modbus +ok +[0-9.]+s ago"));
  EXPECT_THAT(human.out, ::testing::ContainsRegex("pdu +sim +ok +[0-9.]+s ago"));
  EXPECT_THAT(human.out, ::testing::ContainsRegex("board +hwmon +ok +[0-9.]+s ago"));
  EXPECT_THAT(human.out, HasSubstr("    unit 1 on tcp " + peer_->endpoint()));
  EXPECT_THAT(human.out, ::testing::ContainsRegex("requests=[1-9]"));
  std::istringstream lines(human.out);
  for (std::string line; std::getline(lines, line);) EXPECT_LE(line.size(), 100u) << line;

  const auto before = peer_->served().size();
  auto p = verb({"poll", "psu"});
  EXPECT_EQ(p.exit_code, 0) << p.err;
  EXPECT_THAT(p.out, ::testing::ContainsRegex("psu.power +2\\.3[0-9]* +kW +good"));
  EXPECT_GT(peer_->served().size(), before);
  auto missing = verb({"poll", "nope"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("no source named 'nope'"));
}

TEST_F(DiagTest, FailingDevicesShowWhyAndRecover) {
  // A removed hwmon file: the source is degraded, naming the file.
  fs::rename(dir_ / "hwmon/hwmon2/temp2_input", dir_ / "temp2_input.away");
  ASSERT_TRUE(wait_until([&] { return sources()["board"]["state"] == "degraded"; }, 5s));
  EXPECT_THAT(std::string(sources()["board"].at("last_error").as_string()), HasSubstr("temp2"));
  // A Modbus device that stops answering: degraded, then dormant.
  peer_->set_faults("drop-every 1\n");
  ASSERT_TRUE(wait_until([&] { return sources()["psu"]["state"] == "dormant"; }, 5s)) << verb({"status"}).out;
  EXPECT_THAT(verb({"status"}).out, ::testing::ContainsRegex("psu +modbus +dormant "));
  auto devices = verb({"devices"});
  EXPECT_THAT(devices.out, ::testing::ContainsRegex("psu +modbus +dormant "));
  EXPECT_THAT(devices.out, HasSubstr("timeout: no answer from unit 1"));
  EXPECT_THAT(devices.out, ::testing::ContainsRegex("timeouts=[2-9]"));

  // The server stopped altogether: refused connections, still dormant.
  const auto port = peer_->port();
  peer_.reset();
  ASSERT_TRUE(wait_until(
      [&] { return verb({"devices"}).out.find("Connection refused") != std::string::npos; }, 5s))
      << verb({"devices"}).out;
  EXPECT_EQ(sources()["psu"]["state"], "dormant");

  // Healed: the file back, a server on the same port: both ok in the view.
  fs::rename(dir_ / "temp2_input.away", dir_ / "hwmon/hwmon2/temp2_input");
  ModbusPeer::Options options;
  options.unit_maps = {{1, "holding 0 u16 ramp 2300 1\nholding 1 s16 3200\n"}};
  options.port = port;
  peer_.emplace(options);
  EXPECT_TRUE(wait_until(
      [&] {
        auto s = sources();
        return s["board"]["state"] == "ok" && s["psu"]["state"] == "ok";
      },
      5s))
      << verb({"status"}).out;
}

TEST(DiagNoAgentTest, SaysSoPlainlyWithExitTwo) {
  TempDir dir("rackwatch-diag");
  const auto socket = (dir.path() / "nobody.sock").string();
  for (const char* v : {"status", "read", "devices", "reload"}) {
    auto r = run({bin("rackwatch"), v, "--socket", socket});
    EXPECT_EQ(r.exit_code, 2) << v;
    EXPECT_THAT(r.err, HasSubstr("no agent is running: nothing answers on " + socket)) << v;
    EXPECT_THAT(r.err, HasSubstr("rackwatch probe --config FILE")) << v;
  }
}

// A device that has not answered yet: a listener that accepts connections
// in its backlog and never reads. Until the agent's first read of it times
// out, its points have never been read, and must say so everywhere. The
// broker is not there either: status says why it cannot connect.
TEST(DiagNotReadYetTest, APointNeverReadIsUnknownWithNoValue) {
#if !RACKWATCH_WITH_MODBUS
  GTEST_SKIP() << "needs a Modbus source; the build has RACKWATCH_WITH_MODBUS off";
#endif
  TempDir dir("rackwatch-diag");
  detail::Fd silent{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  sockaddr_in addr = detail::loopback(0);
  ASSERT_EQ(::bind(silent.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(silent.fd, 4), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(silent.fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const auto socket = (dir / "diag.sock").string();
  const auto broker_port = std::to_string(free_port());  // no broker there
  write_file(dir / "agent.yaml", "agent: {site: a, rack: b}\nmqtt: {brokers: [tcp://127.0.0.1:" +
                                     broker_port + "]}\noutbox: {dir: " + (dir / "outbox").string() +
                                     "}\ndiag: {socket: " + socket +
                                     "}\nsources:\n  - {name: psu, type: modbus, interval: 30s, timeout: 20s, request_timeout: 20s, "
                                     "tcp: '127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) +
                                     "', unit: 1, points: [{name: power, address: 0, quantity: power}]}\n");
  Process agent({bin("rackwatchd"), "--config", (dir / "agent.yaml").string()}, dir.path());
  ASSERT_TRUE(wait_until([&] { return rackwatch_verb(socket, {"status"}).exit_code == 0; }, 10s)) << agent.log();

  auto r = rackwatch_verb(socket, {"read", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto doc = boost::json::parse(r.out).as_object();
  const auto& point = doc.at("read").at("points").at(0).as_object();
  EXPECT_EQ(point.at("id").as_string(), "psu.power");
  EXPECT_EQ(point.at("quality").as_string(), "QUALITY_UNKNOWN") << r.out;
  EXPECT_FALSE(point.contains("value")) << "no value is shown for a point never read: " << r.out;
  EXPECT_EQ(point.at("reason").as_string(), "not read yet");
  EXPECT_EQ(point.at("time_ms").as_string(), "0");

  auto table = rackwatch_verb(socket, {"read"});
  EXPECT_THAT(table.out, ::testing::ContainsRegex("psu\\.power +- +W +unknown +never +not read yet")) << table.out;

  // And the broker that is not there: why, and where, in status and log.
  const auto refused = "connection refused by 127.0.0.1:" + broker_port + ": nothing listens on port " + broker_port;
  ASSERT_TRUE(wait_until([&] { return rackwatch_verb(socket, {"status"}).out.find(refused) != std::string::npos; }, 10s))
      << rackwatch_verb(socket, {"status"}).out;
  EXPECT_THAT(agent.log(), HasSubstr(refused));
}

// Connects to the socket; -1 on failure.
int connect_to(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

TEST_F(DiagTest, AbusiveClientsDoNotHarmTheAgent) {
  const long rss_before = rss_kb();
  // A thousand connects and disconnects.
  for (int i = 0; i < 1000; ++i) {
    const int fd = connect_to(socket_);
    ASSERT_GE(fd, 0) << i;
    ::close(fd);
  }
  // A 4 GiB length prefix: dropped, not allocated.
  {
    const int fd = connect_to(socket_);
    const unsigned char huge[4] = {0xFF, 0xFF, 0xFF, 0xFF};
    ASSERT_EQ(::send(fd, huge, 4, MSG_NOSIGNAL), 4);
    char c;
    EXPECT_EQ(::recv(fd, &c, 1, 0), 0) << "the agent closes the connection";
    ::close(fd);
  }
  // Random bytes.
  std::mt19937 rng(7);
  for (int i = 0; i < 50; ++i) {
    const int fd = connect_to(socket_);
    std::string junk(64 + static_cast<std::size_t>(i), '\0');
    for (auto& ch : junk) ch = static_cast<char>(rng());
    junk[0] = 0;
    junk[1] = 0;  // a plausible length, then garbage
    ::send(fd, junk.data(), junk.size(), MSG_NOSIGNAL);
    ::close(fd);
  }
  // A client that asks and asks and never reads its answers.
  const int greedy = connect_to(socket_);
  {
    const std::string status_request("\x00\x00\x00\x02\x0a\x00", 6);
    for (int i = 0; i < 2000; ++i) {
      if (::send(greedy, status_request.data(), status_request.size(), MSG_NOSIGNAL | MSG_DONTWAIT) < 0) break;
    }
  }
  // Another client is served all the while, and the agent keeps publishing.
  const auto seq_before = json({"status"})->at("status").at("telemetry_sequence").as_string();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(verb({"status"}).exit_code, 0);
  // Its answers wait past the 5 s write limit: the agent drops it, which
  // its socket shows as the peer's hang-up, with the answers still unread.
  pollfd hup{greedy, POLLRDHUP, 0};
  EXPECT_EQ(::poll(&hup, 1, 20'000), 1) << "the greedy client is still connected after 20 s";
  EXPECT_NE(hup.revents & (POLLRDHUP | POLLHUP), 0) << "revents " << hup.revents;
  ::close(greedy);
  auto after = json({"status"});
  ASSERT_TRUE(after) << agent_->log();
  EXPECT_GT(std::stoull(std::string(after->at("status").at("telemetry_sequence").as_string())),
            std::stoull(std::string(seq_before)));
  EXPECT_TRUE(agent_->running());
  const long rss_after = rss_kb();
  std::cout << "agent RSS: " << rss_before << " kB before, " << rss_after << " kB after the abuse\n";
  EXPECT_LT(rss_after, rss_before + 20'000) << "memory must not grow without bound";
}

// Reads one answer frame on fd within 10 s; false when none comes.
bool read_answer(int fd) {
  auto read = [fd](char* out, std::size_t size) {
    for (std::size_t done = 0; done < size;) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 10'000) != 1) return false;
      const auto n = ::recv(fd, out + done, size - done, 0);
      if (n <= 0) return false;
      done += static_cast<std::size_t>(n);
    }
    return true;
  };
  unsigned char header[4];
  if (!read(reinterpret_cast<char*>(header), 4)) return false;
  std::string body((std::size_t{header[0]} << 24) | (std::size_t{header[1]} << 16) | (std::size_t{header[2]} << 8) |
                       std::size_t{header[3]},
                   '\0');
  return read(body.data(), body.size());
}

// Members of the socket's group holding every one of its 32 slots, each
// having asked once and staying, as a script asking every 20 s would:
// `rackwatch status` is still answered, and the agent says so once.
TEST_F(DiagTest, IdleConnectionsHoldingEverySlotDoNotLockOutStatus) {
  const std::string status_request("\x00\x00\x00\x02\x0a\x00", 6);
  std::vector<int> held;
  for (int i = 0; i < 32; ++i) {
    const int fd = connect_to(socket_);
    ASSERT_GE(fd, 0) << i;
    held.push_back(fd);
    ASSERT_EQ(::send(fd, status_request.data(), status_request.size(), MSG_NOSIGNAL), 6) << i;
    ASSERT_TRUE(read_answer(fd)) << "held client " << i;
  }
  for (int i = 0; i < 3; ++i) {
    const auto start = std::chrono::steady_clock::now();
    auto r = verb({"status"});
    const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("agent     diag-agent"));
    std::cout << "rackwatch status with 32 connections held: " << took.count() << " ms\n";
  }
  std::size_t warnings = 0;
  std::istringstream lines(agent_->log());
  for (std::string line; std::getline(lines, line);) warnings += line.find("client slots taken") != std::string::npos;
  EXPECT_EQ(warnings, 1u) << agent_->log();
  for (const int fd : held) ::close(fd);
}

}  // namespace
}  // namespace rackwatch::test
