// A simulated liquid-cooled GPU rack: a seeded load profile and the PDU,
// power shelf, CDU and air readings that follow from it. Pure: the state at
// any instant is a function of the parameters and that instant only.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "core/reading.hpp"

namespace rackwatch {

// From `at` on, the load's base is `base_kw` (a job starting or ending).
struct LoadStep {
  TimePoint at{};
  double base_kw = 0.0;
};

struct RackModelParams {
  std::uint64_t seed = 1;

  // Load profile, kW: base + swing·sin(2πt/period) + noise, clamped to [idle, max].
  double idle_kw = 40.0;
  double base_kw = 90.0;
  double swing_kw = 15.0;
  double noise_kw = 2.5;
  double max_kw = 140.0;
  std::chrono::milliseconds swing_period{std::chrono::minutes{10}};
  std::vector<LoadStep> steps;  // in time order; each replaces base_kw from its instant on

  // Electrical supply.
  double nominal_voltage = 230.0;  // line to neutral, V
  double frequency = 50.0;         // Hz
  std::size_t psus = 6;            // power shelf units sharing the load

  // Liquid loop (CDU secondary side). At the base load the defaults give a
  // supply-to-return rise of about 9 K.
  double supply_c = 30.0;
  double flow_lpm = 115.0;
  double liquid_fraction = 0.8;  // share of the heat carried away by liquid
  // Heat the CDU can reject and still hold its supply setpoint, W; none:
  // unlimited. Above it the excess stays in the loop and the supply rises by
  // excess / (ṁ·cp). Steady state only: the loop has no thermal inertia here.
  std::optional<double> capacity_w;

  // Air side: what the liquid does not take, the rack fans blow into the hot aisle.
  double inlet_c = 24.0;
  double airflow_m3s = 1.25;
  double humidity_rh = 45.0;

  // From this instant on the leak sensor reads wet.
  std::optional<TimePoint> leak_at;
};

struct PhaseState {
  double power_w = 0.0;
  double voltage_v = 0.0;
  double current_a = 0.0;
  double power_factor = 0.0;  // 0..1
  double apparent_power_va = 0.0;
};

struct PsuState {
  double input_w = 0.0;
  double output_w = 0.0;
  double efficiency = 0.0;  // 0..1
};

struct RackState {
  double load_w = 0.0;  // what the rack draws; all of it ends up as heat

  std::array<PhaseState, 3> phases{};
  double frequency_hz = 0.0;
  double energy_wh = 0.0;  // cumulative since kRackModelEpoch

  std::vector<PsuState> psus;
  double shelf_input_w = 0.0;
  double shelf_output_w = 0.0;
  double bbu_soc_pct = 0.0;

  double cdu_supply_c = 0.0;
  double cdu_return_c = 0.0;
  double cdu_flow_lpm = 0.0;
  double cdu_pressure_kpa = 0.0;
  double cdu_pump_rpm = 0.0;
  double cdu_heat_w = 0.0;  // heat taken by the liquid loop

  double air_inlet_c = 0.0;
  double air_outlet_c = 0.0;
  double air_humidity_rh = 0.0;

  bool leak = false;
};

// Physical constants of the model, public so that tests can check the
// relations independently.
inline constexpr double kWaterCp = 4186.0;          // J/(kg·K)
inline constexpr double kWaterDensity = 0.9957;     // kg/L at about 30 °C
inline constexpr double kAirCp = 1006.0;            // J/(kg·K)
inline constexpr double kAirDensity = 1.18;         // kg/m³ at about 25 °C
inline constexpr double kPowerFactorLight = 0.970;  // at idle load
inline constexpr double kPowerFactorFull = 0.990;   // at max load

// Time zero of the energy counter and of the load swing: 2024-01-01T00:00:00Z.
inline constexpr TimePoint kRackModelEpoch{std::chrono::seconds{1'704'067'200}};

class RackModel {
 public:
  explicit RackModel(RackModelParams params);

  const RackModelParams& params() const { return params_; }

  RackState at(TimePoint t) const;

  // The load alone (W), without the rest of the state.
  double load_w(TimePoint t) const;

 private:
  double seconds(TimePoint t) const;
  double base_at(double s) const;  // kW
  double load_at(double s) const;

  RackModelParams params_;
  double swing_phase_ = 0.0;  // radians, from the seed: racks do not swing in step
  std::vector<double> step_s_;  // the steps' instants, in model seconds
};

// splitmix64: a fast, well-mixed 64-bit hash (Steele, Lea, Flood 2014).
std::uint64_t splitmix64(std::uint64_t x);

// Deterministic noise in [-1, 1] for (seed, channel, time): independent values
// every `step_s` seconds, smoothly interpolated in between.
double smooth_noise(std::uint64_t seed, std::uint64_t channel, double t_s, double step_s);

}  // namespace rackwatch
