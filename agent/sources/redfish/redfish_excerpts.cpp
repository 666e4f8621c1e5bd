#include "sources/redfish/redfish_excerpts.hpp"

#include <array>
#include <cctype>
#include <optional>
#include <utility>
#include <string>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "core/units.hpp"

namespace rackwatch::redfish {

namespace json = boost::json;

namespace {

// What an excerpt property measures, and how its point is named: `name`
// is the suffix after the prefix; "{}" in it stands for a group's member
// (Line1ToNeutral) or an array entry's DeviceName, else its 1-based index.
struct Excerpt {
  std::string_view key;
  std::string_view name;
  std::string_view quantity;
  std::string_view unit;
};

// One Reading each (DSP0268: Circuit, Outlet, PowerSupplyMetrics,
// BatteryMetrics, EnvironmentMetrics, CoolantConnector, Pump, Fan).
constexpr std::array kSingle{
    Excerpt{"Voltage", "voltage", "voltage", "V"},
    Excerpt{"CurrentAmps", "current", "current", "A"},
    Excerpt{"PowerWatts", "power", "power", "W"},
    Excerpt{"EnergykWh", "energy", "energy", "kW.h"},
    Excerpt{"EnergyJoules", "energy_joules", "energy", "J"},
    Excerpt{"FrequencyHz", "frequency", "frequency", "Hz"},
    Excerpt{"InputVoltage", "input_voltage", "voltage", "V"},
    Excerpt{"InputCurrentAmps", "input_current", "current", "A"},
    Excerpt{"InputPowerWatts", "input_power", "power", "W"},
    Excerpt{"OutputPowerWatts", "output_power", "power", "W"},
    Excerpt{"StoredEnergyWattHours", "stored_energy", "energy", "W.h"},
    Excerpt{"ChargePercent", "charge", "state_of_charge", "%"},
    Excerpt{"StateOfHealthPercent", "state_of_health", "ratio", "%"},
    Excerpt{"PowerLoadPercent", "load", "ratio", "%"},
    Excerpt{"FlowLitersPerMinute", "flow", "flow", "L/min"},
    Excerpt{"SupplyTemperatureCelsius", "supply_temp", "temperature", "Cel"},
    Excerpt{"ReturnTemperatureCelsius", "return_temp", "temperature", "Cel"},
    Excerpt{"DeltaTemperatureCelsius", "delta_temp", "temperature", "Cel"},
    Excerpt{"SupplyPressurekPa", "supply_pressure", "pressure", "kPa"},
    Excerpt{"ReturnPressurekPa", "return_pressure", "pressure", "kPa"},
    Excerpt{"DeltaPressurekPa", "delta_pressure", "pressure", "kPa"},
    Excerpt{"HeatRemovedkW", "heat_removed", "power", "kW"},
    Excerpt{"PumpSpeedPercent", "speed", "ratio", "%"},
    Excerpt{"SpeedPercent", "speed", "ratio", "%"},
    Excerpt{"FanSpeedPercent", "fan_speed", "ratio", "%"},
    Excerpt{"TemperatureCelsius", "temperature", "temperature", "Cel"},
    Excerpt{"DewPointCelsius", "dew_point", "temperature", "Cel"},
    Excerpt{"HumidityPercent", "humidity", "humidity", "%RH"},
};

// Objects whose members are excerpts (a Circuit's phases, a summary).
constexpr std::array kGroups{
    Excerpt{"PolyPhaseVoltage", "voltage_{}", "voltage", "V"},
    Excerpt{"PolyPhaseCurrentAmps", "current_{}", "current", "A"},
    Excerpt{"PolyPhasePowerWatts", "power_{}", "power", "W"},
    Excerpt{"PolyPhaseEnergykWh", "energy_{}", "energy", "kW.h"},
    Excerpt{"TemperatureSummaryCelsius", "temp_{}", "temperature", "Cel"},
};

// Arrays of excerpts (rails, battery cells, a chassis's fans).
constexpr std::array kArrays{
    Excerpt{"FanSpeedsPercent", "fan_{}", "ratio", "%"},
    Excerpt{"TemperatureReadingsCelsius", "temp_{}", "temperature", "Cel"},
    Excerpt{"RailVoltage", "rail{}_voltage", "voltage", "V"},
    Excerpt{"RailCurrentAmps", "rail{}_current", "current", "A"},
    Excerpt{"RailPowerWatts", "rail{}_power", "power", "W"},
    Excerpt{"OutputVoltages", "output{}_voltage", "voltage", "V"},
    Excerpt{"OutputCurrentAmps", "output{}_current", "current", "A"},
    Excerpt{"CellVoltages", "cell{}_voltage", "voltage", "V"},
};

ReadingKind kind_of(std::string_view quantity, std::string_view unit) {
  return {std::string(quantity), find_quantity(quantity)->unit, *device_unit(unit)};
}

std::string with(std::string_view pattern, std::string_view part) {
  std::string out(pattern);
  if (const auto at = out.find("{}"); at != std::string::npos) out.replace(at, 2, part);
  return out;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A point for the excerpt object `excerpt` at `pointer` (ending before
// "/Reading"), when it has a Reading.
void add_excerpt(std::vector<FoundPoint>& out, const json::value& body, const json::value& excerpt,
                 std::string_view uri, std::string_view prefix, const Excerpt& e, std::string pointer,
                 std::string_view part, std::string_view label) {
  if (!member(excerpt, "Reading")) return;
  FoundPoint p;
  p.name = point_name(std::string(prefix) + "_" + with(e.name, part));
  if (p.name.empty()) return;
  p.resource = std::string(uri);
  p.pointer = std::move(pointer) + "/Reading";
  p.source_uri = text(excerpt, "DataSourceUri");
  p.kind = kind_of(e.quantity, e.unit);
  const auto name = text(body, "Name");
  p.description = (name.empty() ? std::string(prefix) : name) + " " + std::string(e.key);
  if (!label.empty()) p.description += " " + std::string(label);
  out.push_back(std::move(p));
}

// The limits of a deprecated Power or Thermal entry, read as a Sensor's
// Thresholds would be.
std::optional<ThresholdConfig> legacy_thresholds(const json::value& entry, const ReadingKind& kind) {
  constexpr std::array<std::pair<std::string_view, std::string_view>, 6> kNames{{
      {"UpperThresholdNonCritical", "UpperCaution"},
      {"UpperThresholdCritical", "UpperCritical"},
      {"UpperThresholdFatal", "UpperFatal"},
      {"LowerThresholdNonCritical", "LowerCaution"},
      {"LowerThresholdCritical", "LowerCritical"},
      {"LowerThresholdFatal", "LowerFatal"},
  }};
  json::object limits;
  for (const auto& [legacy, now] : kNames) {
    if (const auto* v = member(entry, legacy); v && v->is_number()) limits[now] = json::object{{"Reading", *v}};
  }
  if (limits.empty()) return std::nullopt;
  return sensor_thresholds(json::object{{"Thresholds", std::move(limits)}}, kind);
}

// One entry of a deprecated array (Temperatures[2]) read at `property`.
void add_legacy(std::vector<FoundPoint>& out, std::vector<std::string>& skipped, const json::value& entry,
                std::string_view uri, std::string pointer, std::string fallback_name, std::string_view property,
                ReadingKind kind, bool thresholds) {
  const auto state = member(entry, "Status") ? text(*member(entry, "Status"), "State") : std::string();
  if (!member(entry, property)) {
    if (!state.empty() && state != "Enabled") {
      skipped.push_back(std::string(uri) + "#" + pointer + ": " + state + ", no " + std::string(property));
    }
    return;
  }
  FoundPoint p;
  const auto name = text(entry, "Name");
  p.name = point_name(name.empty() ? fallback_name : name);
  if (p.name.empty()) p.name = point_name(fallback_name);
  if (p.name.empty()) return;
  p.resource = std::string(uri);
  p.pointer = std::move(pointer) + "/" + std::string(property);
  p.kind = std::move(kind);
  p.description = (name.empty() ? fallback_name : name) + " (" + std::string(property) + ", deprecated resource)";
  if (thresholds) p.thresholds = legacy_thresholds(entry, p.kind);
  out.push_back(std::move(p));
}

const json::array* array_of(const json::value& body, std::string_view key) {
  const auto* v = member(body, key);
  return v ? v->if_array() : nullptr;
}

std::string id_of(const json::value& entry, std::size_t index) {
  auto id = text(entry, "MemberId");
  return id.empty() ? std::to_string(index) : id;
}

}  // namespace

std::vector<FoundPoint> excerpt_points(const json::value& body, std::string_view uri, std::string_view prefix) {
  std::vector<FoundPoint> out;
  for (const auto& e : kSingle) {
    if (const auto* excerpt = member(body, e.key)) {
      add_excerpt(out, body, *excerpt, uri, prefix, e, "/" + std::string(e.key), "", "");
    }
  }
  for (const auto& e : kGroups) {
    const auto* group = member(body, e.key);
    if (!group || !group->is_object()) continue;
    for (const auto& [part, excerpt] : group->get_object()) {
      const std::string key(part);
      if (key.empty() || key.front() == '@' || key.find('/') != std::string::npos || key.find('~') != std::string::npos) {
        continue;
      }
      add_excerpt(out, body, excerpt, uri, prefix, e, "/" + std::string(e.key) + "/" + key, lower(key), key);
    }
  }
  for (const auto& e : kArrays) {
    const auto* list = array_of(body, e.key);
    if (!list) continue;
    for (std::size_t i = 0; i < list->size(); ++i) {
      const auto& excerpt = (*list)[i];
      const auto device = text(excerpt, "DeviceName");
      const auto part = device.empty() ? std::to_string(i + 1) : device;
      add_excerpt(out, body, excerpt, uri, prefix, e, "/" + std::string(e.key) + "/" + std::to_string(i), part,
                  device);
    }
  }
  return out;
}

namespace {

// A DetectorState at `pointer` of the resource at `uri` as a leak point.
FoundPoint leak_point(std::string name, std::string_view uri, std::string pointer, std::string description) {
  FoundPoint p;
  p.name = std::move(name);
  p.resource = std::string(uri);
  p.pointer = std::move(pointer);
  p.kind = {"leak", Unit::boolean, {Unit::boolean, 1, 0}};
  p.states = {{"OK", 0}, {"Warning", 1}, {"Critical", 1}};
  p.description = std::move(description);
  ThresholdConfig t;
  t.alarm_state = 1;
  t.state_severity = Severity::critical;
  p.thresholds = t;
  return p;
}

}  // namespace

std::vector<FoundPoint> leak_points(const json::value& detector, std::string_view uri, std::string_view prefix) {
  if (!member(detector, "DetectorState")) return {};
  auto name = point_name(std::string(prefix) + "_leak");
  if (name.empty()) return {};
  const auto label = text(detector, "Name");
  return {leak_point(std::move(name), uri, "/DetectorState",
                     (label.empty() ? std::string(prefix) : label) + " DetectorState")};
}

std::vector<FoundPoint> leak_group_points(const json::value& detection, std::string_view uri,
                                          std::string_view prefix) {
  std::vector<FoundPoint> out;
  const auto* groups = array_of(detection, "LeakDetectorGroups");
  if (!groups) return out;
  for (std::size_t g = 0; g < groups->size(); ++g) {
    const auto* detectors = array_of((*groups)[g], "Detectors");
    if (!detectors) continue;
    for (std::size_t d = 0; d < detectors->size(); ++d) {
      const auto& detector = (*detectors)[d];
      if (!member(detector, "DetectorState")) continue;
      const auto device = text(detector, "DeviceName");
      auto name = point_name(std::string(prefix) + "_" + (device.empty() ? std::to_string(d + 1) : device) + "_leak");
      if (name.empty()) continue;
      auto p = leak_point(std::move(name), uri,
                          "/LeakDetectorGroups/" + std::to_string(g) + "/Detectors/" + std::to_string(d) + "/DetectorState",
                          (device.empty() ? std::string(prefix) : device) + " DetectorState");
      p.source_uri = text(detector, "DataSourceUri");
      out.push_back(std::move(p));
    }
  }
  return out;
}

std::vector<FoundPoint> health_points(const json::value& equipment, std::string_view uri, std::string_view prefix) {
  const auto* status = member(equipment, "Status");
  if (!status || !member(*status, "Health")) return {};
  FoundPoint p;
  p.name = point_name(std::string(prefix) + "_fault");
  if (p.name.empty()) return {};
  p.resource = std::string(uri);
  p.pointer = "/Status/Health";
  p.kind = {"fault", Unit::boolean, {Unit::boolean, 1, 0}};
  p.states = {{"OK", 0}, {"Warning", 1}, {"Critical", 1}};
  const auto name = text(equipment, "Name");
  p.description = (name.empty() ? std::string(prefix) : name) + " Status.Health";
  ThresholdConfig t;
  t.alarm_state = 1;
  t.state_severity = Severity::critical;
  p.thresholds = t;
  return {std::move(p)};
}

std::vector<FoundPoint> legacy_points(const json::value& body, std::string_view uri, std::string_view prefix,
                                      std::vector<std::string>& skipped) {
  std::vector<FoundPoint> out;
  const std::string pre(prefix);
  auto each = [&](std::string_view key, auto visit) {
    if (const auto* list = array_of(body, key)) {
      for (std::size_t i = 0; i < list->size(); ++i) {
        visit((*list)[i], "/" + std::string(key) + "/" + std::to_string(i), id_of((*list)[i], i));
      }
    }
  };
  each("PowerControl", [&](const json::value& e, std::string at, std::string id) {
    add_legacy(out, skipped, e, uri, at, pre + "_power" + id, "PowerConsumedWatts", kind_of("power", "W"), false);
  });
  each("Voltages", [&](const json::value& e, std::string at, std::string id) {
    add_legacy(out, skipped, e, uri, at, pre + "_voltage" + id, "ReadingVolts", kind_of("voltage", "V"), true);
  });
  each("PowerSupplies", [&](const json::value& e, std::string at, std::string id) {
    const auto psu = pre + "_psu" + id;
    // Entries share a Name ("Power Supply Bay"): named by MemberId.
    json::value unnamed = e;
    if (auto* o = unnamed.if_object()) o->erase("Name");
    add_legacy(out, skipped, unnamed, uri, at, psu + "_input_power", "PowerInputWatts", kind_of("power", "W"), false);
    add_legacy(out, skipped, unnamed, uri, at, psu + "_input_voltage", "LineInputVoltage", kind_of("voltage", "V"),
               false);
    const auto* output = member(e, "PowerOutputWatts") ? "PowerOutputWatts" : "LastPowerOutputWatts";
    add_legacy(out, skipped, unnamed, uri, at, psu + "_output_power", output, kind_of("power", "W"), false);
  });
  each("Temperatures", [&](const json::value& e, std::string at, std::string id) {
    add_legacy(out, skipped, e, uri, at, pre + "_temp" + id, "ReadingCelsius", kind_of("temperature", "Cel"), true);
  });
  each("Fans", [&](const json::value& e, std::string at, std::string id) {
    const bool percent = text(e, "ReadingUnits") == "Percent";
    const auto kind = percent ? kind_of("ratio", "%") : kind_of("fan_speed", "RPM");
    auto named = e;
    if (auto* o = named.if_object(); o && !o->contains("Name") && o->contains("FanName")) (*o)["Name"] = (*o)["FanName"];
    add_legacy(out, skipped, named, uri, at, pre + "_fan" + id, "Reading", kind, true);
  });
  return out;
}

}  // namespace rackwatch::redfish
