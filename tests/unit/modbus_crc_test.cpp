#include "sources/modbus/modbus_crc.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <span>
#include <string_view>
#include <vector>

namespace rackwatch::modbus {
namespace {

using Bytes = std::vector<std::uint8_t>;

// Modbus over serial line v1.02 §6.2.2, step by step: xor the byte into the
// low byte, then eight times shift right, xoring 0xA001 when a 1 fell out.
std::uint16_t reference_crc(const Bytes& bytes) {
  std::uint16_t crc = 0xFFFF;
  for (auto b : bytes) {
    crc ^= b;
    for (int i = 0; i < 8; ++i) {
      const bool lsb = (crc & 1u) != 0;
      crc = static_cast<std::uint16_t>(crc >> 1);
      if (lsb) crc ^= 0xA001;
    }
  }
  return crc;
}

TEST(ModbusCrc, MatchesTheKnownVectors) {
  // Read 10 holding registers from address 0 of unit 1: "01 03 00 00 00 0A C5 CD".
  const Bytes request{0x01, 0x03, 0x00, 0x00, 0x00, 0x0A};
  EXPECT_EQ(crc16(request), 0xCDC5);  // sent 0xC5, then 0xCD
  EXPECT_EQ(reference_crc(request), 0xCDC5);
  // The catalogued check value of CRC-16/MODBUS.
  const std::string_view check = "123456789";
  const Bytes digits(check.begin(), check.end());
  EXPECT_EQ(crc16(digits), 0x4B37);
  EXPECT_EQ(crc16(Bytes{}), 0xFFFF);
}

TEST(ModbusCrc, TableMatchesTheBitwiseReference) {
  std::mt19937 rng(20240611);
  std::uniform_int_distribution<int> byte(0, 255);
  for (std::size_t size = 0; size <= 300; ++size) {
    Bytes data(size);
    for (auto& b : data) b = static_cast<std::uint8_t>(byte(rng));
    ASSERT_EQ(crc16(data), reference_crc(data)) << "size " << size;
  }
}

TEST(ModbusCrc, ContinuesARunningCrc) {
  const Bytes all{0x11, 0x03, 0x00, 0x6B, 0x00, 0x03};
  const std::uint16_t head = crc16(std::span(all).first(2));
  EXPECT_EQ(crc16(std::span(all).subspan(2), head), crc16(all));
  // A frame followed by its own CRC (low byte first) leaves 0.
  Bytes framed = all;
  const auto crc = crc16(all);
  framed.push_back(static_cast<std::uint8_t>(crc & 0xFF));
  framed.push_back(static_cast<std::uint8_t>(crc >> 8));
  EXPECT_EQ(crc16(framed), 0);
}

}  // namespace
}  // namespace rackwatch::modbus
