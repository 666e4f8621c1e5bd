// RtuAnswer: an RTU answer assembled from pieces cut anywhere (a serial
// port's reads, a serial device server's TCP segments) is the same answer,
// complete at the size its request implies, and never takes the bytes that
// follow it.
#include "sources/modbus/modbus_rtu_answer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "sources/modbus/modbus_rtu_frame.hpp"

namespace rackwatch::modbus {
namespace {

using Bytes = std::vector<std::uint8_t>;

constexpr ReadRequest kTwo{FunctionCode::read_holding_registers, 0, 2};

// The answer of unit 1 to kTwo: 0x1234, 0x5678 (CRC from encode_rtu_frame).
Bytes two_registers() {
  return encode_rtu_frame(1, Bytes{0x03, 0x04, 0x12, 0x34, 0x56, 0x78}).value();
}

// Feeds `stream` in pieces of `piece` bytes, each read asking for at most
// missing(), as the clients do; returns what was left unread.
Bytes feed(RtuAnswer& answer, const Bytes& stream, std::size_t piece) {
  std::size_t at = 0;
  while (!answer.complete() && at < stream.size()) {
    const std::size_t n = std::min({piece, answer.missing(), stream.size() - at});
    EXPECT_EQ(answer.append(std::span(stream).subspan(at, n)), n);
    at += n;
  }
  return Bytes(stream.begin() + static_cast<std::ptrdiff_t>(at), stream.end());
}

TEST(ModbusRtuAnswer, AnyCutGivesTheSameAnswerAndLeavesWhatFollows) {
  Bytes stream = two_registers();
  const Bytes frame = stream;
  stream.insert(stream.end(), {0xAA, 0xBB});  // noise after the answer
  for (std::size_t piece = 1; piece <= stream.size(); ++piece) {
    RtuAnswer answer(kTwo);
    const Bytes rest = feed(answer, stream, piece);
    ASSERT_TRUE(answer.complete()) << "pieces of " << piece;
    EXPECT_EQ(Bytes(answer.bytes().begin(), answer.bytes().end()), frame) << "pieces of " << piece;
    EXPECT_EQ(rest, (Bytes{0xAA, 0xBB})) << "pieces of " << piece;
    EXPECT_TRUE(decode_rtu_response(kTwo, 1, answer.bytes()));
  }
}

TEST(ModbusRtuAnswer, AsksForTheLeastFrameUntilTheFunctionCodeSaysMore) {
  RtuAnswer answer(kTwo);
  EXPECT_TRUE(answer.empty());
  EXPECT_EQ(answer.missing(), kRtuExceptionFrameSize);
  const Bytes frame = two_registers();
  EXPECT_EQ(answer.append(std::span(frame).first(1)), 1u);
  EXPECT_EQ(answer.missing(), 4u) << "5 until the function code is there";
  EXPECT_EQ(answer.append(std::span(frame).subspan(1, 1)), 1u);
  EXPECT_EQ(answer.missing(), frame.size() - 2) << "then the request's size";
}

TEST(ModbusRtuAnswer, OneAppendTakesExactlyTheAnswer) {
  Bytes stream = two_registers();
  stream.push_back(0x01);
  RtuAnswer answer(kTwo);
  EXPECT_EQ(answer.append(stream), stream.size() - 1);
  EXPECT_TRUE(answer.complete());
  EXPECT_EQ(answer.append(stream), 0u) << "a complete answer takes nothing more";
}

TEST(ModbusRtuAnswer, ExceptionAnswerEndsAtFiveBytes) {
  Bytes stream = encode_rtu_frame(1, Bytes{0x83, 0x02}).value();
  stream.push_back(0x00);
  RtuAnswer answer(kTwo);
  EXPECT_EQ(answer.append(stream), kRtuExceptionFrameSize);
  EXPECT_TRUE(answer.complete());
  const auto decoded = decode_rtu_response(kTwo, 1, answer.bytes());
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, ErrorCode::exception);
  EXPECT_EQ(decoded.error().exception_code, 2);
}

}  // namespace
}  // namespace rackwatch::modbus
