// Modbus RTU framing (Modbus over serial line v1.02, §2.5.1): unit address,
// PDU, CRC-16 low byte first. RTU has no length field, so a response is
// decoded against the request it answers; and the line timing (character
// time, the 1.5 and 3.5 character silences) from the serial settings.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "sources/modbus/modbus_error.hpp"
#include "sources/modbus/modbus_pdu.hpp"

namespace rackwatch::modbus {

// §2.2: 0 is broadcast (never answered, so never read from), 1..247 are
// devices, 248..255 reserved.
inline constexpr std::uint8_t kMinRtuUnit = 1;
inline constexpr std::uint8_t kMaxRtuUnit = 247;
// Address, function | 0x80, exception code, CRC (2).
inline constexpr std::size_t kRtuExceptionFrameSize = 5;
// §2.5.1: address (1) + PDU (253) + CRC (2).
inline constexpr std::size_t kMaxRtuFrameSize = 256;

// Address + PDU + CRC. Fails on an empty or too long PDU (any unit address is
// framed: a test server answers for whatever it is asked).
Result<std::vector<std::uint8_t>> encode_rtu_frame(std::uint8_t unit,
                                                   std::span<const std::uint8_t> pdu);

// The frame of a read request to a unit 1..247; fails as encode_read_request
// does, or with invalid_unit.
Result<std::vector<std::uint8_t>> encode_rtu_request(std::uint8_t unit, const ReadRequest& request);

// The size of the normal response to `request`: address, function, byte
// count, data, CRC.
std::size_t rtu_response_size(const ReadRequest& request);

// How many bytes the response being received will have in all, judged from
// what has arrived: 5 (the least any response has) until the function code is
// there, then 5 for an exception or rtu_response_size(request). A reader
// keeps reading while it has fewer; it never needs to read past this.
std::size_t rtu_expected_size(const ReadRequest& request, std::span<const std::uint8_t> received);

// One decoded response frame.
struct RtuFrame {
  std::uint8_t unit = 0;
  std::vector<std::uint8_t> pdu;
};

// Checks a whole response frame in this order: its size (truncated, or
// length_mismatch when longer than the request's response or an exception),
// the CRC (crc_mismatch), the unit address (unit_mismatch). Returns the PDU,
// still to be decoded with decode_read_response.
Result<RtuFrame> decode_rtu_frame(const ReadRequest& request, std::uint8_t unit,
                                  std::span<const std::uint8_t> frame);

// decode_rtu_frame, then decode_read_response: the values, or the first error.
Result<ReadResponse> decode_rtu_response(const ReadRequest& request, std::uint8_t unit,
                                         std::span<const std::uint8_t> frame);

enum class Parity : std::uint8_t { none, even, odd };

// §2.5.1: RTU is 8 data bits, even parity by default, 1 stop bit (2 without
// parity); other settings are computed as given.
struct SerialSettings {
  unsigned baud = 19200;
  unsigned data_bits = 8;
  Parity parity = Parity::even;
  unsigned stop_bits = 1;
};

// §2.5.1.1: the silences that delimit RTU frames.
struct RtuTiming {
  std::chrono::nanoseconds character;        // one character: start + data + parity + stop bits
  std::chrono::nanoseconds inter_character;  // t1.5: the longest gap inside a frame
  std::chrono::nanoseconds inter_frame;      // t3.5: the least silence between frames
};

// The timing of `settings`, each rounded up to a whole nanosecond. Above
// 19200 baud the spec fixes t1.5 = 750 µs and t3.5 = 1.75 ms. Fails on baud
// 0, data bits outside 5..8 or stop bits outside 1..2.
Result<RtuTiming> rtu_timing(const SerialSettings& settings);

}  // namespace rackwatch::modbus
