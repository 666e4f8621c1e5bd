// Modbus sources against the libmodbus peer acting as a TCP gateway (and an
// RS-485 bus): four unit ids with 300 points share one connection and are
// read in the fewest requests the limits allow, counted at the server; every
// fault the peer can inject gives its own counter and a bad quality with the
// reason; a failing device goes dormant after N failures and comes back when
// healed, while a healthy device behind the same gateway reads every tick;
// registers that answer "illegal data address" are disabled and the rest read.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include "core/config.hpp"
#include "sources/modbus/modbus_source.hpp"
#include "support/modbus_gateway.hpp"
#include "support/modbus_peer.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"
#include "sources/builtin/builtin_types.hpp"

namespace rackwatch::modbus {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using test::ModbusPeer;
using test::ServedRequest;
using test::GatewayPoint;
using test::unit_map;
using test::unit_points;
using test::unit_profile;

std::string lines_of(const Diagnostics& d) {
  std::string out;
  for (const auto& i : d.items()) out += format_mark(i.mark) + ": " + i.message + "\n";
  return out;
}

// Sources made from one config text with one env, so that sources on the
// same endpoint share a link, as in the agent; polled tick by tick.
class Rig {
 public:
  explicit Rig(const std::string& sources_yaml) {
    const std::string text =
        "agent: {site: s, rack: r}\nmqtt: {brokers: [tcp://127.0.0.1:1883]}\nsources:\n" + sources_yaml;
    Diagnostics d;
    auto cfg = parse_config(text, (dir_.path() / "rack.yaml").string(), builtin_source_types(), d);
    if (!cfg) throw std::runtime_error("config: " + lines_of(d));
    config_ = std::move(*cfg);
    for (const auto& sc : config_.sources) {
      sources_.push_back(std::shared_ptr<ModbusSource>(
          dynamic_cast<ModbusSource*>(modbus_source_type().create(sc, env_).release())));
    }
  }

  // Polls every source at once, as the scheduler does on a shared tick.
  std::vector<std::vector<RawReading>> tick() {
    std::vector<std::vector<RawReading>> out(sources_.size());
    std::size_t done = 0;
    for (std::size_t i = 0; i < sources_.size(); ++i) {
      asio::co_spawn(
          io_,
          [this, i, &out, &done]() -> asio::awaitable<void> {
            out[i] = co_await sources_[i]->poll();
            ++done;
          },
          asio::detached);
    }
    io_.restart();
    io_.run_for(10s);
    if (done != sources_.size()) throw std::runtime_error("a poll did not finish");
    return out;
  }

  ModbusSource& source(std::size_t i) { return *sources_.at(i); }
  const SourceConfig& config(std::size_t i) const { return config_.sources.at(i); }
  const std::filesystem::path& dir() const { return dir_.path(); }

 private:
  test::TempDir dir_{"rackwatch-modbus"};
  Config config_;
  asio::io_context io_;
  asio::thread_pool pool_{1};
  SourceEnv env_{io_.get_executor(), pool_.get_executor()};
  std::vector<std::shared_ptr<ModbusSource>> sources_;
};

std::uint64_t counter(const SourceHealth& h, const std::string& name) {
  for (const auto& [k, v] : h.counters) {
    if (k == name) return v;
  }
  ADD_FAILURE() << "no counter " << name;
  return 0;
}

std::vector<ServedRequest> served_since(const ModbusPeer& peer, std::size_t from) {
  auto all = peer.served();
  return {all.begin() + static_cast<std::ptrdiff_t>(std::min(from, all.size())), all.end()};
}

// ---------------------------------------------------------------------------
// Four devices behind one gateway, 300 points.

// The value of `p` from the registers of the served read that covers it.
std::optional<double> served_value(const std::vector<ServedRequest>& served, int unit, const GatewayPoint& p) {
  for (const auto& r : served) {
    if (r.unit != unit || r.outcome != "ok" || r.table != p.table) continue;
    if (p.address < r.addr || p.address + p.count > r.addr + r.count) continue;
    const auto at = [&](int k) { return r.data.at(static_cast<std::size_t>(p.address - r.addr + k)); };
    if (p.type == "u16" || p.type == "bit") return at(0);
    if (p.type == "s16") return static_cast<std::int16_t>(at(0));
    if (p.type == "u32") return at(0) * 65536.0 + at(1);
    if (p.type == "f32") {  // cdab: the low word first
      const std::uint32_t bits = (at(1) << 16) | at(0);
      return static_cast<double>(std::bit_cast<float>(bits));
    }
  }
  return std::nullopt;
}

TEST(ModbusGatewayTest, FourUnitsThreeHundredPointsInTheFewestRequests) {
  ModbusPeer::Options options;
  for (int unit = 1; unit <= 4; ++unit) options.unit_maps.push_back({unit, unit_map(unit)});
  ModbusPeer peer(options);

  std::string sources;
  test::TempDir profiles("rackwatch-profiles");
  for (int unit = 1; unit <= 4; ++unit) {
    const auto file = profiles.path() / ("unit" + std::to_string(unit) + ".yaml");
    std::ofstream(file) << unit_profile(unit);
    sources += "  - {name: dev" + std::to_string(unit) + ", type: modbus, interval: 1s, tcp: '" + peer.endpoint() +
               "', unit: " + std::to_string(unit) + ", profile: " + file.string() +
               (unit == 4 ? ", max_gap: 1" : "") + "}\n";
  }
  Rig rig(sources);
  std::size_t points = 0;
  for (std::size_t i = 0; i < 4; ++i) points += rig.config(i).points.size();
  ASSERT_EQ(points, 300u);
  // One connection for all four: the link is shared.
  for (std::size_t i = 1; i < 4; ++i) EXPECT_EQ(&rig.source(i).link(), &rig.source(0).link());

  for (double clock : {0.0, 7.0, 31.0}) {
    peer.set_clock(clock);
    const auto before = peer.served().size();
    const auto readings = rig.tick();
    const auto served = served_since(peer, before);
    EXPECT_EQ(served.size(), 7u) << "300 points need 7 reads, no more";
    std::map<int, int> per_unit;
    for (const auto& r : served) {
      ++per_unit[r.unit];
      EXPECT_EQ(r.outcome, "ok");
      EXPECT_LE(r.count, 125);
    }
    EXPECT_EQ(per_unit, (std::map<int, int>{{1, 1}, {2, 2}, {3, 2}, {4, 2}}));
    for (int unit = 1; unit <= 4; ++unit) {
      const auto pts = unit_points(unit);
      const auto& got = readings.at(static_cast<std::size_t>(unit - 1));
      ASSERT_EQ(got.size(), pts.size());
      for (std::size_t k = 0; k < pts.size(); ++k) {
        SCOPED_TRACE("unit " + std::to_string(unit) + " " + pts[k].yaml);
        ASSERT_TRUE(got[k].ok()) << got[k].error;
        const auto expected = served_value(served, unit, pts[k]);
        ASSERT_TRUE(expected.has_value());
        EXPECT_EQ(got[k].value, *expected);
      }
    }
  }
  EXPECT_EQ(rig.source(0).link().counters().requests, 21u);
}

// ---------------------------------------------------------------------------
// Faults on one device behind a gateway; a healthy one beside it.

constexpr const char* kDeviceMap = R"(holding 0 u16 ramp 100 1
holding 1 s16 ramp -20 1
holding 2 u32 ramp 70000 5
holding 10 u16 ramp 500 2
)";
constexpr const char* kDeviceProfile = R"(description: fault test device
points:
  - {name: a, address: 0, quantity: power}
  - {name: b, address: 1, type: s16, quantity: temperature}
  - {name: c, address: 2, type: u32, quantity: energy}
  - {name: d, address: 10, quantity: power}
)";

class ModbusFaultTest : public ::testing::Test {
 protected:
  void start(bool rtu = false) {
    ModbusPeer::Options options;
    options.rtu = rtu;
    options.unit_maps = {{1, kDeviceMap}, {2, kDeviceMap}};
    peer_.emplace(options);
    std::ofstream(profile_dir_.path() / "device.yaml") << kDeviceProfile;
    const std::string link = rtu ? "rtu: {device: " + peer_->pty_path() + "}" : "tcp: '" + peer_->endpoint() + "'";
    const std::string common = ", type: modbus, interval: 1s, timeout: 900ms, request_timeout: 200ms, " + link +
                               ", profile: " + (profile_dir_.path() / "device.yaml").string() +
                               ", dormant_after: 3, reprobe_min: 1s, reprobe_max: 2s";
    rig_.emplace("  - {name: sick, unit: 1" + common + "}\n  - {name: well, unit: 2" + common + "}\n");
  }

  // One tick; the healthy device must have read every point.
  std::vector<RawReading> tick() {
    auto r = rig_->tick();
    for (const auto& reading : r.at(1)) EXPECT_TRUE(reading.ok()) << "healthy device: " << reading.error;
    return r.at(0);
  }

  SourceHealth sick() { return rig_->source(0).health(); }

  // The faults file replaces the command line's options: each fault set
  // names the unit it applies to again; empty heals.
  void faults(const std::string& text) { peer_->set_faults(text.empty() ? "" : text + "fault-unit 1\n"); }

  test::TempDir profile_dir_{"rackwatch-profile"};
  std::optional<ModbusPeer> peer_;
  std::optional<Rig> rig_;
};

void expect_all_bad(const std::vector<RawReading>& readings, const std::string& reason) {
  ASSERT_EQ(readings.size(), 4u);
  for (const auto& r : readings) {
    EXPECT_FALSE(r.ok());
    EXPECT_THAT(r.error, HasSubstr(reason));
  }
}

void expect_all_good(const std::vector<RawReading>& readings) {
  ASSERT_EQ(readings.size(), 4u);
  for (const auto& r : readings) EXPECT_TRUE(r.ok()) << r.error;
}

TEST_F(ModbusFaultTest, NoAnswerGoesDormantAfterThreeAndRecoversWhenHealed) {
  start();
  expect_all_good(tick());
  faults("drop-every 1\n");
  for (int i = 1; i <= 3; ++i) {
    expect_all_bad(tick(), "timeout: no answer from unit 1");
    EXPECT_EQ(sick().state, i < 3 ? DeviceState::degraded : DeviceState::dormant);
  }
  EXPECT_EQ(counter(sick(), "timeouts"), 3u);
  EXPECT_EQ(counter(sick(), "dormant"), 1u);
  // Dormant: not asked at all until the probe is due.
  const auto before = peer_->served().size();
  expect_all_bad(tick(), "device dormant after 3 failures");
  for (const auto& r : served_since(*peer_, before)) EXPECT_EQ(r.unit, 2) << "a dormant device is left alone";
  EXPECT_EQ(counter(sick(), "dormant_polls"), 1u);

  faults("");
  // The probe comes within reprobe_min (1 s); the device is back.
  ASSERT_TRUE(test::wait_until([&] { return tick().at(0).ok(); }, 5s));
  EXPECT_EQ(sick().state, DeviceState::ok);
  expect_all_good(tick());
  EXPECT_GE(counter(sick(), "answers"), 3u);
}

TEST_F(ModbusFaultTest, LateAnswerIsATimeoutAndTheNextReadIsNotConfusedByIt) {
  start();
  // 250 ms: past the 200 ms request timeout, and short enough that the
  // single-threaded peer (a gateway stalled by one device) still answers the
  // healthy device within its own.
  faults("delay-ms 250\n");
  expect_all_bad(tick(), "timeout");
  EXPECT_EQ(counter(sick(), "timeouts"), 1u);
  faults("");
  const auto r = tick();
  expect_all_good(r);
  EXPECT_EQ(r[0].value, 100) << "a value of this poll, not the late answer's";
}

TEST_F(ModbusFaultTest, ExceptionIsCountedButDoesNotMakeTheDeviceDormant) {
  start();
  faults("exception-at 0 4\n");
  for (int i = 0; i < 4; ++i) {
    const auto r = tick();
    ASSERT_EQ(r.size(), 4u);
    for (std::size_t k = 0; k < 3; ++k) EXPECT_THAT(r[k].error, HasSubstr("server device failure"));
    EXPECT_TRUE(r[3].ok()) << "another read of the device is unaffected: " << r[3].error;
  }
  EXPECT_EQ(counter(sick(), "exceptions"), 4u);
  EXPECT_EQ(sick().state, DeviceState::ok);
}

TEST_F(ModbusFaultTest, WrongTransactionIdAndShortFrameAreFramingErrors) {
  start();
  faults("wrong-tid-every 1\n");
  expect_all_bad(tick(), "transaction");
  faults("short-every 1\n");
  auto r = tick();
  ASSERT_FALSE(r[0].ok());
  EXPECT_EQ(counter(sick(), "framing_errors"), 2u);
  EXPECT_EQ(sick().state, DeviceState::degraded);
  faults("");
  expect_all_good(tick());
  EXPECT_EQ(sick().state, DeviceState::ok);
}

TEST_F(ModbusFaultTest, DroppedConnectionIsAnIoErrorAndTheNextTickReconnects) {
  start();
  faults("close-every 1\n");
  expect_all_bad(tick(), "closed the connection");
  EXPECT_EQ(counter(sick(), "io_errors"), 1u);
  faults("");
  expect_all_good(tick());
}

TEST_F(ModbusFaultTest, BadCrcOnTheBusIsACrcErrorAndGoesDormantLikeAnyFailure) {
  start(/*rtu=*/true);
  expect_all_good(tick());
  faults("corrupt-crc-every 1\n");
  for (int i = 0; i < 3; ++i) expect_all_bad(tick(), "CRC");
  EXPECT_EQ(counter(sick(), "crc_errors"), 3u);
  EXPECT_EQ(sick().state, DeviceState::dormant);
  faults("");
  ASSERT_TRUE(test::wait_until([&] { return tick().at(0).ok(); }, 5s));
  EXPECT_EQ(sick().state, DeviceState::ok);
}

// ---------------------------------------------------------------------------
// Registers the device refuses.

TEST(ModbusIllegalAddressTest, RefusedRegisterIsDisabledAndTheRestKeepReading) {
  ModbusPeer::Options options;
  options.map = "holding 0 u16 11\nholding 1 u16 12\nholding 2-3 unreadable\nholding 4 u16 14\nholding 5 u16 15\n";
  ModbusPeer peer(options);
  test::TempDir dir("rackwatch-profile");
  std::ofstream(dir.path() / "p.yaml") << R"(description: refusing device
points:
  - {name: a, address: 0, quantity: power}
  - {name: b, address: 1, quantity: power}
  - {name: c, address: 2, quantity: power}
  - {name: d, address: 4, quantity: power}
  - {name: e, address: 5, quantity: power}
)";
  Rig rig("  - {name: dev, type: modbus, interval: 1s, tcp: '" + peer.endpoint() + "', unit: 1, profile: " +
          (dir.path() / "p.yaml").string() + ", max_gap: 2}\n");
  ASSERT_EQ(rig.source(0).spans().size(), 1u) << "planned as one read of 0..5";

  auto r = rig.tick().at(0);
  // The joint read is refused, each point is then read alone: c is refused
  // and disabled; the others are read in this same poll.
  EXPECT_EQ(r[0].value, 11);
  EXPECT_EQ(r[1].value, 12);
  EXPECT_FALSE(r[2].ok());
  EXPECT_THAT(r[2].error, HasSubstr("illegal data address"));
  EXPECT_EQ(r[3].value, 14);
  EXPECT_EQ(r[4].value, 15);
  const auto h = rig.source(0).health();
  EXPECT_THAT(h.notes, ::testing::Contains(HasSubstr("holding register 2 disabled: illegal data address")));
  EXPECT_EQ(h.state, DeviceState::ok) << "a refusal is an answer";

  // From now on: two reads around the disabled register, and c says why.
  const auto before = peer.served().size();
  r = rig.tick().at(0);
  const auto served = served_since(peer, before);
  ASSERT_EQ(served.size(), 2u);
  EXPECT_EQ(served[0].addr, 0);
  EXPECT_EQ(served[0].count, 2);
  EXPECT_EQ(served[1].addr, 4);
  EXPECT_EQ(served[1].count, 2);
  EXPECT_TRUE(r[0].ok() && r[1].ok() && r[3].ok() && r[4].ok());
  EXPECT_THAT(r[2].error, HasSubstr("disabled"));
}

TEST(ModbusIllegalAddressTest, RefusedGapIsNotReadThroughAgain) {
  ModbusPeer::Options options;
  options.map = "holding 0 u16 1\nholding 1 unreadable\nholding 2 u16 3\n";
  // `unreadable` for one register is written as a range.
  options.map = "holding 0 u16 1\nholding 1-1 unreadable\nholding 2 u16 3\n";
  ModbusPeer peer(options);
  test::TempDir dir("rackwatch-profile");
  std::ofstream(dir.path() / "p.yaml") << R"(description: gap device
points:
  - {name: a, address: 0, quantity: power}
  - {name: b, address: 2, quantity: power}
)";
  Rig rig("  - {name: dev, type: modbus, interval: 1s, tcp: '" + peer.endpoint() + "', unit: 1, profile: " +
          (dir.path() / "p.yaml").string() + ", max_gap: 1}\n");
  auto r = rig.tick().at(0);
  EXPECT_TRUE(r[0].ok() && r[1].ok()) << r[0].error << " / " << r[1].error;
  EXPECT_THAT(rig.source(0).health().notes, ::testing::Contains(HasSubstr("holding register 1 disabled")));
  EXPECT_EQ(rig.source(0).spans().size(), 2u);
  const auto before = peer.served().size();
  r = rig.tick().at(0);
  EXPECT_TRUE(r[0].ok() && r[1].ok());
  EXPECT_EQ(served_since(peer, before).size(), 2u);
}

}  // namespace
}  // namespace rackwatch::modbus
