#include "core/units.hpp"

#include <array>

namespace rackwatch {
namespace {

struct Spelling {
  std::string_view text;
  Unit unit;
};

// Accepted spellings of canonical units; the first of each is the symbol.
constexpr std::array kSpellings{
    Spelling{"W", Unit::watt},
    Spelling{"Wh", Unit::watt_hour},
    Spelling{"°C", Unit::degree_celsius},
    Spelling{"C", Unit::degree_celsius},
    Spelling{"degC", Unit::degree_celsius},
    Spelling{"Cel", Unit::degree_celsius},
    Spelling{"%RH", Unit::percent_rh},
    Spelling{"kPa", Unit::kilopascal},
    Spelling{"L/min", Unit::litre_per_minute},
    Spelling{"l/min", Unit::litre_per_minute},
    Spelling{"A", Unit::ampere},
    Spelling{"V", Unit::volt},
    Spelling{"Hz", Unit::hertz},
    Spelling{"RPM", Unit::rpm},
    Spelling{"rpm", Unit::rpm},
    Spelling{"bool", Unit::boolean},
    Spelling{"%", Unit::percent},
    Spelling{"VA", Unit::volt_ampere},
    Spelling{"var", Unit::var},
};

struct Scaled {
  std::string_view text;
  DeviceUnit unit;
};

// Device units that are not canonical: factor and offset into the canonical one.
constexpr std::array kScaled{
    Scaled{"mW", {Unit::watt, 1e-3, 0}},
    Scaled{"uW", {Unit::watt, 1e-6, 0}},
    Scaled{"µW", {Unit::watt, 1e-6, 0}},
    Scaled{"kW", {Unit::watt, 1e3, 0}},
    Scaled{"MW", {Unit::watt, 1e6, 0}},
    Scaled{"kWh", {Unit::watt_hour, 1e3, 0}},
    Scaled{"MWh", {Unit::watt_hour, 1e6, 0}},
    Scaled{"J", {Unit::watt_hour, 1.0 / 3600.0, 0}},
    Scaled{"uJ", {Unit::watt_hour, 1.0 / 3.6e9, 0}},
    Scaled{"µJ", {Unit::watt_hour, 1.0 / 3.6e9, 0}},
    Scaled{"mdegC", {Unit::degree_celsius, 1e-3, 0}},
    Scaled{"degF", {Unit::degree_celsius, 5.0 / 9.0, -32.0 * 5.0 / 9.0}},
    Scaled{"°F", {Unit::degree_celsius, 5.0 / 9.0, -32.0 * 5.0 / 9.0}},
    Scaled{"F", {Unit::degree_celsius, 5.0 / 9.0, -32.0 * 5.0 / 9.0}},
    Scaled{"K", {Unit::degree_celsius, 1.0, -273.15}},
    Scaled{"m%RH", {Unit::percent_rh, 1e-3, 0}},
    Scaled{"Pa", {Unit::kilopascal, 1e-3, 0}},
    Scaled{"bar", {Unit::kilopascal, 100.0, 0}},
    Scaled{"mbar", {Unit::kilopascal, 0.1, 0}},
    Scaled{"psi", {Unit::kilopascal, 6.894757293168, 0}},
    Scaled{"L/s", {Unit::litre_per_minute, 60.0, 0}},
    Scaled{"m3/h", {Unit::litre_per_minute, 1000.0 / 60.0, 0}},
    Scaled{"gpm", {Unit::litre_per_minute, 3.785411784, 0}},
    Scaled{"mA", {Unit::ampere, 1e-3, 0}},
    Scaled{"mV", {Unit::volt, 1e-3, 0}},
    Scaled{"kV", {Unit::volt, 1e3, 0}},
    Scaled{"kVA", {Unit::volt_ampere, 1e3, 0}},
    Scaled{"kvar", {Unit::var, 1e3, 0}},
    Scaled{"permille", {Unit::percent, 0.1, 0}},
    Scaled{"ratio", {Unit::percent, 100.0, 0}},
};

constexpr std::array kQuantities{
    Quantity{"power", Unit::watt},
    Quantity{"apparent_power", Unit::volt_ampere},
    Quantity{"reactive_power", Unit::var},
    Quantity{"energy", Unit::watt_hour},
    Quantity{"temperature", Unit::degree_celsius},
    Quantity{"humidity", Unit::percent_rh},
    Quantity{"pressure", Unit::kilopascal},
    Quantity{"flow", Unit::litre_per_minute},
    Quantity{"current", Unit::ampere},
    Quantity{"voltage", Unit::volt},
    Quantity{"frequency", Unit::hertz},
    Quantity{"fan_speed", Unit::rpm},
    Quantity{"leak", Unit::boolean},
    Quantity{"door", Unit::boolean},
    Quantity{"fault", Unit::boolean},
    Quantity{"state", Unit::boolean},
    Quantity{"ratio", Unit::percent},
    Quantity{"state_of_charge", Unit::percent},
    Quantity{"power_factor", Unit::percent},
};

}  // namespace

std::string_view quantity_of_unit(Unit unit) {
  if (unit == Unit::boolean) return "state";
  if (unit == Unit::percent) return "ratio";
  for (const auto& q : kQuantities) {
    if (q.unit == unit) return q.name;
  }
  return "";
}

std::string_view unit_symbol(Unit unit) {
  for (const auto& s : kSpellings) {
    if (s.unit == unit) return s.text;
  }
  return "";
}

std::optional<Unit> parse_canonical_unit(std::string_view text) {
  for (const auto& s : kSpellings) {
    if (s.text == text) return s.unit;
  }
  return std::nullopt;
}

std::optional<DeviceUnit> parse_device_unit(std::string_view text) {
  if (auto canonical = parse_canonical_unit(text)) return DeviceUnit{*canonical, 1.0, 0.0};
  for (const auto& s : kScaled) {
    if (s.text == text) return s.unit;
  }
  return std::nullopt;
}

std::optional<Quantity> find_quantity(std::string_view name) {
  for (const auto& q : kQuantities) {
    if (q.name == name) return q;
  }
  return std::nullopt;
}

std::string quantity_names() {
  std::string out;
  for (const auto& q : kQuantities) {
    if (!out.empty()) out += ", ";
    out += q.name;
  }
  return out;
}

}  // namespace rackwatch
