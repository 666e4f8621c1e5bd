// Acceptance of the shipped device profiles (Modbus issue, items 1 and 2):
// every point of every profile in config/profiles/ decodes to the value a
// libmodbus server meant, over Modbus TCP, over Modbus RTU (a pty at
// 19200 8E1) and over RTU frames on TCP (as a serial device server carries
// them).
//
// For each profile the test writes a register map for the `modbus_peer`
// (tests/peers) that serves every point with a generator (sine, ramp or
// counter) kept inside the point's min/max, polls the agent's ModbusSource
// at several peer clocks, and checks every reading of every poll. A second
// unit serves the "not implemented" sentinels of each point's type (and of
// one SunSpec scale factor) for one more poll.
//
// Why this is independent of the agent: the expected value of a point is
// computed here, from
//   - the registers the peer logged serving in that poll (its served log
//     holds the exact register values of every answer), and
//   - the point's format read straight from the profile YAML with yaml-cpp
//     (not through the agent's profile loader),
// by the small decoder in support/modbus_expected.hpp (decode_expected),
// which is itself pinned to hand-computed vectors (ModbusProfileDecoder.*).
// The maps and the check of a poll are in support/modbus_profile_maps.hpp,
// shared with the SunSpec discovery test. The only thing taken from
// the agent is the device unit's factor and offset into the canonical unit
// (PointConfig::from), for the conditioned value.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <iomanip>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <yaml-cpp/yaml.h>

#include "core/config.hpp"
#include "core/diagnostics.hpp"
#include "core/reading.hpp"
#include "pipeline/condition.hpp"
#include "sources/modbus/modbus_source.hpp"
#include "sources/source.hpp"
#include "support/modbus_expected.hpp"
#include "support/config_text.hpp"
#include "support/modbus_peer.hpp"
#include "support/modbus_profile_maps.hpp"
#include "support/run.hpp"
#include "sources/builtin/builtin_types.hpp"
#include "sources/profile_file.hpp"

namespace rackwatch {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using test::ModbusPeer;
using test::ServedRequest;
using namespace test;  // the expected values (support/modbus_expected.hpp)

// ---------------------------------------------------------------------------
// The agent's side: config text, sources, polls.

enum class Transport { tcp, rtu, rtu_over_tcp };

const char* transport_name(Transport t) {
  switch (t) {
    case Transport::tcp: return "tcp";
    case Transport::rtu: return "rtu";
    case Transport::rtu_over_tcp: return "rtu_over_tcp";
  }
  return "?";
}

void PrintTo(Transport t, std::ostream* os) { *os << transport_name(t); }

// The link's config line for a peer on `transport`.
std::string link_config(Transport transport, const ModbusPeer& peer) {
  switch (transport) {
    case Transport::tcp: return "tcp: " + peer.endpoint();
    case Transport::rtu: return "rtu: {device: " + peer.pty_path() + ", baud: 19200, parity: even}";
    case Transport::rtu_over_tcp: return "rtu_over_tcp: " + peer.endpoint();
  }
  return {};
}

// Two sources on one link: unit 1 serves the normal map, unit 2 the
// sentinels. No `points:`, so each reads every point of the profile, in
// profile order. Generous timeouts: a loaded machine must not fail a read.
std::string config_text(const std::string& profile, const std::string& link) {
  std::string text = "agent: {site: s, rack: r}\nmqtt: {brokers: [\"tcp://127.0.0.1:1883\"]}\nsources:\n";
  for (int unit : {1, 2}) {
    text += "  - name: dev" + std::to_string(unit) + "\n    type: modbus\n    interval: 10s\n"
            "    timeout: 5s\n    request_timeout: 2s\n    " + link + "\n    unit: " + std::to_string(unit) +
            "\n    profile: " + profile + "\n";
  }
  return text;
}

Config parse(const std::string& text) { return test::parse_config_text(text); }

// ---------------------------------------------------------------------------
// The tests: one per shipped profile and transport.

std::vector<std::string> shipped_profiles() {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(test::source_path("config/profiles"))) {
    if (entry.path().extension() == ".yaml" && profile_kind(entry.path().string()) == ProfileKind::modbus) {
      names.push_back(entry.path().stem().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string profile_file(const std::string& name) {
  return test::source_path("config/profiles/" + name + ".yaml");
}

using Param = std::tuple<std::string, Transport>;

class ModbusProfileTest : public ::testing::TestWithParam<Param> {};

TEST_P(ModbusProfileTest, EveryPointDecodesAsServed) {
  const auto& [name, transport] = GetParam();
  const ProfileSpec spec = read_profile_yaml(profile_file(name));
  ASSERT_FALSE(spec.points.empty());

  // The device units of the points as the agent reads them (for the map's
  // ranges); the link here is a placeholder.
  const Config placeholder = parse(config_text(spec.path, "tcp: 127.0.0.1:1"));
  const MapWriter maps(spec, placeholder.sources[0].points);

  ModbusPeer::Options options;
  options.rtu = transport == Transport::rtu;
  options.rtu_over_tcp = transport == Transport::rtu_over_tcp;
  options.unit_maps = {{1, maps.normal()}, {2, maps.sentinels()}};
  ModbusPeer peer(options);
  const Config config = parse(config_text(spec.path, link_config(transport, peer)));
  ASSERT_EQ(config.sources.size(), 2u);
  const SourceConfig& normal_config = config.sources[0];
  const SourceConfig& sentinel_config = config.sources[1];
  ASSERT_EQ(normal_config.points.size(), spec.points.size());
  for (std::size_t i = 0; i < spec.points.size(); ++i) {
    ASSERT_EQ(normal_config.points[i].name, spec.points[i].name) << "points in profile order";
  }

  asio::io_context io;
  asio::thread_pool pool(1);
  const SourceEnv env{io.get_executor(), pool.get_executor()};
  const auto normal = modbus::modbus_source_type().create(normal_config, env);
  const auto sentinels = modbus::modbus_source_type().create(sentinel_config, env);

  // Polls `source` at peer clock t; the peer's answers during it, of `unit`.
  auto poll_at = [&](Source& source, int unit, double t) {
    peer.set_clock(t);
    const std::size_t before = peer.served().size();
    auto readings = poll(io, source);
    auto all = peer.served();
    std::vector<ServedRequest> during;
    for (std::size_t k = before; k < all.size(); ++k) {
      EXPECT_EQ(all[k].unit, unit) << "request seq " << all[k].seq;
      EXPECT_EQ(all[k].outcome, "ok") << "request seq " << all[k].seq << " at " << all[k].table << " "
                                      << all[k].addr;
      if (all[k].unit == unit) during.push_back(all[k]);
    }
    return std::pair{std::move(readings), std::move(during)};
  };

  std::vector<PollRecord> records;
  for (double t : kPollClocks) {
    SCOPED_TRACE("poll at peer clock " + number(t));
    const auto [readings, served] = poll_at(*normal, 1, t);
    records.push_back(check_poll(spec, normal_config, readings, served));
    // The map keeps every point inside its range: all good.
    EXPECT_EQ(records.back().good, static_cast<int>(spec.points.size()))
        << "points good of " << spec.points.size() << "; the map:\n" << maps.normal();
  }

  // Changing values: every point that has registers of its own was served
  // more than one value over the polls.
  std::set<std::pair<std::string, std::uint32_t>> seen;
  for (std::size_t i = 0; i < spec.points.size(); ++i) {
    const auto& p = spec.points[i];
    if (!seen.insert({p.table, p.address}).second) continue;  // a bit of a word already checked
    std::set<std::vector<std::uint16_t>> values;
    for (const auto& r : records) {
      if (r.served[i]) values.insert(*r.served[i]);
    }
    EXPECT_GT(values.size(), 1u) << "point " << p.name << " was served one value at every poll";
  }

  {
    SCOPED_TRACE("poll of the sentinel map (unit 2)");
    const auto [readings, served] = poll_at(*sentinels, 2, kSentinelPollClock);
    const PollRecord r = check_poll(spec, sentinel_config, readings, served);
    // The poll did serve what it is for.
    const bool any_sentinels_on = std::any_of(spec.points.begin(), spec.points.end(),
                                              [](const PointSpec& p) { return p.sentinels; });
    const bool any_sentinels_off = std::any_of(spec.points.begin(), spec.points.end(),
                                               [](const PointSpec& p) { return !p.sentinels && p.type != "bit"; });
    const bool any_scale_factor = std::any_of(spec.points.begin(), spec.points.end(),
                                              [](const PointSpec& p) { return p.scale_factor.has_value(); });
    if (any_sentinels_on) {
      EXPECT_GT(r.value_sentinels, 0) << "no point was served its sentinel";
    }
    if (any_sentinels_off) {
      EXPECT_GT(r.sentinels_as_numbers, 0) << "no sentinel served where sentinels are off";
    }
    if (any_scale_factor) {
      EXPECT_GT(r.scale_factor_sentinels, 0) << "no scale factor sentinel served";
    }
  }
}

std::string param_name(const ::testing::TestParamInfo<Param>& info) {
  std::string name = std::get<0>(info.param);
  for (auto& c : name) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0) c = '_';
  }
  return name + "_" + transport_name(std::get<1>(info.param));
}

INSTANTIATE_TEST_SUITE_P(ModbusProfiles, ModbusProfileTest,
                         ::testing::Combine(::testing::ValuesIn(shipped_profiles()),
                                            ::testing::Values(Transport::tcp, Transport::rtu,
                                                              Transport::rtu_over_tcp)),
                         param_name);

// `address_offset` reads a profile's block where the device repeats it: the
// Eaton PXG card's breaker 14 sits 13 x 200 registers after breaker 1. The
// peer serves the profile's points only at the moved addresses, so a read
// of the unmoved ones would be refused (illegal data address).
TEST(ModbusProfileOffset, AnAddressOffsetReadsTheBlockWhereTheDeviceRepeatsIt) {
  constexpr std::uint32_t kOffset = 2600;
  ProfileSpec spec = read_profile_yaml(profile_file("eaton-pxg-breaker"));
  ASSERT_FALSE(spec.points.empty());
  for (auto& p : spec.points) p.address += kOffset;

  std::string text = config_text(spec.path, "tcp: 127.0.0.1:1");
  const std::string placement = "    address_offset: " + std::to_string(kOffset) + "\n";
  const Config placeholder = parse(text.substr(0, text.find("  - name: dev2")) + placement);
  const MapWriter maps(spec, placeholder.sources[0].points);

  ModbusPeer::Options options;
  options.unit_maps = {{1, maps.normal()}};
  ModbusPeer peer(options);
  text = config_text(spec.path, "tcp: " + peer.endpoint());
  const Config config = parse(text.substr(0, text.find("  - name: dev2")) + placement);
  ASSERT_EQ(config.sources.size(), 1u);

  asio::io_context io;
  asio::thread_pool pool(1);
  const SourceEnv env{io.get_executor(), pool.get_executor()};
  const auto source = modbus::modbus_source_type().create(config.sources[0], env);
  for (double t : kPollClocks) {
    SCOPED_TRACE("poll at peer clock " + number(t));
    peer.set_clock(t);
    const std::size_t before = peer.served().size();
    const auto readings = poll(io, *source);
    const auto all = peer.served();
    const std::vector<ServedRequest> during(all.begin() + static_cast<std::ptrdiff_t>(before), all.end());
    ASSERT_FALSE(during.empty());
    for (const auto& r : during) {
      EXPECT_EQ(r.outcome, "ok") << r.table << " " << r.addr;
      EXPECT_GE(r.addr, 1033 + kOffset) << "a read below breaker 14's block";
    }
    const PollRecord record = check_poll(spec, config.sources[0], readings, during);
    EXPECT_EQ(record.good, static_cast<int>(spec.points.size())) << maps.normal();
  }
}

// The directory walk found the profiles the issue names (a new one joins by itself).
TEST(ModbusProfileFiles, ShippedProfilesAreAllCovered) {
  const auto names = shipped_profiles();
  for (const char* expected : {"orv3-psu", "orv3-bbu", "orv3-rpu", "sunspec-201-meter", "sunspec-202-meter",
                               "sunspec-203-meter", "sunspec-204-meter", "rdhx-cdab", "eaton-pxg-breaker"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
  }
}

// ---------------------------------------------------------------------------
// The test's decoder against hand-computed vectors, so that agreement with
// the agent means something.

PointSpec format(const std::string& type, const std::string& order = "abcd") {
  PointSpec p;
  p.name = "t";
  p.type = type;
  p.order = order;
  return p;
}

std::optional<double> decoded(const PointSpec& p, std::vector<std::uint16_t> regs,
                              std::optional<std::uint16_t> sf = std::nullopt) {
  return decode_expected(p, regs, sf).value;
}

TEST(ModbusProfileDecoder, WordAndByteOrders) {
  // 123.456f is 0x42F6E979; bytes a=42 b=F6 c=E9 d=79.
  const double f = static_cast<double>(123.456f);
  EXPECT_EQ(decoded(format("f32", "abcd"), {0x42F6, 0xE979}), f);
  EXPECT_EQ(decoded(format("f32", "cdab"), {0xE979, 0x42F6}), f);
  EXPECT_EQ(decoded(format("f32", "badc"), {0xF642, 0x79E9}), f);
  EXPECT_EQ(decoded(format("f32", "dcba"), {0x79E9, 0xF642}), f);
  // 70000 = 0x00011170.
  EXPECT_EQ(decoded(format("u32", "abcd"), {0x0001, 0x1170}), 70000.0);
  EXPECT_EQ(decoded(format("u32", "cdab"), {0x1170, 0x0001}), 70000.0);
  EXPECT_EQ(decoded(format("u32", "badc"), {0x0100, 0x7011}), 70000.0);
  EXPECT_EQ(decoded(format("u32", "dcba"), {0x7011, 0x0100}), 70000.0);
  // 1.0 = 0x3FF0000000000000; 64-bit cdab reverses all four registers.
  EXPECT_EQ(decoded(format("f64", "abcd"), {0x3FF0, 0, 0, 0}), 1.0);
  EXPECT_EQ(decoded(format("f64", "cdab"), {0, 0, 0, 0x3FF0}), 1.0);
  EXPECT_EQ(decoded(format("f64", "badc"), {0xF03F, 0, 0, 0}), 1.0);
  EXPECT_EQ(decoded(format("f64", "dcba"), {0, 0, 0, 0xF03F}), 1.0);
  EXPECT_EQ(decoded(format("u64", "cdab"), {0x0004, 0x0003, 0x0002, 0x0001}),
            static_cast<double>(0x0001000200030004ULL));
  EXPECT_EQ(decoded(format("u16", "badc"), {0x3412}), 4660.0);  // 0x1234
}

TEST(ModbusProfileDecoder, SignsScalingBitsAndSentinels) {
  EXPECT_EQ(decoded(format("s16"), {0xFFFE}), -2.0);
  EXPECT_EQ(decoded(format("s32"), {0xFFFF, 0xFFFE}), -2.0);
  EXPECT_EQ(decoded(format("s64", "cdab"), {0xFFFE, 0xFFFF, 0xFFFF, 0xFFFF}), -2.0);
  EXPECT_EQ(decoded(format("u16"), {0xFFFE}), 65534.0);

  auto fixed = format("u16");
  fixed.precision = 10;
  EXPECT_EQ(decoded(fixed, {0xCC00}), 51.0);  // the ORv3 example: 48 V output
  auto fixed_signed = format("s16");
  fixed_signed.precision = 7;
  EXPECT_EQ(decoded(fixed_signed, {0xF380}), -25.0);  // -3200 / 128

  auto sunspec = format("s16");
  sunspec.scale_factor = 1;
  EXPECT_EQ(decoded(sunspec, {1234}, 0xFFFE), 12.34);
  EXPECT_EQ(decoded(sunspec, {1234}, 3), 1234000.0);
  EXPECT_EQ(decode_expected(sunspec, std::vector<std::uint16_t>{1234}, 0x8000).why,
            NoValue::scale_factor_sentinel);
  EXPECT_EQ(decode_expected(sunspec, std::vector<std::uint16_t>{1234}, 11).why, NoValue::scale_factor_range);

  auto bit = format("bit");
  bit.bit = 3;
  EXPECT_EQ(decoded(bit, {0x0008}), 1.0);
  EXPECT_EQ(decoded(bit, {0xFFF7}), 0.0);
  bit.bit = 15;
  EXPECT_EQ(decoded(bit, {0x8000}), 1.0);

  EXPECT_FALSE(decoded(format("s16"), {0x8000}).has_value());
  EXPECT_FALSE(decoded(format("u16"), {0xFFFF}).has_value());
  EXPECT_FALSE(decoded(format("u32"), {0xFFFF, 0xFFFF}).has_value());
  EXPECT_FALSE(decoded(format("s32", "cdab"), {0x0000, 0x8000}).has_value());
  EXPECT_FALSE(decoded(format("s64"), {0x8000, 0, 0, 0}).has_value());
  EXPECT_FALSE(decoded(format("f32", "cdab"), {0xFFFF, 0xFFFF}).has_value());
  auto off = format("s16");
  off.sentinels = false;
  EXPECT_EQ(decoded(off, {0x8000}), -32768.0);
}

}  // namespace
}  // namespace rackwatch
