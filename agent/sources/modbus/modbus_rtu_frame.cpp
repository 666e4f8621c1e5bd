#include "sources/modbus/modbus_rtu_frame.hpp"

#include <string>

#include "core/plural.hpp"
#include "sources/modbus/modbus_crc.hpp"

namespace rackwatch::modbus {
namespace {

// Bits on the wire times 1e9 / baud, rounded up, in nanoseconds; `tenths` of
// a character (15 for t1.5, 35 for t3.5, 10 for one character).
std::chrono::nanoseconds characters(std::uint64_t bits, unsigned baud, std::uint64_t tenths) {
  const std::uint64_t numerator = bits * tenths * 100'000'000u;
  return std::chrono::nanoseconds(static_cast<std::int64_t>((numerator + baud - 1) / baud));
}

}  // namespace

Result<std::vector<std::uint8_t>> encode_rtu_frame(std::uint8_t unit,
                                                   std::span<const std::uint8_t> pdu) {
  if (pdu.empty()) return Error{ErrorCode::truncated, "empty PDU"};
  if (pdu.size() > kMaxPduSize) {
    return Error{ErrorCode::pdu_too_long,
                 "PDU of " + std::to_string(pdu.size()) + " bytes (at most 253)"};
  }
  std::vector<std::uint8_t> frame;
  frame.reserve(pdu.size() + 3);
  frame.push_back(unit);
  frame.insert(frame.end(), pdu.begin(), pdu.end());
  const std::uint16_t crc = crc16(frame);
  // §2.5.1.2: the CRC goes low byte first.
  frame.push_back(static_cast<std::uint8_t>(crc & 0xFFu));
  frame.push_back(static_cast<std::uint8_t>(crc >> 8));
  return frame;
}

Result<std::vector<std::uint8_t>> encode_rtu_request(std::uint8_t unit,
                                                     const ReadRequest& request) {
  if (unit < kMinRtuUnit || unit > kMaxRtuUnit) {
    return Error{ErrorCode::invalid_unit,
                 "unit address " + std::to_string(unit) + " is outside 1..247"};
  }
  auto pdu = encode_read_request(request);
  if (!pdu) return pdu.error();
  return encode_rtu_frame(unit, *pdu);
}

std::size_t rtu_response_size(const ReadRequest& request) {
  return 1 + response_pdu_size(request) + 2;
}

std::size_t rtu_expected_size(const ReadRequest& request, std::span<const std::uint8_t> received) {
  if (received.size() < 2) return kRtuExceptionFrameSize;
  if ((received[1] & kExceptionFlag) != 0) return kRtuExceptionFrameSize;
  return rtu_response_size(request);
}

Result<RtuFrame> decode_rtu_frame(const ReadRequest& request, std::uint8_t unit,
                                  std::span<const std::uint8_t> frame) {
  const std::size_t expected = rtu_expected_size(request, frame);
  if (frame.size() != expected) {
    const bool exception = frame.size() >= 2 && (frame[1] & kExceptionFlag) != 0;
    return Error{frame.size() < expected ? ErrorCode::truncated : ErrorCode::length_mismatch,
                 std::string(exception ? "RTU exception frame of " : "RTU frame of ") +
                     plural(frame.size(), "byte") + " (" + std::to_string(expected) +
                     " expected)"};
  }
  const auto body = frame.first(frame.size() - 2);
  const std::uint16_t computed = crc16(body);
  const auto received =
      static_cast<std::uint16_t>(frame[frame.size() - 2] | (frame[frame.size() - 1] << 8));
  if (computed != received) {
    return Error{ErrorCode::crc_mismatch,
                 "CRC " + hex(received, 4) + " does not match the computed " + hex(computed, 4)};
  }
  if (frame[0] != unit) {
    return Error{ErrorCode::unit_mismatch, "unit " + std::to_string(frame[0]) + " answered, " +
                                               std::to_string(unit) + " was asked"};
  }
  RtuFrame out;
  out.unit = frame[0];
  out.pdu.assign(body.begin() + 1, body.end());
  return out;
}

Result<ReadResponse> decode_rtu_response(const ReadRequest& request, std::uint8_t unit,
                                         std::span<const std::uint8_t> frame) {
  auto decoded = decode_rtu_frame(request, unit, frame);
  if (!decoded) return decoded.error();
  return decode_read_response(request, decoded->pdu);
}

Result<RtuTiming> rtu_timing(const SerialSettings& settings) {
  if (settings.baud == 0) return Error{ErrorCode::invalid_serial_settings, "baud rate 0"};
  if (settings.data_bits < 5 || settings.data_bits > 8) {
    return Error{ErrorCode::invalid_serial_settings,
                 "data bits " + std::to_string(settings.data_bits) + " outside 5..8"};
  }
  if (settings.stop_bits < 1 || settings.stop_bits > 2) {
    return Error{ErrorCode::invalid_serial_settings,
                 "stop bits " + std::to_string(settings.stop_bits) + " outside 1..2"};
  }
  const std::uint64_t bits =
      1u + settings.data_bits + (settings.parity == Parity::none ? 0u : 1u) + settings.stop_bits;
  RtuTiming timing{};
  timing.character = characters(bits, settings.baud, 10);
  // §2.5.1.1: above 19200 baud the timers are fixed, since a UART driver
  // cannot time fractions of a character that short.
  if (settings.baud > 19200) {
    timing.inter_character = std::chrono::microseconds(750);
    timing.inter_frame = std::chrono::microseconds(1750);
  } else {
    timing.inter_character = characters(bits, settings.baud, 15);
    timing.inter_frame = characters(bits, settings.baud, 35);
  }
  return timing;
}

}  // namespace rackwatch::modbus
