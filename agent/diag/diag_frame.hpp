// Framing of the diag socket (proto/rackwatch/v1/diag.proto): a 4-byte
// big-endian length, then the serialized message.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include <google/protobuf/message_lite.h>

namespace rackwatch::diag {

inline constexpr std::uint32_t kMaxFrame = 64 * 1024;
inline constexpr std::size_t kHeaderSize = 4;

inline std::string frame(const google::protobuf::MessageLite& message) {
  const std::string body = message.SerializeAsString();
  const auto n = static_cast<std::uint32_t>(body.size());
  std::string out;
  out.reserve(kHeaderSize + body.size());
  out.push_back(static_cast<char>((n >> 24) & 0xFF));
  out.push_back(static_cast<char>((n >> 16) & 0xFF));
  out.push_back(static_cast<char>((n >> 8) & 0xFF));
  out.push_back(static_cast<char>(n & 0xFF));
  out += body;
  return out;
}

inline std::uint32_t frame_length(const std::array<std::uint8_t, kHeaderSize>& header) {
  return (std::uint32_t{header[0]} << 24) | (std::uint32_t{header[1]} << 16) |
         (std::uint32_t{header[2]} << 8) | std::uint32_t{header[3]};
}

}  // namespace rackwatch::diag
