// What a Redfish reading measures and in which unit: a Sensor's ReadingType
// and ReadingUnits (UCUM, as DDSP0268 asks, and the spellings services
// use instead, such as "C" for "Cel") mapped to our quantities and units.
// Pure.
#pragma once

#include <string>
#include <string_view>

#include "core/result.hpp"
#include "core/units.hpp"

namespace rackwatch::redfish {

struct ReadingKind {
  std::string quantity;  // one of core/units.hpp's quantities
  Unit unit = Unit::unspecified;  // the quantity's canonical unit
  DeviceUnit from;                // the device's unit, mapped into `unit`
};

// A Redfish unit alone: "Cel" and "C" → °C, "kW.h" → Wh × 1000, "%" → %.
Result<DeviceUnit, std::string> device_unit(std::string_view reading_units);

// A Sensor's kind from its ReadingType and ReadingUnits. When the units
// cannot measure the type, a type that names its unit (EnergykWh,
// PressurekPa, LiquidFlowLPM) wins: public mockups give EnergykWh sensors
// in "kW". Otherwise an error that says why the sensor is left out.
Result<ReadingKind, std::string> sensor_kind(std::string_view reading_type, std::string_view reading_units);

}  // namespace rackwatch::redfish
