// The hwmon sysfs attribute naming scheme (<kind><channel>_<suffix>, e.g.
// temp1_input) and what each kind measures: quantity and device unit.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/units.hpp"

namespace rackwatch {

enum class HwmonKind { temp, in, curr, power, energy, humidity, fan };

// What an attribute of one kind measures, as the kernel's hwmon ABI fixes it.
struct HwmonMeasure {
  std::string_view prefix;       // "temp"
  std::string_view quantity;     // "temperature"
  std::string_view device_unit;  // "mdegC": what the file holds
};

const HwmonMeasure& hwmon_measure(HwmonKind kind);

// The kind whose values are in canonical `unit` (°C → temp, W → power, ...).
std::optional<HwmonKind> hwmon_kind_for_unit(Unit unit);

// The device unit of a kind, ready for PointConfig::from.
DeviceUnit hwmon_device_unit(HwmonKind kind);

// "temp1" → {temp, 1}.
struct HwmonSensor {
  HwmonKind kind;
  unsigned channel;
};
std::optional<HwmonSensor> parse_hwmon_sensor(std::string_view base);

// "temp1_input" → {{temp, 1}, "input"}; also "fan2_label" → {{fan, 2}, "label"}.
struct HwmonFileName {
  HwmonSensor sensor;
  std::string suffix;
};
std::optional<HwmonFileName> parse_hwmon_file_name(std::string_view file_name);

// "temp1" for {temp, 1}.
std::string hwmon_sensor_base(const HwmonSensor& sensor);

// Whether a suffix names a value in the kind's unit (input, average, max,
// crit_hyst, ...), as opposed to flags, intervals or settings.
bool is_hwmon_value_suffix(std::string_view suffix);

// "input, average, ..." for error messages.
std::string hwmon_value_suffixes();

// "temp, in, curr, ..." for error messages.
std::string hwmon_kind_prefixes();

}  // namespace rackwatch
