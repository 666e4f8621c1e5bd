#include "sources/modbus/modbus_pdu.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace rackwatch::modbus {
namespace {

using Bytes = std::vector<std::uint8_t>;

constexpr ReadRequest kHolding{FunctionCode::read_holding_registers, 0x006B, 3};

TEST(ModbusPdu, EncodesTheSpecExampleRequest) {
  // Application Protocol v1.1b3 §6.3: read holding registers 108-110.
  auto pdu = encode_read_request(kHolding);
  ASSERT_TRUE(pdu) << pdu.error().message;
  EXPECT_EQ(*pdu, (Bytes{0x03, 0x00, 0x6B, 0x00, 0x03}));

  auto coils = encode_read_request({FunctionCode::read_coils, 0x0013, 0x0013});
  ASSERT_TRUE(coils);
  EXPECT_EQ(*coils, (Bytes{0x01, 0x00, 0x13, 0x00, 0x13}));
}

TEST(ModbusPdu, EnforcesQuantityAndAddressLimits) {
  struct Case {
    ReadRequest request;
    bool ok;
    ErrorCode code;
  };
  const Case cases[] = {
      {{FunctionCode::read_holding_registers, 0, 125}, true, {}},
      {{FunctionCode::read_input_registers, 0, 126}, false, ErrorCode::invalid_quantity},
      {{FunctionCode::read_holding_registers, 0, 0}, false, ErrorCode::invalid_quantity},
      {{FunctionCode::read_coils, 0, 2000}, true, {}},
      {{FunctionCode::read_discrete_inputs, 0, 2001}, false, ErrorCode::invalid_quantity},
      {{FunctionCode::read_coils, 0, 0}, false, ErrorCode::invalid_quantity},
      {{FunctionCode::read_holding_registers, 65535, 1}, true, {}},
      {{FunctionCode::read_holding_registers, 65411, 125}, true, {}},  // ends at 65535
      {{FunctionCode::read_holding_registers, 65412, 125}, false, ErrorCode::address_overflow},
      {{FunctionCode::read_coils, 65535, 2}, false, ErrorCode::address_overflow},
  };
  for (const auto& c : cases) {
    auto pdu = encode_read_request(c.request);
    ASSERT_EQ(pdu.ok(), c.ok) << c.request.address << " " << c.request.quantity;
    if (!c.ok) {
      EXPECT_EQ(pdu.error().code, c.code) << pdu.error().message;
    }
  }
  EXPECT_EQ(encode_read_request({FunctionCode::read_input_registers, 0, 126}).error().message,
            "quantity 126 is outside 1..125 for read input registers");
  EXPECT_EQ(encode_read_request({FunctionCode::read_holding_registers, 65412, 125}).error().message,
            "address 65412 + quantity 125 runs past 65535");
}

TEST(ModbusPdu, DecodesTheSpecExampleResponses) {
  auto regs = decode_read_response(kHolding, Bytes{0x03, 0x06, 0x02, 0x2B, 0x00, 0x00, 0x00, 0x64});
  ASSERT_TRUE(regs) << regs.error().message;
  EXPECT_EQ(regs->values, (std::vector<std::uint16_t>{0x022B, 0x0000, 0x0064}));

  // §6.1: coils 20-38; the first coil is the lowest bit of the first byte.
  const ReadRequest coils{FunctionCode::read_coils, 19, 19};
  auto bits = decode_read_response(coils, Bytes{0x01, 0x03, 0xCD, 0x6B, 0x05});
  ASSERT_TRUE(bits) << bits.error().message;
  EXPECT_EQ(bits->values, (std::vector<std::uint16_t>{1, 0, 1, 1, 0, 0, 1, 1,  // 0xCD
                                                      1, 1, 0, 1, 0, 1, 1, 0,  // 0x6B
                                                      1, 0, 1}));              // 0x05
  // Padding bits past the quantity are ignored.
  auto padded = decode_read_response(coils, Bytes{0x01, 0x03, 0xCD, 0x6B, 0xFD});
  ASSERT_TRUE(padded);
  EXPECT_EQ(padded->values, bits->values);
}

TEST(ModbusPdu, RoundTripsResponses) {
  for (auto function : {FunctionCode::read_coils, FunctionCode::read_discrete_inputs,
                        FunctionCode::read_holding_registers, FunctionCode::read_input_registers}) {
    const std::uint16_t quantity = reads_bits(function) ? 2000 : 125;
    for (std::uint16_t n :
         {std::uint16_t{1}, std::uint16_t{7}, std::uint16_t{8}, std::uint16_t{9}, quantity}) {
      std::vector<std::uint16_t> values;
      for (std::uint16_t i = 0; i < n; ++i) {
        values.push_back(reads_bits(function) ? static_cast<std::uint16_t>((i * 7 + 3) % 3 == 0)
                                              : static_cast<std::uint16_t>(i * 0x0101 + 0x8000));
      }
      auto pdu = encode_read_response(function, values);
      ASSERT_TRUE(pdu) << pdu.error().message;
      const ReadRequest request{function, 100, n};
      EXPECT_EQ(pdu->size(), response_pdu_size(request));
      auto back = decode_read_response(request, *pdu);
      ASSERT_TRUE(back) << back.error().message;
      EXPECT_EQ(back->values, values) << function_name(function) << " " << n;
    }
  }
}

TEST(ModbusPdu, RoundTripsRequests) {
  for (auto request : {ReadRequest{FunctionCode::read_coils, 0, 1},
                       ReadRequest{FunctionCode::read_discrete_inputs, 65535, 1},
                       ReadRequest{FunctionCode::read_input_registers, 30000, 125}, kHolding}) {
    auto pdu = encode_read_request(request);
    ASSERT_TRUE(pdu);
    auto back = decode_read_request(*pdu);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(*back, request);
  }
  EXPECT_EQ(decode_read_request(Bytes{}).error().code, ErrorCode::truncated);
  EXPECT_EQ(decode_read_request(Bytes{0x03, 0x00}).error().code, ErrorCode::truncated);
  EXPECT_EQ(decode_read_request(Bytes{0x03, 0, 0, 0, 1, 0}).error().code,
            ErrorCode::length_mismatch);
  EXPECT_EQ(decode_read_request(Bytes{0x06, 0, 0, 0, 1}).error().message,
            "function code 0x06 is not a read (0x01-0x04)");
  EXPECT_EQ(decode_read_request(Bytes{0x03, 0, 0, 0, 126}).error().code,
            ErrorCode::invalid_quantity);
}

TEST(ModbusPdu, NamesEveryException) {
  const std::pair<std::uint8_t, std::string> names[] = {
      {0x01, "illegal function"},
      {0x02, "illegal data address"},
      {0x03, "illegal data value"},
      {0x04, "server device failure"},
      {0x05, "acknowledge"},
      {0x06, "server device busy"},
      {0x08, "memory parity error"},
      {0x0A, "gateway path unavailable"},
      {0x0B, "gateway target device failed to respond"},
  };
  for (const auto& [code, name] : names) {
    EXPECT_EQ(exception_name(code), name);
    auto r = decode_read_response(kHolding, encode_exception_response(kHolding.function, code));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::exception);
    EXPECT_EQ(r.error().exception_code, code);
    char hex_code[8];
    std::snprintf(hex_code, sizeof hex_code, "0x%02X", static_cast<unsigned>(code));
    EXPECT_EQ(r.error().message, "exception " + std::string(hex_code) + " " + name);
  }
  EXPECT_EQ(decode_read_response(kHolding, Bytes{0x83, 0x02}).error().message,
            "exception 0x02 illegal data address");
  for (unsigned unknown : {0x00u, 0x07u, 0x09u, 0x0Cu, 0xFFu}) {
    EXPECT_EQ(exception_name(static_cast<std::uint8_t>(unknown)), "unknown exception");
  }
  EXPECT_EQ(decode_read_response(kHolding, Bytes{0x83, 0x07}).error().message,
            "exception 0x07 unknown exception");
  EXPECT_EQ(static_cast<std::uint8_t>(ExceptionCode::gateway_target_failed_to_respond), 0x0B);
}

TEST(ModbusPdu, ReportsEveryDecodeError) {
  struct Case {
    Bytes pdu;
    ErrorCode code;
    std::string message;
  };
  const Case cases[] = {
      {{}, ErrorCode::truncated, "empty response PDU"},
      {{0x03}, ErrorCode::truncated, "response without a byte count"},
      {{0x04, 0x06, 0, 0, 0, 0, 0, 0},
       ErrorCode::function_mismatch,
       "function code 0x04 answers a request for 0x03"},
      {{0x84, 0x02},
       ErrorCode::function_mismatch,
       "exception for function code 0x04 answers a request for 0x03"},
      {{0x83}, ErrorCode::truncated, "exception response of 1 byte (2 expected)"},
      {{0x83, 0x02, 0x00},
       ErrorCode::length_mismatch,
       "exception response of 3 bytes (2 expected)"},
      {{0x03, 0x07, 0, 0, 0, 0, 0, 0, 0},
       ErrorCode::byte_count_mismatch,
       "byte count 7 does not match 3 registers"},
      {{0x03, 0x06, 0x02, 0x2B},
       ErrorCode::truncated,
       "response carries 2 data bytes, byte count says 6"},
      {{0x03, 0x06, 0, 0, 0, 0, 0, 0, 0},
       ErrorCode::length_mismatch,
       "response carries 7 data bytes, byte count says 6"},
  };
  for (const auto& c : cases) {
    auto r = decode_read_response(kHolding, c.pdu);
    ASSERT_FALSE(r) << c.message;
    EXPECT_EQ(r.error().code, c.code) << c.message;
    EXPECT_EQ(r.error().message, c.message);
  }
  // Bits: ceil(quantity / 8) bytes.
  const ReadRequest coils{FunctionCode::read_coils, 0, 19};
  EXPECT_EQ(decode_read_response(coils, Bytes{0x01, 0x02, 0xFF, 0xFF}).error().message,
            "byte count 2 does not match 19 coils");
  const ReadRequest inputs{FunctionCode::read_discrete_inputs, 0, 8};
  EXPECT_EQ(decode_read_response(inputs, Bytes{0x02, 0x02, 0xFF, 0xFF}).error().message,
            "byte count 2 does not match 8 discrete inputs");
  EXPECT_TRUE(decode_read_response(inputs, Bytes{0x02, 0x01, 0xFF}));
}

TEST(ModbusPdu, EncodeResponseRejectsWhatDoesNotFit) {
  std::vector<std::uint16_t> too_many(126, 1);
  EXPECT_EQ(encode_read_response(FunctionCode::read_holding_registers, too_many).error().code,
            ErrorCode::invalid_quantity);
  EXPECT_FALSE(encode_read_response(FunctionCode::read_coils, {}));
  EXPECT_EQ(encode_exception_response(FunctionCode::read_input_registers, 0x0B),
            (Bytes{0x84, 0x0B}));
}

TEST(ModbusPdu, NamesErrorCodes) {
  EXPECT_EQ(error_code_name(ErrorCode::crc_mismatch), "crc_mismatch");
  EXPECT_EQ(error_code_name(ErrorCode::exception), "exception");
  EXPECT_EQ(hex(0x2A, 2), "0x2A");
  EXPECT_EQ(hex(0xCDC5, 4), "0xCDC5");
  EXPECT_EQ(hex(0x12345, 4), "0x12345");
}

}  // namespace
}  // namespace rackwatch::modbus
