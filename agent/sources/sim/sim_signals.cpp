#include "sources/sim/sim_signals.hpp"

#include <array>
#include <charconv>

namespace rackwatch {
namespace {

// What the number in a signal name counts.
enum class Counted : std::uint8_t { none, phase, psu };

// A signal name is prefix + (number, when counted) + suffix.
struct Pattern {
  std::string_view prefix;
  Counted counted;
  std::string_view suffix;
  SimField field;
  std::string_view quantity;
};

constexpr std::size_t kPhases = 3;
constexpr double kPercent = 100.0;

constexpr std::array kPatterns{
    Pattern{"pdu.l", Counted::phase, ".power", SimField::phase_power, "power"},
    Pattern{"pdu.l", Counted::phase, ".current", SimField::phase_current, "current"},
    Pattern{"pdu.l", Counted::phase, ".voltage", SimField::phase_voltage, "voltage"},
    Pattern{"pdu.l", Counted::phase, ".apparent_power", SimField::phase_apparent_power,
            "apparent_power"},
    Pattern{"pdu.l", Counted::phase, ".power_factor", SimField::phase_power_factor,
            "power_factor"},
    Pattern{"pdu.total.power", Counted::none, "", SimField::total_power, "power"},
    Pattern{"pdu.total.apparent_power", Counted::none, "", SimField::total_apparent_power,
            "apparent_power"},
    Pattern{"pdu.frequency", Counted::none, "", SimField::frequency, "frequency"},
    Pattern{"pdu.energy", Counted::none, "", SimField::energy, "energy"},
    Pattern{"shelf.psu", Counted::psu, ".input_power", SimField::psu_input_power, "power"},
    Pattern{"shelf.psu", Counted::psu, ".output_power", SimField::psu_output_power, "power"},
    Pattern{"shelf.psu", Counted::psu, ".efficiency", SimField::psu_efficiency, "ratio"},
    Pattern{"shelf.input_power", Counted::none, "", SimField::shelf_input_power, "power"},
    Pattern{"shelf.output_power", Counted::none, "", SimField::shelf_output_power, "power"},
    Pattern{"shelf.efficiency", Counted::none, "", SimField::shelf_efficiency, "ratio"},
    Pattern{"shelf.bbu.soc", Counted::none, "", SimField::bbu_soc, "state_of_charge"},
    Pattern{"cdu.supply_temp", Counted::none, "", SimField::cdu_supply_temp, "temperature"},
    Pattern{"cdu.return_temp", Counted::none, "", SimField::cdu_return_temp, "temperature"},
    Pattern{"cdu.flow", Counted::none, "", SimField::cdu_flow, "flow"},
    Pattern{"cdu.pressure", Counted::none, "", SimField::cdu_pressure, "pressure"},
    Pattern{"cdu.pump_speed", Counted::none, "", SimField::cdu_pump_speed, "fan_speed"},
    Pattern{"cdu.heat_load", Counted::none, "", SimField::cdu_heat_load, "power"},
    Pattern{"air.inlet_temp", Counted::none, "", SimField::air_inlet_temp, "temperature"},
    Pattern{"air.outlet_temp", Counted::none, "", SimField::air_outlet_temp, "temperature"},
    Pattern{"air.humidity", Counted::none, "", SimField::air_humidity, "humidity"},
    Pattern{"leak", Counted::none, "", SimField::leak, "leak"},
};

std::size_t count_of(Counted c, std::size_t psus) {
  switch (c) {
    case Counted::none: return 1;
    case Counted::phase: return kPhases;
    case Counted::psu: return psus;
  }
  return 1;
}

SimSignal make_signal(std::string_view name, const Pattern& p, std::size_t index) {
  // The quantity names above are all known: units.cpp is their single source.
  const auto q = find_quantity(p.quantity);
  return SimSignal{std::string(name), p.field, index, q.value_or(Quantity{p.quantity, Unit::unspecified})};
}

// The 1-based number between prefix and suffix; no sign, no leading zero.
std::optional<std::size_t> number_in(std::string_view name, const Pattern& p) {
  if (name.size() <= p.prefix.size() + p.suffix.size()) return std::nullopt;
  if (!name.starts_with(p.prefix) || !name.ends_with(p.suffix)) return std::nullopt;
  const auto digits = name.substr(p.prefix.size(), name.size() - p.prefix.size() - p.suffix.size());
  if (digits.front() == '0') return std::nullopt;
  std::size_t n = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
  return n;
}

}  // namespace

std::optional<SimSignal> find_sim_signal(std::string_view name, std::size_t psus) {
  for (const auto& p : kPatterns) {
    if (p.counted == Counted::none) {
      if (name == p.prefix) return make_signal(name, p, 0);
      continue;
    }
    const auto n = number_in(name, p);
    if (n && *n >= 1 && *n <= count_of(p.counted, psus)) return make_signal(name, p, *n - 1);
  }
  return std::nullopt;
}

std::vector<std::string> sim_signal_names(std::size_t psus) {
  std::vector<std::string> out;
  for (const auto& p : kPatterns) {
    if (p.counted == Counted::none) {
      out.emplace_back(p.prefix);
      continue;
    }
    for (std::size_t n = 1; n <= count_of(p.counted, psus); ++n) {
      out.push_back(std::string(p.prefix) + std::to_string(n) + std::string(p.suffix));
    }
  }
  return out;
}

std::string sim_signal_patterns(std::size_t psus) {
  std::string out;
  for (const auto& p : kPatterns) {
    if (!out.empty()) out += ", ";
    out += p.prefix;
    if (p.counted != Counted::none) {
      out += "{1.." + std::to_string(count_of(p.counted, psus)) + "}";
      out += p.suffix;
    }
  }
  return out;
}

double sim_signal_value(const RackState& s, const SimSignal& signal) {
  const auto i = signal.index;
  switch (signal.field) {
    case SimField::phase_power: return s.phases.at(i).power_w;
    case SimField::phase_current: return s.phases.at(i).current_a;
    case SimField::phase_voltage: return s.phases.at(i).voltage_v;
    case SimField::phase_apparent_power: return s.phases.at(i).apparent_power_va;
    case SimField::phase_power_factor: return s.phases.at(i).power_factor * kPercent;
    case SimField::total_power: {
      double sum = 0.0;
      for (const auto& ph : s.phases) sum += ph.power_w;
      return sum;
    }
    case SimField::total_apparent_power: {
      double sum = 0.0;
      for (const auto& ph : s.phases) sum += ph.apparent_power_va;
      return sum;
    }
    case SimField::frequency: return s.frequency_hz;
    case SimField::energy: return s.energy_wh;
    case SimField::psu_input_power: return s.psus.at(i).input_w;
    case SimField::psu_output_power: return s.psus.at(i).output_w;
    case SimField::psu_efficiency: return s.psus.at(i).efficiency * kPercent;
    case SimField::shelf_input_power: return s.shelf_input_w;
    case SimField::shelf_output_power: return s.shelf_output_w;
    case SimField::shelf_efficiency:
      return s.shelf_input_w > 0.0 ? s.shelf_output_w / s.shelf_input_w * kPercent : 0.0;
    case SimField::bbu_soc: return s.bbu_soc_pct;
    case SimField::cdu_supply_temp: return s.cdu_supply_c;
    case SimField::cdu_return_temp: return s.cdu_return_c;
    case SimField::cdu_flow: return s.cdu_flow_lpm;
    case SimField::cdu_pressure: return s.cdu_pressure_kpa;
    case SimField::cdu_pump_speed: return s.cdu_pump_rpm;
    case SimField::cdu_heat_load: return s.cdu_heat_w;
    case SimField::air_inlet_temp: return s.air_inlet_c;
    case SimField::air_outlet_temp: return s.air_outlet_c;
    case SimField::air_humidity: return s.air_humidity_rh;
    case SimField::leak: return s.leak ? 1.0 : 0.0;
  }
  return 0.0;
}

}  // namespace rackwatch
