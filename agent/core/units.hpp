// Canonical units, the quantities they measure, and conversion of device
// units (mV, kW, °F, psi, ...) into them. Pure; no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace rackwatch {

// Values on the wire are always in one of these (mirrors rackwatch.v1.Unit).
enum class Unit {
  unspecified = 0,
  watt = 1,
  watt_hour = 2,
  degree_celsius = 3,
  percent_rh = 4,
  kilopascal = 5,
  litre_per_minute = 6,
  ampere = 7,
  volt = 8,
  hertz = 9,
  rpm = 10,
  boolean = 11,
  percent = 12,
  volt_ampere = 13,
  var = 14,
};

// The symbol shown to people: "W", "°C", "L/min", "bool".
std::string_view unit_symbol(Unit unit);

// Parses a canonical unit symbol, accepting common spellings ("C", "degC", "Cel").
std::optional<Unit> parse_canonical_unit(std::string_view text);

// A device unit: a canonical unit and the affine map into it
// (canonical = raw * factor + offset).
struct DeviceUnit {
  Unit canonical = Unit::unspecified;
  double factor = 1.0;
  double offset = 0.0;
};

// Parses a unit a device may report in: every canonical unit plus scaled and
// foreign ones (mW, kW, MW, kWh, MWh, mV, mA, degF, K, bar, psi, Pa, gpm, ...).
std::optional<DeviceUnit> parse_device_unit(std::string_view text);

// The quantity a point measures, and the canonical unit it must be in.
struct Quantity {
  std::string_view name;
  Unit unit;
};

std::optional<Quantity> find_quantity(std::string_view name);

// The quantity a point in `unit` measures when its config names only the
// unit: the one quantity of that unit, or the generic one ("state" for
// boolean, "ratio" for percent); empty for none.
std::string_view quantity_of_unit(Unit unit);

// Every known quantity name, comma separated, for error messages.
std::string quantity_names();

}  // namespace rackwatch
