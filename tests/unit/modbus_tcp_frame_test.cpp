#include "sources/modbus/modbus_tcp_frame.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace rackwatch::modbus {
namespace {

using Bytes = std::vector<std::uint8_t>;

constexpr ReadRequest kHolding{FunctionCode::read_holding_registers, 0x006B, 3};

// Every frame the decoder yields until it needs more bytes; fails the test on
// an error.
std::vector<TcpFrame> drain(TcpFrameDecoder& decoder) {
  std::vector<TcpFrame> frames;
  while (true) {
    auto r = decoder.next();
    EXPECT_TRUE(r) << r.error().message;
    if (!r || !*r) return frames;
    frames.push_back(**r);
  }
}

Bytes frame(std::uint16_t tid, std::uint8_t unit, const Bytes& pdu) {
  auto f = encode_tcp_frame(tid, unit, pdu);
  EXPECT_TRUE(f);
  return *f;
}

TEST(ModbusTcpFrame, EncodesTheMbapHeader) {
  auto f = encode_tcp_request(0x0001, 0x11, kHolding);
  ASSERT_TRUE(f) << f.error().message;
  // Transaction 1, protocol 0, length 6 (unit + 5 PDU bytes), unit 0x11.
  EXPECT_EQ(*f, (Bytes{0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x11, 0x03, 0x00, 0x6B, 0x00, 0x03}));
  EXPECT_EQ(encode_tcp_request(7, 1, {FunctionCode::read_holding_registers, 0, 200}).error().code,
            ErrorCode::invalid_quantity);
  EXPECT_EQ(encode_tcp_frame(1, 1, Bytes{}).error().code, ErrorCode::truncated);
  EXPECT_EQ(encode_tcp_frame(1, 1, Bytes(254, 0x03)).error().message,
            "PDU of 254 bytes (at most 253)");
  auto longest = encode_tcp_frame(0xFFFF, 0xFF, Bytes(253, 0x03));
  ASSERT_TRUE(longest);
  EXPECT_EQ(longest->size(), 260u);
  EXPECT_EQ((*longest)[4], 0x00);
  EXPECT_EQ((*longest)[5], 254);
}

TEST(ModbusTcpFrame, DecodesOneWholeFrame) {
  TcpFrameDecoder decoder;
  EXPECT_EQ(decoder.buffered(), 0u);
  decoder.feed(frame(0xBEEF, 0xFF, {0x03, 0x02, 0x12, 0x34}));
  auto frames = drain(decoder);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].transaction_id, 0xBEEF);
  EXPECT_EQ(frames[0].unit_id, 0xFF);
  EXPECT_EQ(frames[0].pdu, (Bytes{0x03, 0x02, 0x12, 0x34}));
  EXPECT_EQ(decoder.buffered(), 0u);
  // The PDU then decodes against the request.
  auto values = decode_read_response({FunctionCode::read_holding_registers, 0, 1}, frames[0].pdu);
  ASSERT_TRUE(values);
  EXPECT_EQ(values->values, (std::vector<std::uint16_t>{0x1234}));
}

TEST(ModbusTcpFrame, DecodesAByteAtATime) {
  const Bytes bytes = frame(42, 1, {0x04, 0x04, 0xAA, 0xBB, 0xCC, 0xDD});
  TcpFrameDecoder decoder;
  for (std::size_t i = 0; i + 1 < bytes.size(); ++i) {
    decoder.feed(std::span(bytes).subspan(i, 1));
    auto r = decoder.next();
    ASSERT_TRUE(r);
    EXPECT_FALSE(*r) << "a frame after only " << i + 1 << " bytes";
    EXPECT_EQ(decoder.buffered(), i + 1);
  }
  decoder.feed(std::span(bytes).last(1));
  auto frames = drain(decoder);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].transaction_id, 42);
}

TEST(ModbusTcpFrame, DecodesSeveralFramesInOneBufferAndAPartialTail) {
  Bytes stream;
  std::vector<TcpFrame> sent;
  for (std::uint16_t tid = 1; tid <= 5; ++tid) {
    Bytes pdu{0x03, static_cast<std::uint8_t>(2 * tid)};
    for (std::uint16_t i = 0; i < 2 * tid; ++i) pdu.push_back(static_cast<std::uint8_t>(tid + i));
    sent.push_back({tid, static_cast<std::uint8_t>(tid), pdu});
    const auto f = frame(tid, static_cast<std::uint8_t>(tid), pdu);
    stream.insert(stream.end(), f.begin(), f.end());
  }
  // Every split of the stream into two reads yields the same frames.
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    TcpFrameDecoder decoder;
    decoder.feed(std::span(stream).first(cut));
    auto frames = drain(decoder);
    decoder.feed(std::span(stream).subspan(cut));
    auto rest = drain(decoder);
    frames.insert(frames.end(), rest.begin(), rest.end());
    ASSERT_EQ(frames, sent) << "split at " << cut;
    EXPECT_EQ(decoder.buffered(), 0u);
  }
  // Reads of 3 bytes each: partial headers and partial PDUs alike.
  TcpFrameDecoder decoder;
  std::vector<TcpFrame> frames;
  for (std::size_t i = 0; i < stream.size(); i += 3) {
    decoder.feed(std::span(stream).subspan(i, std::min<std::size_t>(3, stream.size() - i)));
    auto got = drain(decoder);
    frames.insert(frames.end(), got.begin(), got.end());
  }
  EXPECT_EQ(frames, sent);
}

TEST(ModbusTcpFrame, ProtocolIdOtherThanZeroBreaksTheStream) {
  TcpFrameDecoder decoder;
  decoder.feed(Bytes{0x00, 0x01, 0x00, 0x01, 0x00, 0x03, 0x01, 0x83, 0x02});
  auto r = decoder.next();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::protocol_id);
  EXPECT_EQ(r.error().message, "MBAP protocol id 1 is not Modbus (0)");
  // The error stays: nothing after a broken header can be trusted.
  decoder.feed(frame(2, 1, {0x83, 0x02}));
  EXPECT_EQ(decoder.next().error().code, ErrorCode::protocol_id);
  decoder.reset();
  EXPECT_EQ(decoder.buffered(), 0u);
  decoder.feed(frame(2, 1, {0x83, 0x02}));
  EXPECT_EQ(drain(decoder).size(), 1u);
}

TEST(ModbusTcpFrame, LengthOutsideTwoTo254IsAnError) {
  for (std::uint16_t length :
       {std::uint16_t{0}, std::uint16_t{1}, std::uint16_t{255}, std::uint16_t{0xFFFF}}) {
    TcpFrameDecoder decoder;
    decoder.feed(Bytes{0x00, 0x01, 0x00, 0x00, static_cast<std::uint8_t>(length >> 8),
                       static_cast<std::uint8_t>(length & 0xFF), 0x01});
    auto r = decoder.next();
    ASSERT_FALSE(r) << length;
    EXPECT_EQ(r.error().code, ErrorCode::mbap_length);
    EXPECT_EQ(r.error().message, "MBAP length " + std::to_string(length) +
                                     " is outside 2..254 (unit id and a PDU of 1..253 bytes)");
  }
  // The bounds themselves: one PDU byte, and 253.
  for (std::size_t pdu_size : {std::size_t{1}, std::size_t{253}}) {
    TcpFrameDecoder decoder;
    decoder.feed(frame(9, 1, Bytes(pdu_size, 0x03)));
    auto frames = drain(decoder);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].pdu.size(), pdu_size);
  }
}

TEST(ModbusTcpFrame, ChecksTransactionAndUnit) {
  const TcpFrame f{7, 3, {0x83, 0x02}};
  EXPECT_FALSE(check_tcp_response(f, 7, 3));
  auto wrong_tid = check_tcp_response(f, 8, 3);
  ASSERT_TRUE(wrong_tid);
  EXPECT_EQ(wrong_tid->code, ErrorCode::transaction_mismatch);
  EXPECT_EQ(wrong_tid->message, "transaction id 7 answers another request (8 is awaited)");
  auto wrong_unit = check_tcp_response(f, 7, 4);
  ASSERT_TRUE(wrong_unit);
  EXPECT_EQ(wrong_unit->code, ErrorCode::unit_mismatch);
  EXPECT_EQ(wrong_unit->message, "unit 3 answered, 4 was asked");
}

TEST(ModbusTcpFrame, DecodesManyFramesInTurn) {
  TcpFrameDecoder decoder;
  const Bytes f = frame(1, 1, {0x03, 0x02, 0x00, 0x01});
  for (int i = 0; i < 10000; ++i) {
    decoder.feed(f);
    ASSERT_EQ(drain(decoder).size(), 1u);
  }
  EXPECT_EQ(decoder.buffered(), 0u);
}

}  // namespace
}  // namespace rackwatch::modbus
