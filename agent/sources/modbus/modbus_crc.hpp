// The CRC-16 that ends every Modbus RTU frame (Modbus over serial line v1.02,
// §6.2.2 and appendix B): polynomial 0xA001 (0x8005 reflected), initial value
// 0xFFFF, sent low byte first.
#pragma once

#include <cstdint>
#include <span>

namespace rackwatch::modbus {

inline constexpr std::uint16_t kCrcInit = 0xFFFF;

// The CRC of `bytes`; continue a running CRC by passing it as `crc`.
std::uint16_t crc16(std::span<const std::uint8_t> bytes, std::uint16_t crc = kCrcInit);

}  // namespace rackwatch::modbus
