#include "publish/outbox_format.hpp"

#include <cstring>

#include "publish/outbox_crc.hpp"

namespace rackwatch::outbox {
namespace {

constexpr std::uint8_t kQosMask = 0x03;
constexpr std::uint8_t kRetainFlag = 0x04;
constexpr std::uint8_t kKnownFlags = kQosMask | kRetainFlag;
// Where the CRC starts covering: everything after the CRC field itself.
constexpr std::size_t kCrcStart = 8;

void put_le(std::uint8_t* p, std::uint64_t v, std::size_t bytes) {
  for (std::size_t i = 0; i < bytes; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

std::uint64_t get_le(const std::uint8_t* p, std::size_t bytes) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < bytes; ++i) v |= std::uint64_t{p[i]} << (8 * i);
  return v;
}

bool valid_qos(int qos) { return qos >= 0 && qos <= 2; }

}  // namespace

const char* describe(DecodeStatus status) {
  switch (status) {
    case DecodeStatus::ok: return "ok";
    case DecodeStatus::truncated: return "truncated record";
    case DecodeStatus::bad_magic: return "no record marker";
    case DecodeStatus::bad_version: return "unknown record version";
    case DecodeStatus::bad_flags: return "invalid record flags";
    case DecodeStatus::topic_too_long: return "impossible topic length";
    case DecodeStatus::payload_too_long: return "impossible payload length";
    case DecodeStatus::bad_id: return "impossible record id";
    case DecodeStatus::bad_crc: return "CRC mismatch";
    case DecodeStatus::id_out_of_order: return "record id out of order";
  }
  return "unknown";
}

std::size_t encoded_size(const Message& message) {
  if (message.topic.size() > kMaxTopicBytes || message.payload.size() > kMaxPayloadBytes ||
      !valid_qos(message.qos)) {
    return 0;
  }
  return kHeaderBytes + message.topic.size() + message.payload.size();
}

std::error_code encode_record(const OutboxRecord& record, std::vector<std::uint8_t>& out) {
  const Message& m = record.message;
  if (!valid_qos(m.qos) || record.id == 0 || record.id > kMaxRecordId) {
    return std::make_error_code(std::errc::invalid_argument);
  }
  if (encoded_size(m) == 0) return std::make_error_code(std::errc::message_size);

  const std::size_t start = out.size();
  out.resize(start + encoded_size(m));
  std::uint8_t* p = out.data() + start;
  put_le(p + 0, kRecordMagic, 4);
  p[8] = kFormatVersion;
  p[9] = static_cast<std::uint8_t>(static_cast<std::uint8_t>(m.qos) | (m.retain ? kRetainFlag : 0));
  put_le(p + 10, m.topic.size(), 2);
  put_le(p + 12, m.payload.size(), 4);
  put_le(p + 16, record.id, 8);
  put_le(p + 24, static_cast<std::uint64_t>(record.appended_ms), 8);
  std::uint8_t* body = p + kHeaderBytes;
  if (!m.topic.empty()) std::memcpy(body, m.topic.data(), m.topic.size());
  if (!m.payload.empty()) std::memcpy(body + m.topic.size(), m.payload.data(), m.payload.size());
  const std::size_t covered = out.size() - start - kCrcStart;
  put_le(p + 4, crc32c(0, p + kCrcStart, covered), 4);
  return {};
}

DecodeStatus decode_header(std::span<const std::uint8_t> bytes, RecordHeader& header) {
  if (bytes.size() < 4) return DecodeStatus::truncated;
  if (get_le(bytes.data(), 4) != kRecordMagic) return DecodeStatus::bad_magic;
  if (bytes.size() < kHeaderBytes) return DecodeStatus::truncated;
  const std::uint8_t* p = bytes.data();
  header.crc = static_cast<std::uint32_t>(get_le(p + 4, 4));
  header.version = p[8];
  header.flags = p[9];
  header.topic_bytes = static_cast<std::uint16_t>(get_le(p + 10, 2));
  header.payload_bytes = static_cast<std::uint32_t>(get_le(p + 12, 4));
  header.id = get_le(p + 16, 8);
  header.appended_ms = static_cast<std::int64_t>(get_le(p + 24, 8));
  if (header.version != kFormatVersion) return DecodeStatus::bad_version;
  if ((header.flags & ~kKnownFlags) != 0 || (header.flags & kQosMask) == kQosMask) {
    return DecodeStatus::bad_flags;
  }
  // The u16 field cannot exceed kMaxTopicBytes; the check stays for the day
  // the bound is lowered.
  if (header.topic_bytes > kMaxTopicBytes) return DecodeStatus::topic_too_long;
  if (header.payload_bytes > kMaxPayloadBytes) return DecodeStatus::payload_too_long;
  if (header.id == 0 || header.id > kMaxRecordId) return DecodeStatus::bad_id;
  return DecodeStatus::ok;
}

DecodeStatus check_record(std::span<const std::uint8_t> bytes, RecordHeader& header) {
  if (const auto s = decode_header(bytes, header); s != DecodeStatus::ok) return s;
  const std::size_t size = header.record_bytes();
  if (bytes.size() < size) return DecodeStatus::truncated;
  if (crc32c(0, bytes.data() + kCrcStart, size - kCrcStart) != header.crc) {
    return DecodeStatus::bad_crc;
  }
  return DecodeStatus::ok;
}

DecodeStatus decode_record(std::span<const std::uint8_t> bytes, OutboxRecord& record,
                           std::size_t& consumed) {
  RecordHeader h;
  if (const auto s = check_record(bytes, h); s != DecodeStatus::ok) return s;
  const auto* body = reinterpret_cast<const char*>(bytes.data() + kHeaderBytes);
  record.id = h.id;
  record.appended_ms = h.appended_ms;
  record.message.topic.assign(body, h.topic_bytes);
  record.message.payload.assign(body + h.topic_bytes, h.payload_bytes);
  record.message.qos = h.flags & kQosMask;
  record.message.retain = (h.flags & kRetainFlag) != 0;
  consumed = h.record_bytes();
  return DecodeStatus::ok;
}

}  // namespace rackwatch::outbox
