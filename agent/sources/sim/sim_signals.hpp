// The named signals of a simulated rack that a point can read, such as
// `pdu.l1.power` or `cdu.return_temp`, with their quantity and how each is
// taken from a RackState.
//
//   pdu.l{1..3}.{power,current,voltage,apparent_power,power_factor}
//   pdu.total.{power,apparent_power}   pdu.frequency   pdu.energy
//   shelf.psu{1..N}.{input_power,output_power,efficiency}
//   shelf.{input_power,output_power,efficiency}   shelf.bbu.soc
//   cdu.{supply_temp,return_temp,flow,pressure,pump_speed,heat_load}
//   air.{inlet_temp,outlet_temp,humidity}
//   leak
//
// Values are in canonical units: W, VA, A, V, Hz, Wh, °C, L/min, kPa, RPM,
// %RH; power factor and efficiency in %; leak 0 (dry) or 1 (wet).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/units.hpp"
#include "sources/sim/rack_model.hpp"

namespace rackwatch {

enum class SimField : std::uint8_t {
  phase_power,
  phase_current,
  phase_voltage,
  phase_apparent_power,
  phase_power_factor,
  total_power,
  total_apparent_power,
  frequency,
  energy,
  psu_input_power,
  psu_output_power,
  psu_efficiency,
  shelf_input_power,
  shelf_output_power,
  shelf_efficiency,
  bbu_soc,
  cdu_supply_temp,
  cdu_return_temp,
  cdu_flow,
  cdu_pressure,
  cdu_pump_speed,
  cdu_heat_load,
  air_inlet_temp,
  air_outlet_temp,
  air_humidity,
  leak,
};

struct SimSignal {
  std::string name;
  SimField field = SimField::total_power;
  std::size_t index = 0;  // phase or PSU, from 0
  Quantity quantity{};
};

// nullopt when `name` is no signal of a rack with `psus` power supplies.
std::optional<SimSignal> find_sim_signal(std::string_view name, std::size_t psus);

// Every signal name of a rack with `psus` power supplies, expanded.
std::vector<std::string> sim_signal_names(std::size_t psus);

// The signal names as patterns ("pdu.l{1..3}.power, ..."), for error messages.
std::string sim_signal_patterns(std::size_t psus);

double sim_signal_value(const RackState& state, const SimSignal& signal);

}  // namespace rackwatch
