#include "sources/modbus/modbus_error.hpp"

namespace rackwatch::modbus {

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid_quantity: return "invalid_quantity";
    case ErrorCode::address_overflow: return "address_overflow";
    case ErrorCode::invalid_unit: return "invalid_unit";
    case ErrorCode::pdu_too_long: return "pdu_too_long";
    case ErrorCode::truncated: return "truncated";
    case ErrorCode::exception: return "exception";
    case ErrorCode::function_mismatch: return "function_mismatch";
    case ErrorCode::byte_count_mismatch: return "byte_count_mismatch";
    case ErrorCode::length_mismatch: return "length_mismatch";
    case ErrorCode::protocol_id: return "protocol_id";
    case ErrorCode::mbap_length: return "mbap_length";
    case ErrorCode::transaction_mismatch: return "transaction_mismatch";
    case ErrorCode::unit_mismatch: return "unit_mismatch";
    case ErrorCode::crc_mismatch: return "crc_mismatch";
    case ErrorCode::invalid_serial_settings: return "invalid_serial_settings";
    case ErrorCode::register_count: return "register_count";
    case ErrorCode::invalid_format: return "invalid_format";
    case ErrorCode::unreadable_register: return "unreadable_register";
    case ErrorCode::invalid_range: return "invalid_range";
  }
  return "unknown";
}

std::string hex(std::uint64_t value, int digits) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (int shift = 4 * (digits - 1); shift >= 0; shift -= 4) {
    out += kDigits[(value >> shift) & 0xFu];
  }
  // Wider values than asked for keep their upper digits.
  for (std::uint64_t rest = digits >= 16 ? 0 : value >> (4 * digits); rest != 0; rest >>= 4) {
    out.insert(out.begin(), kDigits[rest & 0xFu]);
  }
  return "0x" + out;
}

}  // namespace rackwatch::modbus
