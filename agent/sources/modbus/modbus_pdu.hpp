// Modbus PDUs of the four read functions (Modbus Application Protocol v1.1b3,
// §6.1-6.4) and exception responses (§7): encoding a read request, and
// decoding the response against the request it answers. Bytes in, values or
// an Error out; no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sources/modbus/modbus_error.hpp"

namespace rackwatch::modbus {

enum class FunctionCode : std::uint8_t {
  read_coils = 0x01,
  read_discrete_inputs = 0x02,
  read_holding_registers = 0x03,
  read_input_registers = 0x04,
};

// §7: the exception codes the spec defines.
enum class ExceptionCode : std::uint8_t {
  illegal_function = 0x01,
  illegal_data_address = 0x02,
  illegal_data_value = 0x03,
  server_device_failure = 0x04,
  acknowledge = 0x05,
  server_device_busy = 0x06,
  memory_parity_error = 0x08,
  gateway_path_unavailable = 0x0A,
  gateway_target_failed_to_respond = 0x0B,
};

// §4.1: a PDU is at most 253 bytes (256 on a serial line less address and CRC).
inline constexpr std::size_t kMaxPduSize = 253;
// §6.3, §6.4: quantity of registers 1..125; §6.1, §6.2: quantity of bits 1..2000.
inline constexpr std::uint16_t kMaxReadRegisters = 125;
inline constexpr std::uint16_t kMaxReadBits = 2000;
// A function code with this bit set is an exception response (§7).
inline constexpr std::uint8_t kExceptionFlag = 0x80;

// Coils and discrete inputs are read as bits, the others as 16-bit registers.
bool reads_bits(FunctionCode function);
// "read holding registers".
std::string_view function_name(FunctionCode function);
// "illegal data address"; "unknown exception" for a code §7 does not define.
std::string_view exception_name(std::uint8_t code);

// A read of `quantity` registers (or bits) from `address` (0-based, as on the
// wire: manual register 40001 is holding register address 0).
struct ReadRequest {
  FunctionCode function = FunctionCode::read_holding_registers;
  std::uint16_t address = 0;
  std::uint16_t quantity = 1;

  friend bool operator==(const ReadRequest&, const ReadRequest&) = default;
};

// What a successful read returned: one entry a register, or one a bit (0 or
// 1) for coils and discrete inputs, `quantity` entries in address order.
struct ReadResponse {
  std::vector<std::uint16_t> values;
};

// The response size a valid request can have: 2 + byte count bytes.
std::size_t response_pdu_size(const ReadRequest& request);
// The byte count field of the response: 2 a register, 8 bits a byte.
std::size_t response_byte_count(const ReadRequest& request);

// The request's PDU: function code, address, quantity (big-endian, §4.2).
// Fails on a quantity of 0 or beyond the limit, or address + quantity > 65536.
Result<std::vector<std::uint8_t>> encode_read_request(const ReadRequest& request);

// The request a PDU asks for (a server's side; tests and fuzz seeds use it).
Result<ReadRequest> decode_read_request(std::span<const std::uint8_t> pdu);

// Decodes `pdu` as the answer to `request`: the values, or an Error —
// exception (with its code and name), function_mismatch, byte_count_mismatch,
// length_mismatch, truncated. Bits beyond the quantity in the last byte are
// padding (§6.1) and ignored.
Result<ReadResponse> decode_read_response(const ReadRequest& request,
                                          std::span<const std::uint8_t> pdu);

// A server's normal response carrying `values` (registers, or 0/1 bits).
// Fails when the values do not fit one PDU.
Result<std::vector<std::uint8_t>> encode_read_response(FunctionCode function,
                                                       std::span<const std::uint16_t> values);

// A server's exception response: function | 0x80, code.
std::vector<std::uint8_t> encode_exception_response(FunctionCode function, std::uint8_t code);

}  // namespace rackwatch::modbus
