// A fuzz input read as a sequence of choices, for targets that build
// structured values from the bytes instead of parsing them. libFuzzer's
// FuzzedDataProvider comes with Clang only, and the replay build
// (replay_main.cpp, any compiler) must decode a corpus input exactly as the
// campaign binary did: this reader is the same everywhere. It reads front
// to back and gives zeros once the bytes run out, so that what is built from
// it stays small and ends.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace rackwatch::fuzz {

class ByteReader {
 public:
  ByteReader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

  bool empty() const { return pos_ == size_; }

  std::uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }

  // A number in [0, n), n > 0: one byte for n up to 256, two beyond.
  std::size_t below(std::size_t n) {
    if (n <= 256) return byte() % n;
    const std::size_t high = byte();  // in this order on every compiler
    return (high << 8 | byte()) % n;
  }

  // sizeof(T) bytes, little-endian.
  template <typename T>
  T integer() {
    std::uint64_t u = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) u |= std::uint64_t{byte()} << (8 * i);
    return static_cast<T>(u);
  }

  // 8 bytes as an IEEE 754 double: any value, NaN and infinities included.
  double float64() { return std::bit_cast<double>(integer<std::uint64_t>()); }

  // Up to `n` bytes as they are (fewer when the input ends first).
  std::string_view bytes(std::size_t n) {
    const std::size_t take = n < size_ - pos_ ? n : size_ - pos_;
    const std::string_view out(reinterpret_cast<const char*>(data_ + pos_), take);
    pos_ += take;
    return out;
  }

  template <typename T, std::size_t N>
  const T& pick(const std::array<T, N>& from) {
    static_assert(N > 0);
    return from[below(N)];
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

}  // namespace rackwatch::fuzz
