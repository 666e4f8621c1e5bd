// The register maps and checks of the Modbus profile tests, shared by
// tests/integration/modbus_profile_test.cpp (every shipped profile at its
// addresses) and modbus_sunspec_test.cpp (SunSpec profiles found by
// discovery): a map for the `modbus_peer` that serves every point of a
// profile with a generator kept inside the point's range (or with its
// "not implemented" sentinels), and the check of every reading of a poll
// against the registers the peer logged serving in that poll, decoded by
// the test's own decoder (support/modbus_expected.hpp).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <iomanip>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "core/config.hpp"
#include "core/reading.hpp"
#include "pipeline/condition.hpp"
#include "sources/source.hpp"
#include "support/modbus_expected.hpp"
#include "support/modbus_peer.hpp"
#include "support/source_poll.hpp"

namespace rackwatch::test {

inline std::string number(double v) {
  std::ostringstream out;
  out << std::setprecision(17) << v;
  return out.str();
}

inline std::string hex(std::uint64_t v) {
  std::ostringstream out;
  out << "0x" << std::hex << std::uppercase << v;
  return out.str();
}

// The peer's clock at each of the normal polls. Ramps step once a second.
inline constexpr std::array kPollClocks{0.0, 1.5, 4.0};
inline constexpr int kRampSteps = 4;  // a ramp or counter crosses its range in this many steps
inline constexpr double kSentinelPollClock = 2.0;
static_assert(kPollClocks.back() < kRampSteps + 1, "a ramp would leave its range");
static_assert(kPollClocks.size() <= kRampSteps + 1, "a counter would leave its range");

inline double type_low(const PointSpec& p) {
  if (p.is_float()) return -1e30;
  if (!p.is_signed()) return 0;
  return -std::ldexp(1.0, static_cast<int>(16 * p.words()) - 1) + 1;  // the bottom is the sentinel
}
inline double type_high(const PointSpec& p) {
  if (p.is_float()) return 1e30;
  const int bits = static_cast<int>(16 * p.words()) - (p.is_signed() ? 1 : 0);
  return std::min(std::ldexp(1.0, bits) - 2, 9.0e15);  // below the unsigned sentinel; exact doubles
}

// Raw values (the integer or float the registers hold) to serve when the
// point has no range of its own.
inline std::pair<double, double> default_raw_range(const PointSpec& p) {
  if (p.is_float()) return {-1000.25, 1000.75};
  if (p.words() == 1) return p.is_signed() ? std::pair{-20000.0, 20000.0} : std::pair{500.0, 60000.0};
  if (p.words() == 2) return p.is_signed() ? std::pair{-2.0e9, 2.0e9} : std::pair{70000.0, 4.0e9};
  return p.is_signed() ? std::pair{-1.0e15, 1.0e15} : std::pair{1.0e6, 1.0e15};
}

// The decoded value (before scale, offset and from_unit) that makes the
// canonical value c.
inline double decoded_for(const PointSpec& p, const DeviceUnit& from, double c) {
  return ((c - from.offset) / from.factor - p.offset) / p.scale;
}

// The middle 60% of the point's min..max, as decoded values; nothing if it has no range.
inline std::optional<std::pair<double, double>> decoded_target(const PointSpec& p, const DeviceUnit& from) {
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

// The registers `count` from `address` as served by the one ok answer among
// `served` that covers them.
inline std::optional<std::vector<std::uint16_t>> served_registers(const std::vector<ServedRequest>& served,
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

inline std::string registers_text(const std::vector<std::uint16_t>& regs) {
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
inline PollRecord check_poll(const ProfileSpec& spec, const SourceConfig& source,
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

}  // namespace rackwatch::test
