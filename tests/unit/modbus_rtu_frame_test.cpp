#include "sources/modbus/modbus_rtu_frame.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "sources/modbus/modbus_crc.hpp"

namespace rackwatch::modbus {
namespace {

using Bytes = std::vector<std::uint8_t>;
using std::chrono::nanoseconds;

constexpr ReadRequest kTen{FunctionCode::read_holding_registers, 0, 10};
constexpr ReadRequest kTwo{FunctionCode::read_holding_registers, 0x0100, 2};

// Appends the CRC, low byte first, computed here by the serial-line spec's
// bitwise procedure rather than by the code under test.
Bytes with_crc(Bytes frame) {
  std::uint16_t crc = 0xFFFF;
  for (auto b : frame) {
    crc ^= b;
    for (int i = 0; i < 8; ++i)
      crc = (crc & 1) ? static_cast<std::uint16_t>((crc >> 1) ^ 0xA001)
                      : static_cast<std::uint16_t>(crc >> 1);
  }
  frame.push_back(static_cast<std::uint8_t>(crc & 0xFF));
  frame.push_back(static_cast<std::uint8_t>(crc >> 8));
  return frame;
}

TEST(ModbusRtuFrame, EncodesTheKnownRequest) {
  auto f = encode_rtu_request(1, kTen);
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(*f, (Bytes{0x01, 0x03, 0x00, 0x00, 0x00, 0x0A, 0xC5, 0xCD}));
  auto g = encode_rtu_request(0x11, {FunctionCode::read_input_registers, 0x0008, 1});
  ASSERT_TRUE(g);
  EXPECT_EQ(*g, with_crc({0x11, 0x04, 0x00, 0x08, 0x00, 0x01}));
}

TEST(ModbusRtuFrame, RefusesUnitsThatCannotAnswer) {
  for (unsigned unit : {0u, 248u, 255u}) {
    auto f = encode_rtu_request(static_cast<std::uint8_t>(unit), kTen);
    ASSERT_FALSE(f);
    EXPECT_EQ(f.error().code, ErrorCode::invalid_unit);
  }
  EXPECT_EQ(encode_rtu_request(0, kTen).error().message, "unit address 0 is outside 1..247");
  EXPECT_TRUE(encode_rtu_request(247, kTen));
  EXPECT_EQ(encode_rtu_request(1, {FunctionCode::read_coils, 0, 2001}).error().code,
            ErrorCode::invalid_quantity);
  EXPECT_EQ(encode_rtu_frame(1, Bytes(254, 3)).error().code, ErrorCode::pdu_too_long);
  EXPECT_EQ(encode_rtu_frame(1, Bytes{}).error().code, ErrorCode::truncated);
}

TEST(ModbusRtuFrame, DecodesAResponse) {
  const Bytes frame = with_crc({0x05, 0x03, 0x04, 0x12, 0x34, 0xAB, 0xCD});
  EXPECT_EQ(rtu_response_size(kTwo), frame.size());
  auto r = decode_rtu_response(kTwo, 5, frame);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->values, (std::vector<std::uint16_t>{0x1234, 0xABCD}));

  auto f = decode_rtu_frame(kTwo, 5, frame);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->unit, 5);
  EXPECT_EQ(f->pdu, (Bytes{0x03, 0x04, 0x12, 0x34, 0xAB, 0xCD}));
}

TEST(ModbusRtuFrame, RoundTripsEveryFunction) {
  for (auto function : {FunctionCode::read_coils, FunctionCode::read_discrete_inputs,
                        FunctionCode::read_holding_registers, FunctionCode::read_input_registers}) {
    const std::uint16_t n = reads_bits(function) ? 2000 : 125;
    std::vector<std::uint16_t> values(n);
    for (std::uint16_t i = 0; i < n; ++i) {
      values[i] = reads_bits(function) ? static_cast<std::uint16_t>(i % 3 == 1)
                                       : static_cast<std::uint16_t>(0xFFFF - i);
    }
    auto pdu = encode_read_response(function, values);
    ASSERT_TRUE(pdu);
    auto frame = encode_rtu_frame(247, *pdu);
    ASSERT_TRUE(frame);
    const ReadRequest request{function, 0, n};
    EXPECT_LE(frame->size(), kMaxRtuFrameSize);
    EXPECT_EQ(frame->size(), rtu_response_size(request));
    auto back = decode_rtu_response(request, 247, *frame);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->values, values);
  }
}

TEST(ModbusRtuFrame, DecodesAnExceptionFrame) {
  const Bytes frame = with_crc({0x01, 0x83, 0x02});
  EXPECT_EQ(frame, (Bytes{0x01, 0x83, 0x02, 0xC0, 0xF1}));
  EXPECT_EQ(rtu_expected_size(kTen, frame), kRtuExceptionFrameSize);
  auto r = decode_rtu_response(kTen, 1, frame);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::exception);
  EXPECT_EQ(r.error().exception_code, 0x02);
  EXPECT_EQ(r.error().message, "exception 0x02 illegal data address");
  // A gateway that cannot reach the device.
  auto gw = decode_rtu_response(kTen, 1, with_crc({0x01, 0x83, 0x0B}));
  EXPECT_EQ(gw.error().message, "exception 0x0B gateway target device failed to respond");
}

TEST(ModbusRtuFrame, ExpectedSizeFollowsWhatArrived) {
  EXPECT_EQ(rtu_expected_size(kTen, Bytes{}), 5u);
  EXPECT_EQ(rtu_expected_size(kTen, Bytes{0x01}), 5u);
  EXPECT_EQ(rtu_expected_size(kTen, Bytes{0x01, 0x83}), 5u);
  EXPECT_EQ(rtu_expected_size(kTen, Bytes{0x01, 0x03}), 1u + 2u + 20u + 2u);
  EXPECT_EQ(rtu_expected_size({FunctionCode::read_coils, 0, 9}, Bytes{0x01, 0x01}),
            1u + 2u + 2u + 2u);
}

TEST(ModbusRtuFrame, ReportsEveryFrameError) {
  const Bytes good = with_crc({0x05, 0x03, 0x04, 0x12, 0x34, 0xAB, 0xCD});

  auto truncated = decode_rtu_response(kTwo, 5, Bytes(good.begin(), good.end() - 1));
  EXPECT_EQ(truncated.error().code, ErrorCode::truncated);
  EXPECT_EQ(truncated.error().message, "RTU frame of 8 bytes (9 expected)");
  EXPECT_EQ(decode_rtu_response(kTwo, 5, Bytes{0x05, 0x03}).error().code, ErrorCode::truncated);
  EXPECT_EQ(decode_rtu_response(kTwo, 5, Bytes{}).error().message,
            "RTU frame of 0 bytes (5 expected)");
  EXPECT_EQ(decode_rtu_response(kTwo, 5, Bytes{0x05, 0x83, 0x02, 0x00}).error().message,
            "RTU exception frame of 4 bytes (5 expected)");

  Bytes longer = good;
  longer.push_back(0x00);
  auto too_long = decode_rtu_response(kTwo, 5, longer);
  EXPECT_EQ(too_long.error().code, ErrorCode::length_mismatch);
  EXPECT_EQ(too_long.error().message, "RTU frame of 10 bytes (9 expected)");

  Bytes corrupt = good;
  corrupt[3] ^= 0x01;
  auto crc = decode_rtu_response(kTwo, 5, corrupt);
  EXPECT_EQ(crc.error().code, ErrorCode::crc_mismatch);
  const std::uint16_t sent = static_cast<std::uint16_t>(good[7] | (good[8] << 8));
  EXPECT_EQ(crc.error().message, "CRC " + hex(sent, 4) + " does not match the computed " +
                                     hex(crc16(std::span(corrupt).first(7)), 4));
  Bytes swapped = good;  // CRC bytes high first: wrong on the wire
  std::swap(swapped[7], swapped[8]);
  EXPECT_EQ(decode_rtu_response(kTwo, 5, swapped).error().code, ErrorCode::crc_mismatch);

  auto unit = decode_rtu_response(kTwo, 6, good);
  EXPECT_EQ(unit.error().code, ErrorCode::unit_mismatch);
  EXPECT_EQ(unit.error().message, "unit 5 answered, 6 was asked");

  // Same size, valid CRC, another function: the PDU decoder says so.
  auto function = decode_rtu_response(kTwo, 5, with_crc({0x05, 0x04, 0x04, 0, 0, 0, 0}));
  EXPECT_EQ(function.error().code, ErrorCode::function_mismatch);
  EXPECT_EQ(function.error().message, "function code 0x04 answers a request for 0x03");

  auto byte_count = decode_rtu_response(kTwo, 5, with_crc({0x05, 0x03, 0x05, 0, 0, 0, 0}));
  EXPECT_EQ(byte_count.error().code, ErrorCode::byte_count_mismatch);
  EXPECT_EQ(byte_count.error().message, "byte count 5 does not match 2 registers");
}

TEST(ModbusRtuFrame, ComputesLineTiming) {
  // 9600 8E1: 11 bits a character.
  auto t = rtu_timing({9600, 8, Parity::even, 1});
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->character, nanoseconds(1'145'834));        // 11/9600 s, rounded up
  EXPECT_EQ(t->inter_character, nanoseconds(1'718'750));  // 1.5 characters
  EXPECT_EQ(t->inter_frame, nanoseconds(4'010'417));      // 3.5 characters

  // 19200 8N2, still timed by characters: 11 bits.
  auto u = rtu_timing({19200, 8, Parity::none, 2});
  ASSERT_TRUE(u);
  EXPECT_EQ(u->character, nanoseconds(572'917));
  EXPECT_EQ(u->inter_frame, nanoseconds(2'005'209));

  // 8N1 is 10 bits.
  auto v = rtu_timing({4800, 8, Parity::none, 1});
  ASSERT_TRUE(v);
  EXPECT_EQ(v->character, nanoseconds(2'083'334));
  EXPECT_EQ(v->inter_frame, nanoseconds(7'291'667));

  // Above 19200 baud the spec fixes the timers.
  for (unsigned baud : {19201u, 38400u, 115200u}) {
    auto w = rtu_timing({baud, 8, Parity::even, 1});
    ASSERT_TRUE(w);
    EXPECT_EQ(w->inter_character, std::chrono::microseconds(750));
    EXPECT_EQ(w->inter_frame, std::chrono::microseconds(1750));
  }
  EXPECT_EQ(rtu_timing({115200, 8, Parity::none, 1})->character, nanoseconds(86'806));

  EXPECT_EQ(rtu_timing({0, 8, Parity::even, 1}).error().message, "baud rate 0");
  EXPECT_EQ(rtu_timing({9600, 9, Parity::even, 1}).error().code,
            ErrorCode::invalid_serial_settings);
  EXPECT_EQ(rtu_timing({9600, 8, Parity::even, 3}).error().message, "stop bits 3 outside 1..2");
  EXPECT_EQ(rtu_timing({9600, 8, Parity::even, 0}).error().code,
            ErrorCode::invalid_serial_settings);
}

}  // namespace
}  // namespace rackwatch::modbus
