// FNV-1a 64: a small, stable hash of bytes, for telling versions apart (a
// config's text, a catalog, certificate files). Not for security.
#pragma once

#include <cstdint>
#include <string_view>

namespace rackwatch {

inline constexpr std::uint64_t kFnv1aOffset = 0xcbf29ce484222325ULL;

// `h` continues an earlier hash, so that several pieces hash as one.
inline std::uint64_t fnv1a(std::string_view bytes, std::uint64_t h = kFnv1aOffset) {
  for (const char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

}  // namespace rackwatch
