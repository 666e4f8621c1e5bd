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
// by the small decoder below (decode_expected), which is itself pinned to
// hand-computed vectors (ModbusProfileDecoder.*). The only thing taken from
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
#include "support/modbus_peer.hpp"
#include "support/run.hpp"
#include "sources/builtin/builtin_types.hpp"

namespace rackwatch {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using test::ModbusPeer;
using test::ServedRequest;
using namespace test;  // the expected values (support/modbus_expected.hpp)

// ---------------------------------------------------------------------------
// The peer's register map for a profile.

std::string number(double v) {
  std::ostringstream out;
  out << std::setprecision(17) << v;
  return out.str();
}

std::string hex(std::uint64_t v) {
  std::ostringstream out;
  out << "0x" << std::hex << std::uppercase << v;
  return out.str();
}

// The peer's clock at each of the normal polls. Ramps step once a second.
constexpr std::array kPollClocks{0.0, 1.5, 4.0};
constexpr int kRampSteps = 4;  // a ramp or counter crosses its range in this many steps
constexpr double kSentinelPollClock = 2.0;
static_assert(kPollClocks.back() < kRampSteps + 1, "a ramp would leave its range");
static_assert(kPollClocks.size() <= kRampSteps + 1, "a counter would leave its range");

double type_low(const PointSpec& p) {
  if (p.is_float()) return -1e30;
  if (!p.is_signed()) return 0;
  return -std::ldexp(1.0, static_cast<int>(16 * p.words()) - 1) + 1;  // the bottom is the sentinel
}
double type_high(const PointSpec& p) {
  if (p.is_float()) return 1e30;
  const int bits = static_cast<int>(16 * p.words()) - (p.is_signed() ? 1 : 0);
  return std::min(std::ldexp(1.0, bits) - 2, 9.0e15);  // below the unsigned sentinel; exact doubles
}

// Raw values (the integer or float the registers hold) to serve when the
// point has no range of its own.
std::pair<double, double> default_raw_range(const PointSpec& p) {
  if (p.is_float()) return {-1000.25, 1000.75};
  if (p.words() == 1) return p.is_signed() ? std::pair{-20000.0, 20000.0} : std::pair{500.0, 60000.0};
  if (p.words() == 2) return p.is_signed() ? std::pair{-2.0e9, 2.0e9} : std::pair{70000.0, 4.0e9};
  return p.is_signed() ? std::pair{-1.0e15, 1.0e15} : std::pair{1.0e6, 1.0e15};
}

// The decoded value (before scale, offset and from_unit) that makes the
// canonical value c.
double decoded_for(const PointSpec& p, const DeviceUnit& from, double c) {
  return ((c - from.offset) / from.factor - p.offset) / p.scale;
}

// The middle 60% of the point's min..max, as decoded values; nothing if it has no range.
std::optional<std::pair<double, double>> decoded_target(const PointSpec& p, const DeviceUnit& from) {
  if (!p.min && !p.max) return std::nullopt;
  const double lo = p.min ? *p.min : *p.max - 1000;
  const double hi = p.max ? *p.max : *p.min + 1000;
  const double a = decoded_for(p, from, lo + 0.2 * (hi - lo));
  const double b = decoded_for(p, from, hi - 0.2 * (hi - lo));
  return std::pair{std::min(a, b), std::max(a, b)};
}

class MapWriter {
 public:
  MapWriter(const ProfileSpec& spec, const std::vector<PointConfig>& conditioning)
      : spec_(spec), from_(conditioning.size()) {
    for (std::size_t i = 0; i < conditioning.size(); ++i) from_[i] = conditioning[i].from;
    plan_scale_factors();
  }

  // Every point served by a generator inside its range.
  std::string normal() const { return write(false); }
  // Every other point serves its type's "not implemented" pattern, and so does
  // the first scale-factor register; the rest as normal().
  std::string sentinels() const { return write(true); }

 private:
  struct ScaleFactorPlan {
    std::optional<int> constant;  // for points with a range: one exponent
    int ramp_start = -2;          // otherwise a ramp of exponents
  };

  // A scale factor shared by points with a range stays constant (their raw
  // generator cannot follow a changing exponent): the finest exponent their
  // raw values still fit the type for. Otherwise it ramps.
  void plan_scale_factors() {
    int group = 0;
    for (std::size_t i = 0; i < spec_.points.size(); ++i) {
      const auto& p = spec_.points[i];
      if (!p.scale_factor || p.precision) continue;
      auto [it, fresh] = sf_.try_emplace(key(p.table, *p.scale_factor));
      if (fresh) {
        it->second.ramp_start = -3 + group++ % 3;
        sf_order_.push_back(it->first);
      }
      const auto target = decoded_target(p, from_[i]);
      if (!target) continue;
      const double biggest = std::max(std::fabs(target->first), std::fabs(target->second));
      int e = -3;
      while (e < 10 && biggest / std::pow(10.0, e) > type_high(p)) ++e;
      it->second.constant = std::max(it->second.constant.value_or(e), e);
    }
  }

  // Raw range for a point's generator.
  std::pair<double, double> raw_range(std::size_t i) const {
    const auto& p = spec_.points[i];
    const auto target = decoded_target(p, from_[i]);
    if (!target) return default_raw_range(p);
    double lo = target->first;
    double hi = target->second;
    if (p.precision) {
      lo = std::ldexp(lo, *p.precision);
      hi = std::ldexp(hi, *p.precision);
    } else if (p.scale_factor) {
      const double unit = std::pow(10.0, sf_.at(key(p.table, *p.scale_factor)).constant.value());
      lo /= unit;
      hi /= unit;
    }
    if (!p.is_float()) {
      lo = std::ceil(lo);
      hi = std::floor(hi);
    }
    return {std::clamp(lo, type_low(p), type_high(p)), std::clamp(hi, type_low(p), type_high(p))};
  }

  // "sine ...", "ramp ...", "counter ...": the kind taken in turn by point.
  std::string generator(std::size_t i) const {
    const auto [lo, hi] = raw_range(i);
    const double step = (hi - lo) / kRampSteps;
    switch (i % 3) {
      case 0: return "sine " + number((lo + hi) / 2) + " " + number((hi - lo) / 2) + " " + number(5.0 + static_cast<double>(i));
      case 1: return "ramp " + number(lo) + " " + number(step) + " 1";
      default: return "counter " + number(lo) + " " + number(step);
    }
  }

  // The type's "not implemented" registers, as a map value.
  static std::string sentinel_value(const PointSpec& p) {
    const std::string order = ":" + p.order;
    if (p.type == "f32") return "u32" + order + " 0xFFFFFFFF";  // a NaN, as the RDHx manual has it
    if (p.type == "f64") return "u64" + order + " 0xFFFFFFFFFFFFFFFF";
    if (p.type == "bit") return "u16 0xFFFF";
    const unsigned width = 16 * p.words();
    const std::uint64_t pattern = p.is_signed() ? std::uint64_t{1} << (width - 1)
                                                : (width == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << width) - 1);
    return p.type + order + " " + hex(pattern);
  }

  std::string write(bool sentinel_variant) const {
    std::ostringstream map;
    std::map<std::string, std::set<std::uint32_t>> claimed;  // table -> registers with an entry
    auto claim = [&](const std::string& table, std::uint32_t first, std::uint32_t count) {
      auto& used = claimed[table];
      for (std::uint32_t a = first; a < first + count; ++a) {
        if (used.count(a) != 0) return false;
      }
      for (std::uint32_t a = first; a < first + count; ++a) used.insert(a);
      return true;
    };
    for (const auto& r : spec_.unreadable) {
      claim(r.table, r.first, r.last - r.first + 1);
      map << r.table << " " << r.first << "-" << r.last << " unreadable\n";
    }
    for (std::size_t i = 0; i < spec_.points.size(); ++i) {
      const auto& p = spec_.points[i];
      // Registers shared with an earlier point (bits of one word) keep its entry.
      if (!claim(p.table, p.address, p.words())) continue;
      map << p.table << " " << p.address << " ";
      const bool sentinel = sentinel_variant && i % 2 == 0;
      if (p.bit_table()) {
        map << (sentinel ? "1" : "counter 0 1");  // toggles at every read
      } else if (sentinel) {
        map << sentinel_value(p);
      } else if (p.type == "bit") {
        map << "u16 counter " << 0x0F0F + 0x0101 * static_cast<int>(i % 8) << " 23131";  // 0x5A5B
      } else {
        map << p.type << ":" << p.order << " " << generator(i);
      }
      map << "   # " << p.name << "\n";
    }
    for (std::size_t g = 0; g < sf_order_.size(); ++g) {
      const auto& [table, address] = sf_order_[g];
      const auto& plan = sf_.at(sf_order_[g]);
      if (!claim(table, address, 1)) continue;
      map << table << " " << address << " s16 ";
      if (sentinel_variant && g == 0) {
        map << "0x8000";
      } else if (plan.constant) {
        map << *plan.constant;
      } else {
        map << "ramp " << plan.ramp_start << " 1 1";
      }
      map << "   # scale factor\n";
    }
    return map.str();
  }

  static std::pair<std::string, std::uint32_t> key(const std::string& table, std::uint32_t address) {
    return {table, address};
  }

  const ProfileSpec& spec_;
  std::vector<DeviceUnit> from_;
  std::map<std::pair<std::string, std::uint32_t>, ScaleFactorPlan> sf_;
  std::vector<std::pair<std::string, std::uint32_t>> sf_order_;
};

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

Config parse(const std::string& text) {
  Diagnostics diags;
  auto config = parse_config(text, "/nonexistent/rackwatch.yaml", builtin_source_types(), diags);
  if (!config) {
    std::ostringstream out;
    diags.print(out);
    throw std::runtime_error("config refused:\n" + out.str() + "\n" + text);
  }
  return std::move(*config);
}

std::vector<RawReading> poll(asio::io_context& io, Source& source) {
  std::optional<std::vector<RawReading>> out;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> { out = co_await source.poll(); }, asio::detached);
  io.restart();
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!out && !io.stopped() && std::chrono::steady_clock::now() < deadline) io.run_one_until(deadline);
  if (!out) throw std::runtime_error("poll did not finish within 10 s");
  return std::move(*out);
}

// The registers `count` from `address` as served by the one ok answer among
// `served` that covers them.
std::optional<std::vector<std::uint16_t>> served_registers(const std::vector<ServedRequest>& served,
                                                           const std::string& table,
                                                           std::uint32_t address, std::uint32_t count,
                                                           std::string& problem) {
  std::optional<std::vector<std::uint16_t>> found;
  int answers = 0;
  for (const auto& r : served) {
    if (r.outcome != "ok" || r.table != table || address < r.addr ||
        address + count > std::uint32_t{r.addr} + r.count) {
      continue;
    }
    ++answers;
    found.emplace();
    for (std::uint32_t k = 0; k < count; ++k) {
      found->push_back(static_cast<std::uint16_t>(r.data.at(address - r.addr + k)));
    }
  }
  if (answers != 1) {
    problem = std::to_string(answers) + " answers of the poll cover " + table + " " +
              std::to_string(address) + " (" + std::to_string(count) + ")";
    return std::nullopt;
  }
  return found;
}

std::string registers_text(const std::vector<std::uint16_t>& regs) {
  std::string out;
  for (auto r : regs) out += (out.empty() ? "" : " ") + hex(r);
  return out;
}

// What one poll showed, for checks across polls.
struct PollRecord {
  std::vector<std::optional<std::vector<std::uint16_t>>> served;  // per point
  int good = 0;
  int value_sentinels = 0;        // points bad by their own sentinel
  int scale_factor_sentinels = 0;  // points bad by their scale factor's
  int sentinels_as_numbers = 0;   // sentinel patterns of points with sentinels off, read as numbers
};

// Checks every reading of one poll against the registers the peer served.
PollRecord check_poll(const ProfileSpec& spec, const SourceConfig& source,
                      const std::vector<RawReading>& readings, const std::vector<ServedRequest>& served) {
  PollRecord record;
  record.served.resize(spec.points.size());
  EXPECT_EQ(readings.size(), spec.points.size());
  for (std::size_t i = 0; i < spec.points.size() && i < readings.size(); ++i) {
    const PointSpec& p = spec.points[i];
    const RawReading& reading = readings[i];
    SCOPED_TRACE("point " + p.name + " (" + p.table + " " + std::to_string(p.address) + ", " + p.type +
                 (p.type == "bit" ? " " + std::to_string(p.bit) : ":" + p.order) + ")");
    std::string problem;
    const auto regs = served_registers(served, p.table, p.address, p.words(), problem);
    if (!regs) {
      ADD_FAILURE() << problem << "; the agent read: " << (reading.ok() ? number(reading.value) : reading.error);
      continue;
    }
    record.served[i] = regs;
    std::optional<std::uint16_t> sf;
    if (p.scale_factor) {
      const auto sf_regs = served_registers(served, p.table, *p.scale_factor, 1, problem);
      if (!sf_regs) {
        ADD_FAILURE() << "scale factor: " << problem;
        continue;
      }
      sf = sf_regs->front();
    }
    const Expected expected = decode_expected(p, *regs, sf);
    SCOPED_TRACE("served " + registers_text(*regs) + (sf ? ", scale factor " + hex(*sf) : ""));

    if (!expected.value) {
      EXPECT_FALSE(reading.ok()) << "expected no value, the agent decoded " << number(reading.value);
      record.value_sentinels += expected.why == NoValue::value_sentinel ? 1 : 0;
      record.scale_factor_sentinels += expected.why == NoValue::scale_factor_sentinel ? 1 : 0;
    } else {
      record.sentinels_as_numbers += expected.served_sentinel_bits ? 1 : 0;
      if (!reading.ok()) {
        ADD_FAILURE() << "expected " << number(*expected.value) << ", the agent failed: " << reading.error;
      } else if (expected.exact || std::isnan(*expected.value) || std::isinf(*expected.value)) {
        EXPECT_TRUE(reading.value == *expected.value ||
                    (std::isnan(reading.value) && std::isnan(*expected.value)))
            << "expected " << number(*expected.value) << ", the agent decoded " << number(reading.value);
      } else {
        EXPECT_NEAR(reading.value, *expected.value, 1e-9 * std::fabs(*expected.value))
            << "relative 1e-9";
      }
    }

    // The conditioned sample, in canonical units.
    const PointConfig& point = source.points[i];
    const ExpectedSample want = expected_sample(p, point.from, expected);
    const Sample got = condition(point, static_cast<std::uint32_t>(i), reading);
    if (want.near_range_edge) continue;
    EXPECT_EQ(quality_name(got.quality), quality_name(want.quality))
        << "sample " << number(got.value) << " (" << got.reason << "), expected " << number(want.value);
    if (want.quality == Quality::good && got.quality == Quality::good) {
      EXPECT_NEAR(got.value, want.value, 1e-9 * std::max(1.0, std::fabs(want.value)));
      ++record.good;
    }
  }
  return record;
}

// ---------------------------------------------------------------------------
// The tests: one per shipped profile and transport.

std::vector<std::string> shipped_profiles() {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(test::source_path("config/profiles"))) {
    if (entry.path().extension() == ".yaml") names.push_back(entry.path().stem().string());
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

// The directory walk found the profiles the issue names (a new one joins by itself).
TEST(ModbusProfileFiles, ShippedProfilesAreAllCovered) {
  const auto names = shipped_profiles();
  for (const char* expected : {"orv3-psu", "orv3-bbu", "orv3-rpu", "sunspec-203-meter", "rdhx-cdab"}) {
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
