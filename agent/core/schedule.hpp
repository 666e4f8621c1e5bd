// Wall-clock aligned ticks: a source with interval I polls at multiples of I
// since the epoch, so racks across a hall sample in phase.
#pragma once

#include <chrono>

#include "core/reading.hpp"

namespace rackwatch {

// The first multiple of `interval` strictly after `now`.
TimePoint next_tick(TimePoint now, std::chrono::milliseconds interval);

}  // namespace rackwatch
