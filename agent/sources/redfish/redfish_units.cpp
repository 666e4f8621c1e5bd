#include "sources/redfish/redfish_units.hpp"

#include <array>

namespace rackwatch::redfish {

namespace {

struct Spelling {
  std::string_view text;
  DeviceUnit unit;
};

// UCUM as Redfish writes it, then the spellings seen in the field.
constexpr std::array kUnits{
    Spelling{"Cel", {Unit::degree_celsius, 1, 0}},
    Spelling{"C", {Unit::degree_celsius, 1, 0}},
    Spelling{"[degF]", {Unit::degree_celsius, 5.0 / 9.0, -32.0 * 5.0 / 9.0}},
    Spelling{"K", {Unit::degree_celsius, 1, -273.15}},
    Spelling{"W", {Unit::watt, 1, 0}},
    Spelling{"kW", {Unit::watt, 1e3, 0}},
    Spelling{"W.h", {Unit::watt_hour, 1, 0}},
    Spelling{"Wh", {Unit::watt_hour, 1, 0}},
    Spelling{"kW.h", {Unit::watt_hour, 1e3, 0}},
    Spelling{"kWh", {Unit::watt_hour, 1e3, 0}},
    Spelling{"J", {Unit::watt_hour, 1.0 / 3600.0, 0}},
    Spelling{"V", {Unit::volt, 1, 0}},
    Spelling{"mV", {Unit::volt, 1e-3, 0}},
    Spelling{"A", {Unit::ampere, 1, 0}},
    Spelling{"mA", {Unit::ampere, 1e-3, 0}},
    Spelling{"Hz", {Unit::hertz, 1, 0}},
    Spelling{"%", {Unit::percent, 1, 0}},
    Spelling{"%RH", {Unit::percent_rh, 1, 0}},
    Spelling{"L/min", {Unit::litre_per_minute, 1, 0}},
    Spelling{"L/s", {Unit::litre_per_minute, 60, 0}},
    Spelling{"kPa", {Unit::kilopascal, 1, 0}},
    Spelling{"Pa", {Unit::kilopascal, 1e-3, 0}},
    Spelling{"bar", {Unit::kilopascal, 100, 0}},
    Spelling{"RPM", {Unit::rpm, 1, 0}},
    Spelling{"{rev}/min", {Unit::rpm, 1, 0}},
    Spelling{"V.A", {Unit::volt_ampere, 1, 0}},
    Spelling{"VA", {Unit::volt_ampere, 1, 0}},
    Spelling{"{var}", {Unit::var, 1, 0}},
    Spelling{"var", {Unit::var, 1, 0}},
};

struct TypeEntry {
  std::string_view type;
  std::string_view quantity;
  Unit unit;
  std::string_view implied;  // the unit the type's name carries; empty: none
};

constexpr std::array kTypes{
    TypeEntry{"Temperature", "temperature", Unit::degree_celsius, ""},
    TypeEntry{"Humidity", "humidity", Unit::percent_rh, ""},
    TypeEntry{"Power", "power", Unit::watt, ""},
    TypeEntry{"Heat", "power", Unit::watt, ""},
    TypeEntry{"EnergykWh", "energy", Unit::watt_hour, "kW.h"},
    TypeEntry{"EnergyWh", "energy", Unit::watt_hour, "W.h"},
    TypeEntry{"EnergyJoules", "energy", Unit::watt_hour, "J"},
    TypeEntry{"Voltage", "voltage", Unit::volt, ""},
    TypeEntry{"Current", "current", Unit::ampere, ""},
    TypeEntry{"Frequency", "frequency", Unit::hertz, ""},
    TypeEntry{"Pressure", "pressure", Unit::kilopascal, ""},
    TypeEntry{"PressurePa", "pressure", Unit::kilopascal, "Pa"},
    TypeEntry{"PressurekPa", "pressure", Unit::kilopascal, "kPa"},
    TypeEntry{"DifferentialPressurekPa", "pressure", Unit::kilopascal, "kPa"},
    TypeEntry{"DifferentialPressurePa", "pressure", Unit::kilopascal, "Pa"},
    TypeEntry{"LiquidFlow", "flow", Unit::litre_per_minute, ""},
    TypeEntry{"LiquidFlowLPM", "flow", Unit::litre_per_minute, "L/min"},
    TypeEntry{"Rotational", "fan_speed", Unit::rpm, ""},
    TypeEntry{"Percent", "ratio", Unit::percent, ""},
    TypeEntry{"ApparentPower", "apparent_power", Unit::volt_ampere, ""},
    TypeEntry{"ReactivePower", "reactive_power", Unit::var, ""},
    TypeEntry{"ChargeState", "state_of_charge", Unit::percent, ""},
};

}  // namespace

Result<DeviceUnit, std::string> device_unit(std::string_view reading_units) {
  for (const auto& s : kUnits) {
    if (s.text == reading_units) return s.unit;
  }
  return std::string("unknown ReadingUnits '") + std::string(reading_units) + "'";
}

Result<ReadingKind, std::string> sensor_kind(std::string_view reading_type, std::string_view reading_units) {
  const TypeEntry* type = nullptr;
  for (const auto& t : kTypes) {
    if (t.type == reading_type) type = &t;
  }
  // ReadingType is optional in the schema (public-rackmount1's temperature
  // sensors leave it out): the unit says what is measured, where it can
  // mean one thing only ("%" cannot).
  if (!type && reading_type.empty()) {
    const auto unit = device_unit(reading_units);
    if (!unit) return "no ReadingType and " + unit.error();
    for (const auto& t : kTypes) {
      if (t.unit == unit->canonical && unit->canonical != Unit::percent) {
        return ReadingKind{std::string(t.quantity), t.unit, *unit};
      }
    }
    return std::string("no ReadingType, and ReadingUnits '") + std::string(reading_units) +
           "' do not say what is measured";
  }
  if (!type) return std::string("ReadingType '") + std::string(reading_type) + "' has no quantity here";
  ReadingKind kind{std::string(type->quantity), type->unit, {}};
  auto unit = device_unit(reading_units);
  // "%" of a humidity sensor is relative humidity.
  if (unit && unit->canonical == Unit::percent && type->unit == Unit::percent_rh) {
    kind.from = {Unit::percent_rh, unit->factor, unit->offset};
    return kind;
  }
  if (unit && unit->canonical == type->unit) {
    kind.from = *unit;
    return kind;
  }
  if (!type->implied.empty()) {
    kind.from = *device_unit(type->implied);
    return kind;
  }
  if (!unit) return unit.error() + " for ReadingType '" + std::string(reading_type) + "'";
  return std::string("ReadingUnits '") + std::string(reading_units) + "' cannot measure ReadingType '" +
         std::string(reading_type) + "'";
}

}  // namespace rackwatch::redfish
