// What a device says it is, where it can say so (a SunSpec device's common
// model): carried in the catalog beside the device's points, so that a
// subscriber sees which meter a reading came from, and when it was replaced.
#pragma once

#include <string>

namespace rackwatch {

struct DeviceInfo {
  std::string manufacturer;
  std::string model;
  std::string serial_number;
  std::string version;  // firmware, as the device spells it

  bool empty() const { return manufacturer.empty() && model.empty() && serial_number.empty() && version.empty(); }
  friend bool operator==(const DeviceInfo&, const DeviceInfo&) = default;
};

}  // namespace rackwatch
