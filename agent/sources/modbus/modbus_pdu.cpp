#include "sources/modbus/modbus_pdu.hpp"

#include <optional>
#include <string>

#include "core/plural.hpp"

namespace rackwatch::modbus {
namespace {

std::uint16_t limit(FunctionCode function) {
  return reads_bits(function) ? kMaxReadBits : kMaxReadRegisters;
}

std::string_view unit_word(FunctionCode function) {
  switch (function) {
    case FunctionCode::read_coils: return "coils";
    case FunctionCode::read_discrete_inputs: return "discrete inputs";
    case FunctionCode::read_holding_registers:
    case FunctionCode::read_input_registers: return "registers";
  }
  return "registers";
}

bool is_read_function(std::uint8_t code) { return code >= 0x01 && code <= 0x04; }

std::uint16_t get_u16(std::span<const std::uint8_t> bytes, std::size_t at) {
  return static_cast<std::uint16_t>((bytes[at] << 8) | bytes[at + 1]);
}

void put_u16(std::vector<std::uint8_t>& out, std::uint16_t value) {
  out.push_back(static_cast<std::uint8_t>(value >> 8));
  out.push_back(static_cast<std::uint8_t>(value & 0xFFu));
}

std::optional<Error> check_request(const ReadRequest& request) {
  const auto max = limit(request.function);
  if (request.quantity == 0 || request.quantity > max) {
    return Error{ErrorCode::invalid_quantity,
                 "quantity " + std::to_string(request.quantity) + " is outside 1.." +
                     std::to_string(max) + " for " + std::string(function_name(request.function))};
  }
  if (std::uint32_t{request.address} + request.quantity > 0x10000u) {
    return Error{ErrorCode::address_overflow,
                 "address " + std::to_string(request.address) + " + quantity " +
                     std::to_string(request.quantity) + " runs past 65535"};
  }
  return std::nullopt;
}

}  // namespace

bool reads_bits(FunctionCode function) {
  return function == FunctionCode::read_coils || function == FunctionCode::read_discrete_inputs;
}

std::string_view function_name(FunctionCode function) {
  switch (function) {
    case FunctionCode::read_coils: return "read coils";
    case FunctionCode::read_discrete_inputs: return "read discrete inputs";
    case FunctionCode::read_holding_registers: return "read holding registers";
    case FunctionCode::read_input_registers: return "read input registers";
  }
  return "unknown function";
}

std::string_view exception_name(std::uint8_t code) {
  switch (code) {
    case 0x01: return "illegal function";
    case 0x02: return "illegal data address";
    case 0x03: return "illegal data value";
    case 0x04: return "server device failure";
    case 0x05: return "acknowledge";
    case 0x06: return "server device busy";
    case 0x08: return "memory parity error";
    case 0x0A: return "gateway path unavailable";
    case 0x0B: return "gateway target device failed to respond";
    default: return "unknown exception";
  }
}

std::size_t response_byte_count(const ReadRequest& request) {
  return reads_bits(request.function) ? (std::size_t{request.quantity} + 7) / 8
                                      : std::size_t{request.quantity} * 2;
}

std::size_t response_pdu_size(const ReadRequest& request) {
  return 2 + response_byte_count(request);
}

Result<std::vector<std::uint8_t>> encode_read_request(const ReadRequest& request) {
  if (auto error = check_request(request)) return std::move(*error);
  std::vector<std::uint8_t> pdu;
  pdu.reserve(5);
  pdu.push_back(static_cast<std::uint8_t>(request.function));
  put_u16(pdu, request.address);
  put_u16(pdu, request.quantity);
  return pdu;
}

Result<ReadRequest> decode_read_request(std::span<const std::uint8_t> pdu) {
  if (pdu.empty()) return Error{ErrorCode::truncated, "empty PDU"};
  if (!is_read_function(pdu[0])) {
    return Error{ErrorCode::function_mismatch,
                 "function code " + hex(pdu[0], 2) + " is not a read (0x01-0x04)"};
  }
  if (pdu.size() != 5) {
    return Error{pdu.size() < 5 ? ErrorCode::truncated : ErrorCode::length_mismatch,
                 "read request of " + plural(pdu.size(), "byte") + " (5 expected)"};
  }
  ReadRequest request{static_cast<FunctionCode>(pdu[0]), get_u16(pdu, 1), get_u16(pdu, 3)};
  if (auto error = check_request(request)) return std::move(*error);
  return request;
}

Result<ReadResponse> decode_read_response(const ReadRequest& request,
                                          std::span<const std::uint8_t> pdu) {
  const auto asked = static_cast<std::uint8_t>(request.function);
  if (pdu.empty()) return Error{ErrorCode::truncated, "empty response PDU"};
  const std::uint8_t function = pdu[0];

  // §7: an exception response is the function code with bit 7 set and one
  // byte of exception code.
  if ((function & kExceptionFlag) != 0) {
    const auto base = static_cast<std::uint8_t>(function & ~kExceptionFlag);
    if (base != asked) {
      return Error{ErrorCode::function_mismatch, "exception for function code " + hex(base, 2) +
                                                     " answers a request for " + hex(asked, 2)};
    }
    if (pdu.size() != 2) {
      return Error{pdu.size() < 2 ? ErrorCode::truncated : ErrorCode::length_mismatch,
                   "exception response of " + plural(pdu.size(), "byte") + " (2 expected)"};
    }
    const std::uint8_t code = pdu[1];
    return Error{ErrorCode::exception,
                 "exception " + hex(code, 2) + " " + std::string(exception_name(code)), code};
  }

  if (function != asked) {
    return Error{ErrorCode::function_mismatch,
                 "function code " + hex(function, 2) + " answers a request for " + hex(asked, 2)};
  }
  if (pdu.size() < 2) return Error{ErrorCode::truncated, "response without a byte count"};

  const std::size_t byte_count = pdu[1];
  if (byte_count != response_byte_count(request)) {
    return Error{ErrorCode::byte_count_mismatch, "byte count " + std::to_string(byte_count) +
                                                     " does not match " +
                                                     std::to_string(request.quantity) + " " +
                                                     std::string(unit_word(request.function))};
  }
  const std::size_t data = pdu.size() - 2;
  if (data != byte_count) {
    return Error{data < byte_count ? ErrorCode::truncated : ErrorCode::length_mismatch,
                 "response carries " + std::to_string(data) + " data bytes, byte count says " +
                     std::to_string(byte_count)};
  }

  ReadResponse response;
  response.values.reserve(request.quantity);
  if (reads_bits(request.function)) {
    // §6.1: the first bit is the least significant bit of the first byte.
    for (std::size_t i = 0; i < request.quantity; ++i) {
      response.values.push_back(static_cast<std::uint16_t>((static_cast<unsigned>(pdu[2 + i / 8]) >> (i % 8)) & 1u));
    }
  } else {
    for (std::size_t i = 0; i < request.quantity; ++i) {
      response.values.push_back(get_u16(pdu, 2 + 2 * i));
    }
  }
  return response;
}

Result<std::vector<std::uint8_t>> encode_read_response(FunctionCode function,
                                                       std::span<const std::uint16_t> values) {
  const bool bits = reads_bits(function);
  const std::size_t byte_count = bits ? (values.size() + 7) / 8 : values.size() * 2;
  if (values.empty() || values.size() > limit(function)) {
    return Error{ErrorCode::invalid_quantity,
                 std::to_string(values.size()) + " values do not fit one response"};
  }
  std::vector<std::uint8_t> pdu;
  pdu.reserve(2 + byte_count);
  pdu.push_back(static_cast<std::uint8_t>(function));
  pdu.push_back(static_cast<std::uint8_t>(byte_count));
  if (bits) {
    pdu.resize(2 + byte_count, 0);
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (values[i] != 0)
        pdu[2 + i / 8] = static_cast<std::uint8_t>(pdu[2 + i / 8] | (1u << (i % 8)));
    }
  } else {
    for (auto v : values) put_u16(pdu, v);
  }
  return pdu;
}

std::vector<std::uint8_t> encode_exception_response(FunctionCode function, std::uint8_t code) {
  return {static_cast<std::uint8_t>(static_cast<std::uint8_t>(function) | kExceptionFlag), code};
}

}  // namespace rackwatch::modbus
