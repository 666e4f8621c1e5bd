// The readings that equipment resources carry besides Sensors, as points:
// excerpts (an Outlet's PowerWatts, a PowerSupplyMetrics' InputVoltage, a
// Circuit's PolyPhaseVoltage.Line1ToNeutral, a ThermalMetrics'
// TemperatureReadingsCelsius[]), states (a LeakDetector's DetectorState, a
// pump's Status.Health) and the deprecated Chassis Power and Thermal
// resources of older BMCs. Pure, as redfish_readings.hpp.
#pragma once

#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "sources/redfish/redfish_readings.hpp"

namespace rackwatch::redfish {

// Each excerpt of `body` (the resource at `uri`) whose object has a
// Reading, as a point named `prefix`_power, `prefix`_voltage_line1toneutral,
// `prefix`_fan_<DeviceName>, `prefix`_rail1_voltage, ...
std::vector<FoundPoint> excerpt_points(const boost::json::value& body, std::string_view uri,
                                       std::string_view prefix);

// A LeakDetector's DetectorState as a leak point (OK → 0, Warning and
// Critical → 1, an alarm when 1), or none when it has no DetectorState.
std::vector<FoundPoint> leak_points(const boost::json::value& detector, std::string_view uri,
                                    std::string_view prefix);

// The detectors of a LeakDetection's LeakDetectorGroups, excerpts of
// LeakDetector resources (DataSourceUri), as leak points named
// `prefix`_<DeviceName>_leak.
std::vector<FoundPoint> leak_group_points(const boost::json::value& detection, std::string_view uri,
                                          std::string_view prefix);

// An equipment's Status.Health as a fault point (OK → 0, Warning and
// Critical → 1): a pump that failed says so here, not in a reading.
std::vector<FoundPoint> health_points(const boost::json::value& equipment, std::string_view uri,
                                      std::string_view prefix);

// The deprecated Chassis Power resource (PowerControl, Voltages,
// PowerSupplies arrays) and Thermal resource (Temperatures, Fans), with
// their Upper/LowerThreshold* limits; read only for a chassis without a
// Sensors collection. Entries that are disabled and have no reading are
// left out, and said in `skipped`.
std::vector<FoundPoint> legacy_points(const boost::json::value& body, std::string_view uri,
                                      std::string_view prefix, std::vector<std::string>& skipped);

}  // namespace rackwatch::redfish
