#include "sources/modbus/modbus_rtu_answer.hpp"

#include <algorithm>

#include "sources/modbus/modbus_rtu_frame.hpp"

namespace rackwatch::modbus {

RtuAnswer::RtuAnswer(const ReadRequest& request) : request_(request) {
  bytes_.reserve(kMaxRtuFrameSize);
}

std::size_t RtuAnswer::missing() const {
  const std::size_t expected = rtu_expected_size(request_, bytes_);
  return expected > bytes_.size() ? expected - bytes_.size() : 0;
}

std::size_t RtuAnswer::append(std::span<const std::uint8_t> bytes) {
  std::size_t taken = 0;
  // The size is known only from the function code on: take up to the
  // least size first, then up to the size that code implies.
  while (taken < bytes.size() && !complete()) {
    const std::size_t n = std::min(bytes.size() - taken, missing());
    bytes_.insert(bytes_.end(), bytes.begin() + static_cast<std::ptrdiff_t>(taken),
                  bytes.begin() + static_cast<std::ptrdiff_t>(taken + n));
    taken += n;
  }
  return taken;
}

}  // namespace rackwatch::modbus
