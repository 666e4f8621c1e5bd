// What went wrong in the Modbus codecs, as a value: a precise code for the
// caller to act on (count, disable a register, drop a connection) and a
// message for the reading's reason. Result<T> carries a value or an Error.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "core/result.hpp"

namespace rackwatch::modbus {

enum class ErrorCode : std::uint8_t {
  // Building a request.
  invalid_quantity,  // 0, or more than 125 registers / 2000 bits a read
  address_overflow,  // address + quantity beyond 65536
  invalid_unit,      // an RTU unit address outside 1..247
  pdu_too_long,      // a PDU beyond 253 bytes
  // Decoding a response PDU.
  truncated,            // fewer bytes than the structure needs
  exception,            // the server answered with an exception (Error::exception_code)
  function_mismatch,    // a response for another function code
  byte_count_mismatch,  // the byte count does not fit the quantity asked for
  length_mismatch,      // the bytes present do not fit the byte count or frame size
  // Modbus TCP (MBAP).
  protocol_id,           // protocol id other than 0
  mbap_length,           // MBAP length outside 2..254
  transaction_mismatch,  // a response to another transaction
  unit_mismatch,         // a response from another unit
  // Modbus RTU.
  crc_mismatch,
  invalid_serial_settings,
  // Turning registers into values, and planning reads.
  register_count,       // too few or too many registers for the value type
  invalid_format,       // a value format that cannot apply (bit 16, precision 70, ...)
  unreadable_register,  // a point needs a register marked unreadable
  invalid_range,        // a point or span that no single read can cover
};

// "crc_mismatch", ... for logs and counters.
std::string_view error_code_name(ErrorCode code);

struct Error {
  ErrorCode code;
  std::string message;
  std::uint8_t exception_code = 0;  // set for ErrorCode::exception
};

// A value or an Error (core/result.hpp).
template <class T>
using Result = rackwatch::Result<T, Error>;

// "0x2A" for 0x2a with two digits, "0x002A" with four; for messages.
std::string hex(std::uint64_t value, int digits);

}  // namespace rackwatch::modbus
