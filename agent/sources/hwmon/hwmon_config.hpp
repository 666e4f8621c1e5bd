// The hwmon source's own config keys (root; per point chip, label, sensor,
// attribute, index, path) and the quantity and unit they imply for a point.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "sources/hwmon/hwmon_tree.hpp"

namespace YAML {
class Node;
}

namespace rackwatch {

class ConfigReader;

inline constexpr const char* kDefaultHwmonRoot = "/sys/class/hwmon";

struct HwmonSettings final : SourceSettings {
  std::string root = kDefaultHwmonRoot;
  std::vector<HwmonSelector> points;  // one per configured point, in order
};

// Reads the keys, reports every problem through `reader`, and completes each
// point's quantity, unit and device unit (`from`) from its attribute kind.
std::shared_ptr<const HwmonSettings> parse_hwmon_settings(
    const YAML::Node& source, const std::vector<YAML::Node>& point_nodes,
    std::vector<PointConfig>& points, ConfigReader& reader);

}  // namespace rackwatch
