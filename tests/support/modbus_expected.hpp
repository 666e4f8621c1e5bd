// What the Modbus profile tests expect, computed without the agent: a
// profile's points read from its YAML with yaml-cpp alone, and a small
// decoder of registers into values, pinned to hand-computed vectors by
// ModbusProfileDecoder.* in tests/integration/modbus_profile_test.cpp.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "core/units.hpp"

namespace rackwatch::test {

// ---------------------------------------------------------------------------
// A profile's points, read from the YAML with yaml-cpp alone.

struct PointSpec {
  std::string name;
  std::string table = "holding";  // holding, input, coil, discrete
  std::uint32_t address = 0;
  std::string type = "u16";  // u16 s16 u32 s32 u64 s64 f32 f64 bit
  std::string order = "abcd";
  std::optional<int> precision;                 // fixed point: raw / 2^precision
  std::optional<std::uint32_t> scale_factor;    // SunSpec: address of the int16 exponent
  unsigned bit = 0;                             // type bit on a register
  bool sentinels = true;
  double scale = 1.0;
  double offset = 0.0;
  std::optional<double> min;
  std::optional<double> max;
  std::vector<double> invalid;

  bool bit_table() const { return table == "coil" || table == "discrete"; }
  bool is_float() const { return type == "f32" || type == "f64"; }
  bool is_signed() const { return type == "s16" || type == "s32" || type == "s64"; }
  std::uint32_t words() const {
    if (type == "u32" || type == "s32" || type == "f32") return 2;
    if (type == "u64" || type == "s64" || type == "f64") return 4;
    return 1;  // u16, s16, bit, and a coil or discrete input
  }
};

struct RangeSpec {
  std::string table;
  std::uint32_t first = 0;
  std::uint32_t last = 0;
};

struct ProfileSpec {
  std::string path;
  std::vector<PointSpec> points;
  std::vector<RangeSpec> unreadable;
};

// "37", "0x0025"
inline std::uint32_t to_uint(const YAML::Node& node) {
  const std::string text = node.Scalar();
  const bool hex = text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
  std::size_t used = 0;
  const unsigned long value = std::stoul(text, &used, hex ? 16 : 10);
  if (used != text.size()) throw std::runtime_error("not an integer: " + text);
  return static_cast<std::uint32_t>(value);
}

inline ProfileSpec read_profile_yaml(const std::string& path) {
  const YAML::Node root = YAML::LoadFile(path);
  const YAML::Node defaults = root["defaults"];
  ProfileSpec spec;
  spec.path = path;
  const YAML::Node unreadable = root["unreadable"];
  for (const auto& range : unreadable) {
    const std::string table = range["table"] ? range["table"].as<std::string>() : "holding";
    const std::uint32_t first = to_uint(range["first"]);
    spec.unreadable.push_back({table, first, range["last"] ? to_uint(range["last"]) : first});
  }
  for (const auto& node : root["points"]) {
    // A key of the point, else of the profile's defaults.
    auto key = [&](const char* name) -> std::optional<YAML::Node> {
      if (node[name]) return node[name];
      if (defaults && defaults[name]) return defaults[name];
      return std::nullopt;
    };
    PointSpec p;
    p.name = node["name"].as<std::string>();
    if (auto v = key("table")) p.table = v->as<std::string>();
    p.address = to_uint(node["address"]);
    if (p.bit_table()) p.type = "bit";
    if (auto v = key("type")) p.type = v->as<std::string>();
    if (auto v = key("order")) p.order = v->as<std::string>();
    if (auto v = key("precision")) p.precision = v->as<int>();
    if (auto v = key("scale_factor")) p.scale_factor = to_uint(*v);
    if (auto v = key("bit")) p.bit = v->as<unsigned>();
    if (auto v = key("sentinels")) p.sentinels = v->as<bool>();
    if (auto v = key("scale")) p.scale = v->as<double>();
    if (auto v = key("offset")) p.offset = v->as<double>();
    if (auto v = key("min")) p.min = v->as<double>();
    if (auto v = key("max")) p.max = v->as<double>();
    if (auto v = key("invalid")) p.invalid = v->as<std::vector<double>>();
    spec.points.push_back(std::move(p));
  }
  return spec;
}

// ---------------------------------------------------------------------------
// The test's own decoder: what a point's registers mean.

enum class NoValue { none, value_sentinel, scale_factor_sentinel, scale_factor_range };

struct Expected {
  std::optional<double> value;        // nothing: the point must read as a failure
  NoValue why = NoValue::none;
  bool exact = true;                  // false: a float, or a decimal scale factor
  bool served_sentinel_bits = false;  // the registers hold the type's sentinel pattern
};

// The registers as one unsigned number, most significant byte first.
//   abcd: registers most significant first, each register high byte first
//   cdab: registers least significant first ("word swap")
//   badc: registers most significant first, each register low byte first
//   dcba: both swaps
inline std::uint64_t join_registers(std::span<const std::uint16_t> regs, const std::string& order) {
  const bool low_word_first = order == "cdab" || order == "dcba";
  const bool low_byte_first = order == "badc" || order == "dcba";
  const std::size_t n = regs.size();
  std::uint64_t value = 0;
  for (std::size_t k = 0; k < n; ++k) {
    const std::uint16_t reg = regs[low_word_first ? n - 1 - k : k];
    std::uint64_t high = reg >> 8;
    std::uint64_t low = reg & 0xFFu;
    if (low_byte_first) std::swap(high, low);
    value = (value << 16) | (high << 8) | low;
  }
  return value;
}

inline double power_of_ten(int e) {
  double p = 1.0;
  for (int i = 0; i < e; ++i) p *= 10.0;  // exact up to 10^22
  return p;
}

inline Expected decode_expected(const PointSpec& p, std::span<const std::uint16_t> regs,
                         std::optional<std::uint16_t> scale_factor_register) {
  Expected out;
  if (p.bit_table()) {  // the served value of a coil or discrete input is the bit
    out.value = regs[0];
    return out;
  }
  if (p.type == "bit") {
    out.value = (static_cast<unsigned>(regs[0]) >> p.bit) & 1u;
    return out;
  }

  const std::uint64_t raw = join_registers(regs, p.order);
  const unsigned width = 16 * static_cast<unsigned>(regs.size());
  const std::uint64_t all_ones = width == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << width) - 1;
  const std::uint64_t sign_bit = std::uint64_t{1} << (width - 1);

  double x = 0;
  if (p.type == "f32" || p.type == "f64") {
    out.exact = false;
    x = p.type == "f32" ? static_cast<double>(std::bit_cast<float>(static_cast<std::uint32_t>(raw)))
                        : std::bit_cast<double>(raw);
    out.served_sentinel_bits = std::isnan(x);
    if (std::isnan(x) && p.sentinels) {
      out.value.reset();
      out.why = NoValue::value_sentinel;
      return out;
    }
    out.value = x;
    return out;
  }

  // Integers. SunSpec "not implemented": top of an unsigned range, bottom of a signed one.
  out.served_sentinel_bits = raw == (p.is_signed() ? sign_bit : all_ones);
  if (out.served_sentinel_bits && p.sentinels) {
    out.why = NoValue::value_sentinel;
    return out;
  }
  if (p.is_signed()) {
    // Sign-extend to 64 bits (arithmetic shift right, defined since C++20).
    const auto shifted = static_cast<std::int64_t>(raw << (64 - width));
    x = static_cast<double>(shifted >> (64 - width));
  } else {
    x = static_cast<double>(raw);
  }

  if (p.precision) {
    x = x / std::pow(2.0, *p.precision);  // a power of two: exact
  } else if (p.scale_factor) {
    const std::uint16_t sf_raw = scale_factor_register.value();
    if (sf_raw == 0x8000) {  // SunSpec: scale factor not implemented
      out.why = NoValue::scale_factor_sentinel;
      return out;
    }
    const int sf = static_cast<std::int16_t>(sf_raw);
    if (sf < -10 || sf > 10) {  // SunSpec sunssf is -10..10
      out.why = NoValue::scale_factor_range;
      return out;
    }
    x = sf >= 0 ? x * power_of_ten(sf) : x / power_of_ten(-sf);
    out.exact = false;
  }
  out.value = x;
  return out;
}

// What the pipeline should make of it: README order, decode → scale/offset
// → from_unit → range check.
struct ExpectedSample {
  Quality quality = Quality::bad;
  double value = 0;
  bool near_range_edge = false;  // within rounding of min or max: quality not checked
};

inline ExpectedSample expected_sample(const PointSpec& p, const DeviceUnit& from, const Expected& e) {
  ExpectedSample s;
  if (!e.value) return s;
  for (double v : p.invalid) {
    if (*e.value == v) return s;
  }
  if (!std::isfinite(*e.value)) return s;
  s.value = (*e.value * p.scale + p.offset) * from.factor + from.offset;
  const double tolerance = 1e-9 * std::max(1.0, std::fabs(s.value));
  for (auto edge : {p.min, p.max}) {
    if (edge && std::fabs(s.value - *edge) <= tolerance) s.near_range_edge = true;
  }
  if ((p.min && s.value < *p.min) || (p.max && s.value > *p.max)) return s;
  s.quality = Quality::good;
  return s;
}

}  // namespace rackwatch::test
