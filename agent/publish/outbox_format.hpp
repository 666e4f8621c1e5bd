// The outbox record codec: one message and its id as bytes on disk, and
// back, with every check a recovery scan needs. Pure; no I/O.
//
// A record is a 32-byte header, then the topic, then the payload. All
// integers little-endian:
//   0  u32 magic (bytes 'R' 'W' 'Q' 0xF1), to find records again after damage
//   4  u32 CRC-32C of bytes 8..31, the topic and the payload
//   8  u8  format version (1)
//   9  u8  flags: bits 0-1 QoS, bit 2 retain; other bits zero
//  10  u16 topic length (so at most 65535, the MQTT limit)
//  12  u32 payload length, at most kMaxPayloadBytes
//  16  u64 record id, 1..kMaxRecordId
//  24  i64 append time, Unix ms
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>
#include <vector>

#include "publish/outbox.hpp"

namespace rackwatch::outbox {

constexpr std::size_t kHeaderBytes = 32;
constexpr std::uint32_t kRecordMagic = 0xF1515752u;  // "RWQ\xF1" on disk
constexpr std::uint8_t kFormatVersion = 1;
constexpr std::size_t kMaxTopicBytes = 0xFFFF;
// A bound on what a corrupt length can make us read or allocate.
constexpr std::size_t kMaxPayloadBytes = std::size_t{16} << 20;
// Ids start at 1; a billion a second would take 146 years to reach this
// bound, which keeps "next id" from wrapping whatever a damaged file says.
constexpr std::uint64_t kMaxRecordId = std::uint64_t{1} << 62;

enum class DecodeStatus {
  ok,
  truncated,         // the bytes end inside the header or the record
  bad_magic,
  bad_version,
  bad_flags,
  topic_too_long,
  payload_too_long,
  bad_id,            // 0, or above kMaxRecordId
  bad_crc,
  // Not from the codec: a recovery scan's verdict on a valid record whose id
  // does not rise (it cannot belong where it was found).
  id_out_of_order,
};

const char* describe(DecodeStatus status);

struct RecordHeader {
  std::uint32_t crc = 0;
  std::uint8_t version = 0;
  std::uint8_t flags = 0;
  std::uint16_t topic_bytes = 0;
  std::uint32_t payload_bytes = 0;
  std::uint64_t id = 0;
  std::int64_t appended_ms = 0;

  std::size_t record_bytes() const { return kHeaderBytes + topic_bytes + payload_bytes; }
};

// The size `message` takes as a record, or 0 when it cannot be one (topic or
// payload too long, QoS not 0..2).
std::size_t encoded_size(const Message& message);

// Appends the record to `out`. std::errc::message_size when the topic or the
// payload is too long, std::errc::invalid_argument for a QoS not 0..2 or an
// id out of range.
std::error_code encode_record(const OutboxRecord& record, std::vector<std::uint8_t>& out);

// Checks the header at the start of `bytes`: magic, version, flags and length
// bounds, not the CRC. Fills `header` as far as it could be read.
DecodeStatus decode_header(std::span<const std::uint8_t> bytes, RecordHeader& header);

// decode_header, plus that the whole record is present and its CRC matches.
DecodeStatus check_record(std::span<const std::uint8_t> bytes, RecordHeader& header);

// check_record, then the record itself; `consumed` is its size in bytes.
DecodeStatus decode_record(std::span<const std::uint8_t> bytes, OutboxRecord& record,
                           std::size_t& consumed);

}  // namespace rackwatch::outbox
