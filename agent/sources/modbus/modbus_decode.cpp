#include "sources/modbus/modbus_decode.hpp"

#include <array>
#include <bit>
#include <cmath>
#include <string>
#include <utility>

namespace rackwatch::modbus {
namespace {

// SunSpec Information Model: a scale factor (sunssf) is −10..10.
constexpr int kMaxScaleFactor = 10;

bool word_swap(WordOrder order) { return order == WordOrder::cdab || order == WordOrder::dcba; }
bool byte_swap(WordOrder order) { return order == WordOrder::badc || order == WordOrder::dcba; }

std::uint16_t swap_bytes(std::uint16_t r) {
  return static_cast<std::uint16_t>((r << 8) | (r >> 8));
}

bool is_integer(ValueType type) {
  switch (type) {
    case ValueType::u16:
    case ValueType::s16:
    case ValueType::u32:
    case ValueType::s32:
    case ValueType::u64:
    case ValueType::s64: return true;
    default: return false;
  }
}

bool is_signed(ValueType type) {
  return type == ValueType::s16 || type == ValueType::s32 || type == ValueType::s64;
}

Value no_value(std::string reason) {
  Value v;
  v.kind = Value::Kind::no_value;
  v.reason = std::move(reason);
  return v;
}

Value not_implemented(const std::string& what, std::uint64_t raw, int digits) {
  return no_value("not implemented: " + what + " " + hex(raw, digits));
}

Value number(double x) {
  Value v;
  v.number = x;
  return v;
}

// 10^e for 0 <= e <= kMaxScaleFactor, exactly.
double power_of_ten(int e) {
  static constexpr std::array<double, kMaxScaleFactor + 1> kPowers{1e0, 1e1, 1e2, 1e3, 1e4, 1e5,
                                                                   1e6, 1e7, 1e8, 1e9, 1e10};
  return kPowers[static_cast<std::size_t>(e)];
}

Result<Value> decode_string(const ValueFormat& format, std::span<const std::uint16_t> registers) {
  std::string text;
  text.reserve(registers.size() * 2);
  bool all_nul = true;
  for (auto r : registers) {
    if (byte_swap(format.order)) r = swap_bytes(r);
    for (auto c : {static_cast<char>(r >> 8), static_cast<char>(r & 0xFFu)}) {
      text += c;
      if (c != '\0') all_nul = false;
    }
  }
  // SunSpec: an unimplemented string reads as NULs only.
  if (all_nul && format.sentinels) return no_value("not implemented: string of NULs");
  // A NUL ends a shorter string; what follows it is filler.
  if (auto nul = text.find('\0'); nul != std::string::npos) text.resize(nul);
  while (!text.empty() && text.back() == ' ') text.pop_back();
  // Readings travel as protobuf strings, which must be UTF-8: keep the text
  // printable ASCII.
  for (auto& c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u > 0x7E) c = '?';
  }
  Value v;
  v.kind = Value::Kind::text;
  v.text = std::move(text);
  return v;
}

}  // namespace

std::size_t register_count(ValueType type) {
  switch (type) {
    case ValueType::u16:
    case ValueType::s16:
    case ValueType::bit: return 1;
    case ValueType::u32:
    case ValueType::s32:
    case ValueType::f32: return 2;
    case ValueType::u64:
    case ValueType::s64:
    case ValueType::f64: return 4;
    case ValueType::string: return 0;
  }
  return 0;
}

std::string_view value_type_name(ValueType type) {
  switch (type) {
    case ValueType::u16: return "u16";
    case ValueType::s16: return "s16";
    case ValueType::u32: return "u32";
    case ValueType::s32: return "s32";
    case ValueType::u64: return "u64";
    case ValueType::s64: return "s64";
    case ValueType::f32: return "f32";
    case ValueType::f64: return "f64";
    case ValueType::bit: return "bit";
    case ValueType::string: return "string";
  }
  return "unknown";
}

std::string_view word_order_name(WordOrder order) {
  switch (order) {
    case WordOrder::abcd: return "abcd";
    case WordOrder::cdab: return "cdab";
    case WordOrder::badc: return "badc";
    case WordOrder::dcba: return "dcba";
  }
  return "unknown";
}

std::optional<ValueType> parse_value_type(std::string_view name) {
  for (auto t :
       {ValueType::u16, ValueType::s16, ValueType::u32, ValueType::s32, ValueType::u64,
        ValueType::s64, ValueType::f32, ValueType::f64, ValueType::bit, ValueType::string}) {
    if (value_type_name(t) == name) return t;
  }
  return std::nullopt;
}

std::optional<WordOrder> parse_word_order(std::string_view name) {
  for (auto o : {WordOrder::abcd, WordOrder::cdab, WordOrder::badc, WordOrder::dcba}) {
    if (word_order_name(o) == name) return o;
  }
  return std::nullopt;
}

std::uint64_t assemble(std::span<const std::uint16_t> registers, WordOrder order) {
  std::uint64_t value = 0;
  const std::size_t n = registers.size();
  for (std::size_t i = 0; i < n; ++i) {
    // With the word swap the last register is the most significant.
    std::uint16_t r = registers[word_swap(order) ? n - 1 - i : i];
    if (byte_swap(order)) r = swap_bytes(r);
    value = (value << 16) | r;
  }
  return value;
}

Result<Value> decode_value(const ValueFormat& format, std::span<const std::uint16_t> registers,
                           std::optional<std::uint16_t> scale_factor) {
  const auto type_name = std::string(value_type_name(format.type));
  const std::size_t needed = register_count(format.type);
  if (needed == 0 ? registers.empty() : registers.size() != needed) {
    return Error{
        ErrorCode::register_count,
        type_name + " needs " +
            (needed == 0 ? std::string("at least 1 register")
                         : std::to_string(needed) + " register" + (needed == 1 ? "" : "s")) +
            ", got " + std::to_string(registers.size())};
  }
  if (format.scaling != Scaling::none && !is_integer(format.type)) {
    return Error{ErrorCode::invalid_format, "scaling applies to integer types, not " + type_name};
  }
  if (format.scaling == Scaling::fixed_point && format.precision > 64) {
    return Error{ErrorCode::invalid_format,
                 "fixed-point precision " + std::to_string(format.precision) + " outside 0..64"};
  }
  if (format.scaling == Scaling::scale_factor && !scale_factor) {
    return Error{ErrorCode::invalid_format, "scale factor register missing"};
  }

  if (format.type == ValueType::string) return decode_string(format, registers);
  if (format.type == ValueType::bit) {
    if (format.bit > 15) {
      return Error{ErrorCode::invalid_format,
                   "bit " + std::to_string(format.bit) + " outside 0..15"};
    }
    const unsigned word = registers[0];  // unsigned before the shift: no promotion to int
    return number(static_cast<double>((word >> format.bit) & 1u));
  }

  const std::uint64_t raw = assemble(registers, format.order);
  const int digits = static_cast<int>(registers.size() * 4);

  if (format.type == ValueType::f32) {
    const float f = std::bit_cast<float>(static_cast<std::uint32_t>(raw));
    if (std::isnan(f) && format.sentinels) return not_implemented("f32 NaN", raw, digits);
    return number(static_cast<double>(f));
  }
  if (format.type == ValueType::f64) {
    const double d = std::bit_cast<double>(raw);
    if (std::isnan(d) && format.sentinels) return not_implemented("f64 NaN", raw, digits);
    return number(d);
  }

  // Integers: the sentinel is the top of an unsigned range, the bottom of a
  // signed one.
  const unsigned width = static_cast<unsigned>(registers.size() * 16);
  const std::uint64_t top = width == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << width) - 1;
  const std::uint64_t sign = std::uint64_t{1} << (width - 1);
  const bool signed_type = is_signed(format.type);
  if (format.sentinels && raw == (signed_type ? sign : top)) {
    return not_implemented(type_name, raw, digits);
  }
  double x = 0;
  if (signed_type && (raw & sign) != 0) {
    // Two's complement: −(2^width − raw), computed without overflow.
    x = -static_cast<double>(((~raw) & top) + 1);
  } else {
    x = static_cast<double>(raw);
  }

  switch (format.scaling) {
    case Scaling::none: break;
    case Scaling::fixed_point: x = std::ldexp(x, -static_cast<int>(format.precision)); break;
    case Scaling::scale_factor: {
      const std::uint16_t sf_raw = *scale_factor;
      if (sf_raw == 0x8000) return not_implemented("scale factor", sf_raw, 4);
      const int sf = static_cast<std::int16_t>(sf_raw);
      if (sf < -kMaxScaleFactor || sf > kMaxScaleFactor) {
        return no_value("scale factor " + std::to_string(sf) + " outside -10..10");
      }
      // Dividing by an exact 10^-sf rounds once; multiplying by an inexact
      // 0.01 would round twice (12345 × 0.01 ≠ 123.45).
      x = sf >= 0 ? x * power_of_ten(sf) : x / power_of_ten(-sf);
      break;
    }
  }
  return number(x);
}

}  // namespace rackwatch::modbus
