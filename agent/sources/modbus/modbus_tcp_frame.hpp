// Modbus TCP framing (Modbus Messaging on TCP/IP Implementation Guide v1.0b,
// §3.1.3; Application Protocol v1.1b3 §4.1): the 7-byte MBAP header before a
// PDU. Encodes request frames, and decodes a byte stream into frames as the
// bytes arrive, however the reads split them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "sources/modbus/modbus_error.hpp"
#include "sources/modbus/modbus_pdu.hpp"

namespace rackwatch::modbus {

// Transaction id (2), protocol id (2), length (2), unit id (1).
inline constexpr std::size_t kMbapHeaderSize = 7;
// The MBAP length counts the unit id and the PDU: 2..254.
inline constexpr std::uint16_t kMinMbapLength = 2;
inline constexpr std::uint16_t kMaxMbapLength = 1 + kMaxPduSize;

// One frame off the wire.
struct TcpFrame {
  std::uint16_t transaction_id = 0;
  std::uint8_t unit_id = 0;
  std::vector<std::uint8_t> pdu;  // 1..253 bytes

  friend bool operator==(const TcpFrame&, const TcpFrame&) = default;
};

// MBAP header + `pdu`. Fails when the PDU is empty or beyond 253 bytes.
Result<std::vector<std::uint8_t>> encode_tcp_frame(std::uint16_t transaction_id,
                                                   std::uint8_t unit_id,
                                                   std::span<const std::uint8_t> pdu);

// The frame of a read request; fails as encode_read_request does.
Result<std::vector<std::uint8_t>> encode_tcp_request(std::uint16_t transaction_id,
                                                     std::uint8_t unit_id,
                                                     const ReadRequest& request);

// Whether `frame` answers the request sent as (transaction_id, unit_id):
// transaction_mismatch (a late answer to an earlier request, to be skipped)
// or unit_mismatch, else nothing.
std::optional<Error> check_tcp_response(const TcpFrame& frame, std::uint16_t transaction_id,
                                        std::uint8_t unit_id);

// Splits a TCP byte stream into frames. Feed it what each read returned and
// call next() until it has no more frames:
//
//   decoder.feed(bytes);
//   while (true) {
//     auto r = decoder.next();
//     if (!r) { /* the stream is broken: close the connection, reset() */ break; }
//     if (!*r) break;            // need more bytes
//     handle(**r);               // a whole frame
//   }
//
// A header with a protocol id other than 0 or a length outside 2..254 is an
// error, and stays one: MBAP has no marker to resynchronise on, so nothing
// after it can be trusted until reset() (on a new connection).
class TcpFrameDecoder {
 public:
  void feed(std::span<const std::uint8_t> bytes);

  // A frame, nothing (more bytes needed), or the error that broke the stream.
  Result<std::optional<TcpFrame>> next();

  // Forgets buffered bytes and any error, for a new connection.
  void reset();

  // Bytes received but not yet returned as a frame.
  std::size_t buffered() const { return buffer_.size() - start_; }

 private:
  std::vector<std::uint8_t> buffer_;
  std::size_t start_ = 0;  // first byte not yet consumed
  std::optional<Error> error_;
};

}  // namespace rackwatch::modbus
