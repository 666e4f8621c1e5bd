// Linux hwmon sysfs source: temperature, power, energy, current, voltage,
// fan and humidity inputs, selected by chip name and label.
#pragma once

namespace rackwatch {

class SourceType;

const SourceType& hwmon_source_type();

}  // namespace rackwatch
