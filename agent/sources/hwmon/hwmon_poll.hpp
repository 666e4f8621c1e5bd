// One poll of an hwmon source, done synchronously: resolve each point's file
// (using and updating the cache of earlier polls) and read it. Blocking file
// I/O: runs on the blocking executor, never on the agent's.
#pragma once

#include <optional>
#include <vector>

#include "core/reading.hpp"
#include "sources/hwmon/hwmon_config.hpp"
#include "sources/hwmon/hwmon_tree.hpp"

namespace rackwatch {

// Where each point's file was found by an earlier poll (nullopt: not yet).
using HwmonCache = std::vector<std::optional<HwmonLocation>>;

struct HwmonPollResult {
  std::vector<RawReading> readings;  // one per point, in config order
  HwmonCache cache;                  // to hand to the next poll
};

HwmonPollResult poll_hwmon(const HwmonSettings& settings, HwmonCache cache);

}  // namespace rackwatch
