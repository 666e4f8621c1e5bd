#include "sources/modbus/modbus_decode.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace rackwatch::modbus {
namespace {

using Regs = std::vector<std::uint16_t>;

ValueFormat format(ValueType type, WordOrder order = WordOrder::abcd) {
  ValueFormat f;
  f.type = type;
  f.order = order;
  return f;
}

// The number, failing the test when there is none.
double number(const ValueFormat& f, const Regs& regs,
              std::optional<std::uint16_t> sf = std::nullopt) {
  auto r = decode_value(f, regs, sf);
  EXPECT_TRUE(r) << r.error().message;
  if (!r) return std::nan("");
  EXPECT_EQ(r->kind, Value::Kind::number) << r->reason;
  return r->number;
}

std::string reason(const ValueFormat& f, const Regs& regs,
                   std::optional<std::uint16_t> sf = std::nullopt) {
  auto r = decode_value(f, regs, sf);
  EXPECT_TRUE(r) << r.error().message;
  if (!r) return {};
  EXPECT_EQ(r->kind, Value::Kind::no_value);
  EXPECT_FALSE(r->has_value());
  return r->reason;
}

TEST(ModbusDecode, Float32InEveryOrder) {
  // 123.456f is 0x42F6E979: bytes A=42 B=F6 C=E9 D=79.
  const float expected = 123.456f;
  EXPECT_EQ(number(format(ValueType::f32, WordOrder::abcd), {0x42F6, 0xE979}),
            static_cast<double>(expected));
  EXPECT_EQ(number(format(ValueType::f32, WordOrder::cdab), {0xE979, 0x42F6}),
            static_cast<double>(expected));
  EXPECT_EQ(number(format(ValueType::f32, WordOrder::badc), {0xF642, 0x79E9}),
            static_cast<double>(expected));
  EXPECT_EQ(number(format(ValueType::f32, WordOrder::dcba), {0x79E9, 0xF642}),
            static_cast<double>(expected));
  EXPECT_EQ(number(format(ValueType::f32), {0xC120, 0x0000}), -10.0);
}

TEST(ModbusDecode, Float64InEveryOrder) {
  // 123.456 is 0x405EDD2F1A9FBE77.
  EXPECT_EQ(number(format(ValueType::f64, WordOrder::abcd), {0x405E, 0xDD2F, 0x1A9F, 0xBE77}),
            123.456);
  EXPECT_EQ(number(format(ValueType::f64, WordOrder::cdab), {0xBE77, 0x1A9F, 0xDD2F, 0x405E}),
            123.456);
  EXPECT_EQ(number(format(ValueType::f64, WordOrder::badc), {0x5E40, 0x2FDD, 0x9F1A, 0x77BE}),
            123.456);
  EXPECT_EQ(number(format(ValueType::f64, WordOrder::dcba), {0x77BE, 0x9F1A, 0x2FDD, 0x5E40}),
            123.456);
  EXPECT_EQ(number(format(ValueType::f64), {0xC004, 0, 0, 0}), -2.5);
}

TEST(ModbusDecode, AssemblesRegistersInEveryOrder) {
  const Regs abcd{0x0102, 0x0304, 0x0506, 0x0708};
  EXPECT_EQ(assemble(abcd, WordOrder::abcd), 0x0102030405060708u);
  EXPECT_EQ(assemble(Regs{0x0708, 0x0506, 0x0304, 0x0102}, WordOrder::cdab), 0x0102030405060708u);
  EXPECT_EQ(assemble(Regs{0x0201, 0x0403, 0x0605, 0x0807}, WordOrder::badc), 0x0102030405060708u);
  EXPECT_EQ(assemble(Regs{0x0807, 0x0605, 0x0403, 0x0201}, WordOrder::dcba), 0x0102030405060708u);
  EXPECT_EQ(assemble(Regs{0x1234}, WordOrder::cdab), 0x1234u);
  EXPECT_EQ(assemble(Regs{0x1234}, WordOrder::badc), 0x3412u);
}

TEST(ModbusDecode, Integers) {
  EXPECT_EQ(number(format(ValueType::u16), {0x1234}), 4660.0);
  EXPECT_EQ(number(format(ValueType::u16, WordOrder::badc), {0x3412}), 4660.0);
  EXPECT_EQ(number(format(ValueType::s16), {0xFB2E}), -1234.0);
  EXPECT_EQ(number(format(ValueType::s16), {0x7FFF}), 32767.0);
  EXPECT_EQ(number(format(ValueType::s16), {0x8001}), -32767.0);
  EXPECT_EQ(number(format(ValueType::u32), {0x0001, 0x0000}), 65536.0);
  EXPECT_EQ(number(format(ValueType::u32, WordOrder::cdab), {0x0000, 0x0001}), 65536.0);
  EXPECT_EQ(number(format(ValueType::u32), {0xFFFF, 0xFFFE}), 4294967294.0);
  EXPECT_EQ(number(format(ValueType::s32), {0xFFFF, 0xFFFE}), -2.0);
  EXPECT_EQ(number(format(ValueType::s32, WordOrder::cdab), {0xFFFE, 0xFFFF}), -2.0);
  EXPECT_EQ(number(format(ValueType::s32), {0x8000, 0x0001}), -2147483647.0);
  EXPECT_EQ(number(format(ValueType::u64), {0x0000, 0x0000, 0x0001, 0x0000}), 65536.0);
  EXPECT_EQ(number(format(ValueType::u64), {0x0012, 0x3456, 0x789A, 0xBCDE}),
            static_cast<double>(0x00123456789ABCDEull));
  EXPECT_EQ(number(format(ValueType::s64), {0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF}), -1.0);
  EXPECT_EQ(number(format(ValueType::s64, WordOrder::dcba), {0xFEFF, 0xFFFF, 0xFFFF, 0xFFFF}),
            -2.0);
}

TEST(ModbusDecode, SentinelsGiveNoValue) {
  EXPECT_EQ(reason(format(ValueType::u16), {0xFFFF}), "not implemented: u16 0xFFFF");
  EXPECT_EQ(reason(format(ValueType::s16), {0x8000}), "not implemented: s16 0x8000");
  EXPECT_EQ(reason(format(ValueType::u32), {0xFFFF, 0xFFFF}), "not implemented: u32 0xFFFFFFFF");
  EXPECT_EQ(reason(format(ValueType::s32), {0x8000, 0x0000}), "not implemented: s32 0x80000000");
  EXPECT_EQ(reason(format(ValueType::s32, WordOrder::cdab), {0x0000, 0x8000}),
            "not implemented: s32 0x80000000");
  EXPECT_EQ(reason(format(ValueType::u64), {0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF}),
            "not implemented: u64 0xFFFFFFFFFFFFFFFF");
  EXPECT_EQ(reason(format(ValueType::s64), {0x8000, 0, 0, 0}),
            "not implemented: s64 0x8000000000000000");
  EXPECT_EQ(reason(format(ValueType::f32), {0x7FC0, 0x0000}),
            "not implemented: f32 NaN 0x7FC00000");
  EXPECT_EQ(reason(format(ValueType::f32), {0xFFFF, 0xFFFF}),
            "not implemented: f32 NaN 0xFFFFFFFF");
  EXPECT_EQ(reason(format(ValueType::f64), {0x7FF8, 0, 0, 0}),
            "not implemented: f64 NaN 0x7FF8000000000000");
  // Fixed-point and scale-factor points check their raw integer.
  ValueFormat fixed = format(ValueType::s16);
  fixed.scaling = Scaling::fixed_point;
  fixed.precision = 8;
  EXPECT_EQ(reason(fixed, {0x8000}), "not implemented: s16 0x8000");
  // Near misses are numbers.
  EXPECT_EQ(number(format(ValueType::u16), {0xFFFE}), 65534.0);
  EXPECT_EQ(number(format(ValueType::s16), {0xFFFF}), -1.0);
  EXPECT_EQ(number(format(ValueType::u16), {0x8000}), 32768.0);
  EXPECT_TRUE(std::isinf(number(format(ValueType::f32), {0x7F80, 0x0000})));
}

TEST(ModbusDecode, SentinelsSwitchedOffGiveTheNumber) {
  auto off = [](ValueType type) {
    ValueFormat f = format(type);
    f.sentinels = false;
    return f;
  };
  EXPECT_EQ(number(off(ValueType::u16), {0xFFFF}), 65535.0);
  EXPECT_EQ(number(off(ValueType::s16), {0x8000}), -32768.0);
  EXPECT_EQ(number(off(ValueType::u32), {0xFFFF, 0xFFFF}), 4294967295.0);
  EXPECT_EQ(number(off(ValueType::s32), {0x8000, 0x0000}), -2147483648.0);
  EXPECT_EQ(number(off(ValueType::u64), {0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF}), 18446744073709551615.0);
  EXPECT_EQ(number(off(ValueType::s64), {0x8000, 0, 0, 0}), -9223372036854775808.0);
  EXPECT_TRUE(std::isnan(number(off(ValueType::f32), {0x7FC0, 0x0000})));
  EXPECT_TRUE(std::isnan(number(off(ValueType::f64), {0x7FF8, 0, 0, 0})));
}

TEST(ModbusDecode, ScaleFactors) {
  ValueFormat f = format(ValueType::u16);
  f.scaling = Scaling::scale_factor;
  EXPECT_EQ(number(f, {12345}, 0x0000), 12345.0);
  EXPECT_EQ(number(f, {12345}, 0xFFFE), 123.45);  // sf −2
  EXPECT_EQ(number(f, {12345}, 0x0003), 12345000.0);
  EXPECT_EQ(number(f, {7}, 0xFFFD), 0.007);  // sf −3
  ValueFormat s = format(ValueType::s16);
  s.scaling = Scaling::scale_factor;
  EXPECT_EQ(number(s, {0xFE0C}, 0xFFFF), -50.0);  // −500 × 10^−1
  ValueFormat acc = format(ValueType::u32);
  acc.scaling = Scaling::scale_factor;
  EXPECT_EQ(number(acc, {0x0001, 0x0000}, 0x0001), 655360.0);
  // SunSpec's "not implemented" scale factor, whatever the sentinel switch says.
  EXPECT_EQ(reason(f, {12345}, 0x8000), "not implemented: scale factor 0x8000");
  f.sentinels = false;
  EXPECT_EQ(reason(f, {12345}, 0x8000), "not implemented: scale factor 0x8000");
  // SunSpec scale factors are -10..10; beyond, the product would be bogus
  // (0 × 10^9984 is NaN).
  f.sentinels = true;
  EXPECT_EQ(number(f, {3}, 0x000A), 30000000000.0);
  EXPECT_EQ(number(f, {3}, 0xFFF6), 3e-10);
  EXPECT_EQ(reason(f, {0}, 0x2700), "scale factor 9984 outside -10..10");
  EXPECT_EQ(reason(f, {3}, 0x000B), "scale factor 11 outside -10..10");
  EXPECT_EQ(reason(f, {3}, 0xFFF5), "scale factor -11 outside -10..10");
  // The value's own sentinel comes first.
  s.sentinels = true;
  EXPECT_EQ(reason(s, {0x8000}, 0xFFFE), "not implemented: s16 0x8000");
}

TEST(ModbusDecode, FixedPoint) {
  ValueFormat u = format(ValueType::u16);
  u.scaling = Scaling::fixed_point;
  u.precision = 8;
  EXPECT_EQ(number(u, {0x0180}), 1.5);
  u.precision = 0;
  EXPECT_EQ(number(u, {0x0180}), 384.0);
  ValueFormat s = format(ValueType::s16);
  s.scaling = Scaling::fixed_point;
  s.precision = 7;
  EXPECT_EQ(number(s, {0xFF80}), -1.0);
  ValueFormat w = format(ValueType::u32);
  w.scaling = Scaling::fixed_point;
  w.precision = 16;
  EXPECT_EQ(number(w, {0x0001, 0x8000}), 1.5);
  w.order = WordOrder::cdab;
  EXPECT_EQ(number(w, {0x8000, 0x0001}), 1.5);
  ValueFormat big = format(ValueType::s64);
  big.scaling = Scaling::fixed_point;
  big.precision = 64;
  EXPECT_EQ(number(big, {0xC000, 0, 0, 0}), -0.25);
}

TEST(ModbusDecode, Bits) {
  ValueFormat f = format(ValueType::bit);
  for (unsigned bit = 0; bit < 16; ++bit) {
    f.bit = bit;
    EXPECT_EQ(number(f, {0x8421}), (0x8421u >> bit) & 1u ? 1.0 : 0.0) << bit;
  }
  // A bit of a register that happens to read 0xFFFF is still 1.
  f.bit = 3;
  EXPECT_EQ(number(f, {0xFFFF}), 1.0);
  // Coils and discrete inputs arrive as 0/1 values.
  f.bit = 0;
  EXPECT_EQ(number(f, {1}), 1.0);
  EXPECT_EQ(number(f, {0}), 0.0);
}

std::string text(const ValueFormat& f, const Regs& regs) {
  auto r = decode_value(f, regs);
  EXPECT_TRUE(r) << r.error().message;
  if (!r) return {};
  EXPECT_EQ(r->kind, Value::Kind::text) << r->reason;
  return r->text;
}

TEST(ModbusDecode, Strings) {
  const ValueFormat f = format(ValueType::string);
  EXPECT_EQ(text(f, {0x4142, 0x4344}), "ABCD");
  EXPECT_EQ(text(f, {0x4142, 0x4344, 0x4500}), "ABCDE");
  EXPECT_EQ(text(f, {0x5053, 0x5520, 0x2020}), "PSU");  // trailing spaces
  EXPECT_EQ(text(f, {0x4142, 0x0000, 0x5858}), "AB");   // what follows a NUL is filler
  EXPECT_EQ(text(f, {0x2041, 0x2042}), " A B");         // leading and inner spaces stay
  EXPECT_EQ(text(format(ValueType::string, WordOrder::badc), {0x4241, 0x4443}), "ABCD");
  EXPECT_EQ(text(format(ValueType::string, WordOrder::cdab), {0x4142, 0x4344}), "ABCD");
  EXPECT_EQ(text(f, {0x41FF, 0x0742}), "A??B");  // not printable ASCII
  EXPECT_EQ(text(f, {0x2020}), "");
  EXPECT_EQ(reason(f, {0x0000, 0x0000}), "not implemented: string of NULs");
  ValueFormat off = f;
  off.sentinels = false;
  EXPECT_EQ(text(off, {0x0000, 0x0000}), "");
}

TEST(ModbusDecode, ReportsEveryDecodeError) {
  struct Case {
    ValueFormat format;
    Regs regs;
    std::optional<std::uint16_t> sf;
    ErrorCode code;
    std::string message;
  };
  ValueFormat fixed_float = format(ValueType::f32);
  fixed_float.scaling = Scaling::fixed_point;
  ValueFormat sf_bit = format(ValueType::bit);
  sf_bit.scaling = Scaling::scale_factor;
  ValueFormat precise = format(ValueType::u16);
  precise.scaling = Scaling::fixed_point;
  precise.precision = 65;
  ValueFormat no_sf = format(ValueType::s16);
  no_sf.scaling = Scaling::scale_factor;
  ValueFormat bit16 = format(ValueType::bit);
  bit16.bit = 16;
  const Case cases[] = {
      {format(ValueType::u16), {}, {}, ErrorCode::register_count, "u16 needs 1 register, got 0"},
      {format(ValueType::s16),
       {1, 2},
       {},
       ErrorCode::register_count,
       "s16 needs 1 register, got 2"},
      {format(ValueType::f32),
       {0x42F6},
       {},
       ErrorCode::register_count,
       "f32 needs 2 registers, got 1"},
      {format(ValueType::u32),
       {1, 2, 3},
       {},
       ErrorCode::register_count,
       "u32 needs 2 registers, got 3"},
      {format(ValueType::s64),
       {1, 2},
       {},
       ErrorCode::register_count,
       "s64 needs 4 registers, got 2"},
      {format(ValueType::f64),
       {1, 2, 3},
       {},
       ErrorCode::register_count,
       "f64 needs 4 registers, got 3"},
      {format(ValueType::string),
       {},
       {},
       ErrorCode::register_count,
       "string needs at least 1 register, got 0"},
      {fixed_float,
       {0, 0},
       {},
       ErrorCode::invalid_format,
       "scaling applies to integer types, not f32"},
      {sf_bit, {0}, 0, ErrorCode::invalid_format, "scaling applies to integer types, not bit"},
      {precise, {0}, {}, ErrorCode::invalid_format, "fixed-point precision 65 outside 0..64"},
      {no_sf, {0}, {}, ErrorCode::invalid_format, "scale factor register missing"},
      {bit16, {0}, {}, ErrorCode::invalid_format, "bit 16 outside 0..15"},
  };
  for (const auto& c : cases) {
    auto r = decode_value(c.format, c.regs, c.sf);
    ASSERT_FALSE(r) << c.message;
    EXPECT_EQ(r.error().code, c.code) << c.message;
    EXPECT_EQ(r.error().message, c.message);
  }
}

TEST(ModbusDecode, NamesTypesAndOrders) {
  for (auto t :
       {ValueType::u16, ValueType::s16, ValueType::u32, ValueType::s32, ValueType::u64,
        ValueType::s64, ValueType::f32, ValueType::f64, ValueType::bit, ValueType::string}) {
    EXPECT_EQ(parse_value_type(value_type_name(t)), t);
  }
  for (auto o : {WordOrder::abcd, WordOrder::cdab, WordOrder::badc, WordOrder::dcba}) {
    EXPECT_EQ(parse_word_order(word_order_name(o)), o);
  }
  EXPECT_FALSE(parse_value_type("float"));
  EXPECT_FALSE(parse_word_order("ABCD"));
  EXPECT_EQ(register_count(ValueType::f64), 4u);
  EXPECT_EQ(register_count(ValueType::string), 0u);
}

}  // namespace
}  // namespace rackwatch::modbus
