#include "sources/modbus/modbus_tcp_frame.hpp"

#include <string>

namespace rackwatch::modbus {
namespace {

void put_u16(std::vector<std::uint8_t>& out, std::uint16_t value) {
  out.push_back(static_cast<std::uint8_t>(value >> 8));
  out.push_back(static_cast<std::uint8_t>(value & 0xFFu));
}

std::uint16_t get_u16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

}  // namespace

Result<std::vector<std::uint8_t>> encode_tcp_frame(std::uint16_t transaction_id,
                                                   std::uint8_t unit_id,
                                                   std::span<const std::uint8_t> pdu) {
  if (pdu.empty()) return Error{ErrorCode::truncated, "empty PDU"};
  if (pdu.size() > kMaxPduSize) {
    return Error{ErrorCode::pdu_too_long,
                 "PDU of " + std::to_string(pdu.size()) + " bytes (at most 253)"};
  }
  std::vector<std::uint8_t> frame;
  frame.reserve(kMbapHeaderSize + pdu.size());
  put_u16(frame, transaction_id);
  put_u16(frame, 0);  // protocol id: 0 is Modbus
  put_u16(frame, static_cast<std::uint16_t>(1 + pdu.size()));
  frame.push_back(unit_id);
  frame.insert(frame.end(), pdu.begin(), pdu.end());
  return frame;
}

Result<std::vector<std::uint8_t>> encode_tcp_request(std::uint16_t transaction_id,
                                                     std::uint8_t unit_id,
                                                     const ReadRequest& request) {
  auto pdu = encode_read_request(request);
  if (!pdu) return pdu.error();
  return encode_tcp_frame(transaction_id, unit_id, *pdu);
}

std::optional<Error> check_tcp_response(const TcpFrame& frame, std::uint16_t transaction_id,
                                        std::uint8_t unit_id) {
  if (frame.transaction_id != transaction_id) {
    return Error{ErrorCode::transaction_mismatch,
                 "transaction id " + std::to_string(frame.transaction_id) +
                     " answers another request (" + std::to_string(transaction_id) +
                     " is awaited)"};
  }
  if (frame.unit_id != unit_id) {
    return Error{ErrorCode::unit_mismatch, "unit " + std::to_string(frame.unit_id) + " answered, " +
                                               std::to_string(unit_id) + " was asked"};
  }
  return std::nullopt;
}

void TcpFrameDecoder::feed(std::span<const std::uint8_t> bytes) {
  if (error_) return;  // nothing after a broken header means anything
  // Drop what was consumed before growing, so the buffer holds at most one
  // partial frame plus what this read brought.
  if (start_ > 0 && start_ == buffer_.size()) {
    buffer_.clear();
    start_ = 0;
  } else if (start_ > 4096 || (start_ > 0 && start_ >= buffer_.size() / 2)) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(start_));
    start_ = 0;
  }
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
}

Result<std::optional<TcpFrame>> TcpFrameDecoder::next() {
  if (error_) return *error_;
  if (buffered() < kMbapHeaderSize) return std::optional<TcpFrame>{};
  const std::uint8_t* header = buffer_.data() + start_;
  const std::uint16_t protocol_id = get_u16(header + 2);
  const std::uint16_t length = get_u16(header + 4);
  if (protocol_id != 0) {
    error_ = Error{ErrorCode::protocol_id,
                   "MBAP protocol id " + std::to_string(protocol_id) + " is not Modbus (0)"};
    return *error_;
  }
  if (length < kMinMbapLength || length > kMaxMbapLength) {
    error_ =
        Error{ErrorCode::mbap_length, "MBAP length " + std::to_string(length) +
                                          " is outside 2..254 (unit id and a PDU of 1..253 bytes)"};
    return *error_;
  }
  // The length counts the unit id, the header's last byte.
  const std::size_t frame_size = kMbapHeaderSize - 1 + length;
  if (buffered() < frame_size) return std::optional<TcpFrame>{};
  TcpFrame frame;
  frame.transaction_id = get_u16(header);
  frame.unit_id = header[6];
  frame.pdu.assign(header + kMbapHeaderSize, header + frame_size);
  start_ += frame_size;
  return std::optional<TcpFrame>{std::move(frame)};
}

void TcpFrameDecoder::reset() {
  buffer_.clear();
  start_ = 0;
  error_.reset();
}

}  // namespace rackwatch::modbus
