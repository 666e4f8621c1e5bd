#include "sources/hwmon/hwmon_attribute.hpp"

#include <array>
#include <charconv>

namespace rackwatch {
namespace {

struct KindEntry {
  HwmonKind kind;
  HwmonMeasure measure;
};

// Units from the kernel's Documentation/hwmon/sysfs-interface.rst.
constexpr std::array kKinds{
    KindEntry{HwmonKind::temp, {"temp", "temperature", "mdegC"}},
    KindEntry{HwmonKind::in, {"in", "voltage", "mV"}},
    KindEntry{HwmonKind::curr, {"curr", "current", "mA"}},
    KindEntry{HwmonKind::power, {"power", "power", "uW"}},
    KindEntry{HwmonKind::energy, {"energy", "energy", "uJ"}},
    KindEntry{HwmonKind::humidity, {"humidity", "humidity", "m%RH"}},
    KindEntry{HwmonKind::fan, {"fan", "fan_speed", "RPM"}},
};

// Suffixes whose value is in the kind's unit. Alarms, faults, intervals
// (ms), divisors and enables are left out: their unit differs.
constexpr std::array<std::string_view, 28> kValueSuffixes{
    "input",         "average",        "min",
    "max",           "crit",           "lcrit",
    "emergency",     "lowest",         "highest",
    "min_hyst",      "max_hyst",       "crit_hyst",
    "lcrit_hyst",    "emergency_hyst", "input_lowest",
    "input_highest", "average_lowest", "average_highest",
    "average_min",   "average_max",    "cap",
    "cap_min",       "cap_max",        "cap_hyst",
    "rated_min",     "rated_max",      "target",
    "offset",
};

std::optional<HwmonKind> kind_of_prefix(std::string_view prefix) {
  for (const auto& k : kKinds) {
    if (k.measure.prefix == prefix) return k.kind;
  }
  return std::nullopt;
}

}  // namespace

const HwmonMeasure& hwmon_measure(HwmonKind kind) {
  for (const auto& k : kKinds) {
    if (k.kind == kind) return k.measure;
  }
  return kKinds.front().measure;  // unreachable: every kind is listed
}

std::optional<HwmonKind> hwmon_kind_for_unit(Unit unit) {
  for (const auto& k : kKinds) {
    if (hwmon_device_unit(k.kind).canonical == unit) return k.kind;
  }
  return std::nullopt;
}

DeviceUnit hwmon_device_unit(HwmonKind kind) {
  // Every device unit of the table is known to parse_device_unit (a unit test
  // holds the two tables together).
  return parse_device_unit(hwmon_measure(kind).device_unit).value_or(DeviceUnit{});
}

std::optional<HwmonSensor> parse_hwmon_sensor(std::string_view base) {
  const auto digits = base.find_first_of("0123456789");
  if (digits == std::string_view::npos || digits == 0) return std::nullopt;
  auto kind = kind_of_prefix(base.substr(0, digits));
  if (!kind) return std::nullopt;
  unsigned channel = 0;
  const char* first = base.data() + digits;
  const char* last = base.data() + base.size();
  auto [end, ec] = std::from_chars(first, last, channel);
  if (ec != std::errc{} || end != last) return std::nullopt;
  return HwmonSensor{*kind, channel};
}

std::optional<HwmonFileName> parse_hwmon_file_name(std::string_view file_name) {
  const auto underscore = file_name.find('_');
  if (underscore == std::string_view::npos || underscore + 1 == file_name.size()) {
    return std::nullopt;
  }
  auto sensor = parse_hwmon_sensor(file_name.substr(0, underscore));
  if (!sensor) return std::nullopt;
  return HwmonFileName{*sensor, std::string(file_name.substr(underscore + 1))};
}

std::string hwmon_sensor_base(const HwmonSensor& sensor) {
  return std::string(hwmon_measure(sensor.kind).prefix) + std::to_string(sensor.channel);
}

bool is_hwmon_value_suffix(std::string_view suffix) {
  for (auto s : kValueSuffixes) {
    if (s == suffix) return true;
  }
  return false;
}

std::string hwmon_value_suffixes() {
  std::string out;
  for (auto s : kValueSuffixes) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

std::string hwmon_kind_prefixes() {
  std::string out;
  for (const auto& k : kKinds) {
    if (!out.empty()) out += ", ";
    out += k.measure.prefix;
  }
  return out;
}

}  // namespace rackwatch
