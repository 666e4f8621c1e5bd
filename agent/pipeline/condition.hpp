// The pipeline's first stage: a raw device reading becomes a Sample in
// canonical units, or a bad-quality Sample that says why. Pure.
#pragma once

#include <cstdint>

#include "core/config.hpp"
#include "core/reading.hpp"

namespace rackwatch {

// Order: device sentinels (on the raw value) → scale and offset → device unit
// into canonical unit → NaN/infinity → configured range.
Sample condition(const PointConfig& point, std::uint32_t index, const RawReading& raw);

}  // namespace rackwatch
