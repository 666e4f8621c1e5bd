// Turning the registers of one point into its value: integer, float, bit or
// string, in the point's word and byte order, with fixed-point (ORv3) or
// scale-factor (SunSpec) scaling, and "not implemented" sentinels that give
// no value with a reason instead of a bogus number.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "sources/modbus/modbus_error.hpp"

namespace rackwatch::modbus {

enum class ValueType : std::uint8_t { u16, s16, u32, s32, u64, s64, f32, f64, bit, string };

// The order of a value's bytes across its registers, named by the bytes of a
// 32-bit value A (most significant) to D as they appear on the wire. Modbus
// puts each register big-endian (Application Protocol v1.1b3 §4.2) but says
// nothing of values wider than a register, so devices differ:
//   abcd  registers most significant first, bytes as sent (the default)
//   cdab  registers least significant first ("word swap")
//   badc  registers most significant first, each register's bytes swapped
//   dcba  both: the whole value little-endian
// For 64-bit values the same two swaps apply to four registers; a 16-bit
// value is only affected by the byte swap; strings only by the byte swap.
enum class WordOrder : std::uint8_t { abcd, cdab, badc, dcba };

enum class Scaling : std::uint8_t {
  none,
  fixed_point,   // raw / 2^precision (ORv3 power shelf registers)
  scale_factor,  // raw × 10^sf, sf an int16 read from another register (SunSpec)
};

// How a point's registers make its value.
struct ValueFormat {
  ValueType type = ValueType::u16;
  WordOrder order = WordOrder::abcd;
  Scaling scaling = Scaling::none;  // integer types only
  unsigned precision = 0;           // fixed_point: 0..64 fractional bits
  unsigned bit = 0;                 // bit: 0 (least significant) .. 15 of the register
  // The SunSpec "not implemented" values give no value: uint16 0xFFFF, int16
  // 0x8000, uint32 0xFFFFFFFF, int32 0x80000000, the 64-bit analogues, NaN,
  // and a string of NULs only. Off for devices whose 0xFFFF is a reading.
  bool sentinels = true;
};

// What a point's registers hold.
struct Value {
  enum class Kind : std::uint8_t { number, text, no_value };
  Kind kind = Kind::number;
  double number = 0;   // number: the scaled value; a bit is 0 or 1
  std::string text;    // text: the string, printable ASCII
  std::string reason;  // no_value: "not implemented: s16 0x8000", ...

  bool has_value() const { return kind != Kind::no_value; }
};

// Registers a value of `type` occupies: 1, 2 or 4; 0 for a string, whose
// length the point gives.
std::size_t register_count(ValueType type);

// "u16", "f32", ... and "abcd", ... as written in profiles.
std::string_view value_type_name(ValueType type);
std::string_view word_order_name(WordOrder order);
std::optional<ValueType> parse_value_type(std::string_view name);
std::optional<WordOrder> parse_word_order(std::string_view name);

// The registers (1, 2 or 4) as one unsigned integer in the value's byte
// order: for abcd, {0x42F6, 0xE979} → 0x42F6E979.
std::uint64_t assemble(std::span<const std::uint16_t> registers, WordOrder order);

// The value of `registers`, which must be exactly register_count(type) (at
// least one for a string). `scale_factor` is the raw scale-factor register,
// required for Scaling::scale_factor; 0x8000 there is SunSpec's "not
// implemented" and gives no value whatever `sentinels` says, as −32768 is no
// exponent; so does a scale factor outside SunSpec's −10..10, which would
// make a bogus number (0 × 10^9984 is NaN). Errors: register_count,
// invalid_format.
Result<Value> decode_value(const ValueFormat& format, std::span<const std::uint16_t> registers,
                           std::optional<std::uint16_t> scale_factor = std::nullopt);

}  // namespace rackwatch::modbus
