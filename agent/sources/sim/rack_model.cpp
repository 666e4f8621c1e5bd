#include "sources/sim/rack_model.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace rackwatch {
namespace {

constexpr double kTwoPi = 2.0 * std::numbers::pi;
constexpr double kWattsPerKw = 1000.0;
constexpr double kSecondsPerHour = 3600.0;
constexpr double kSecondsPerMinute = 60.0;

// Noise channels: each quantity gets its own stream of the same seed.
enum Channel : std::uint64_t {
  kChanSwingPhase = 1,
  kChanLoadFast,
  kChanLoadSlow,
  kChanFrequency,
  kChanSupply,
  kChanFlow,
  kChanInlet,
  kChanHumiditySlow,
  kChanHumidityFast,
  kChanPhaseImbalance = 0x100,  // + phase index
  kChanVoltage = 0x200,         // + phase index
  kChanPsuShare = 0x1000,       // + PSU index
};

// Load noise: mostly second-to-second jitter, partly a 30 s wander.
constexpr double kLoadNoiseFastStep = 1.0;
constexpr double kLoadNoiseSlowStep = 30.0;
constexpr double kLoadNoiseFastShare = 0.6;

// PDU: phases drift out of balance by a few per cent over minutes; the grid
// voltage moves slowly by ~1 % and jitters by ~0.4 %; frequency by ±30 mHz.
constexpr double kPhaseImbalance = 0.03;
constexpr double kPhaseImbalanceStep = 300.0;
constexpr double kVoltageNoise = 0.004;
constexpr double kVoltageNoiseStep = 2.0;
constexpr double kVoltageDrift = 0.01;
constexpr double kVoltageDriftStep = 900.0;
constexpr double kFrequencyDeviation = 0.03;
constexpr double kFrequencyStep = 5.0;

// Power shelf: current sharing within ±1.5 %, a Titanium-class efficiency
// curve peaking at half of a unit's rating.
constexpr double kPsuShareError = 0.015;
constexpr double kPsuShareStep = 120.0;
constexpr double kPsuEfficiencyPeak = 0.965;
constexpr double kPsuEfficiencyPeakLoad = 0.5;
constexpr double kPsuEfficiencyCurve = 0.04;
constexpr double kBbuStateOfCharge = 100.0;  // float charge: a healthy, idle BBU

// CDU: supply held to its setpoint within ±0.2 K, flow within ±0.6 %. The
// pump follows the affinity laws around a reference point.
constexpr double kSupplyNoise = 0.2;
constexpr double kSupplyNoiseStep = 20.0;
constexpr double kFlowNoise = 0.006;
constexpr double kFlowNoiseStep = 3.0;
constexpr double kPumpRefFlowLpm = 150.0;
constexpr double kPumpRefRpm = 3600.0;
constexpr double kPumpRefPressureKpa = 150.0;

// Air: the cold aisle wanders by ±0.4 K, humidity by ±3 %RH slowly.
constexpr double kInletNoise = 0.4;
constexpr double kInletNoiseStep = 60.0;
constexpr double kHumiditySlow = 3.0;
constexpr double kHumiditySlowStep = 900.0;
constexpr double kHumidityFast = 0.3;
constexpr double kHumidityFastStep = 10.0;

// A uniform double in [0, 1) from the top 53 bits of a hash.
double unit_interval(std::uint64_t h) { return static_cast<double>(h >> 11) * 0x1.0p-53; }

// Shares that vary around 1/n and always add up to exactly one.
std::vector<double> shares(std::uint64_t seed, std::uint64_t channel, std::size_t n, double spread,
                           double t_s, double step_s) {
  std::vector<double> w(n);
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    w[i] = 1.0 + spread * smooth_noise(seed, channel + i, t_s, step_s);
    sum += w[i];
  }
  for (auto& x : w) x /= sum;
  return w;
}

}  // namespace

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

double smooth_noise(std::uint64_t seed, std::uint64_t channel, double t_s, double step_s) {
  const double q = t_s / step_s;
  const double k = std::floor(q);
  const double f = q - k;
  auto at = [&](double knot) {
    const auto tick = static_cast<std::uint64_t>(static_cast<std::int64_t>(knot));
    const auto h = splitmix64(seed ^ splitmix64(channel ^ splitmix64(tick)));
    return 2.0 * unit_interval(h) - 1.0;
  };
  const double a = at(k);
  const double b = at(k + 1.0);
  const double smooth = f * f * (3.0 - 2.0 * f);  // no kinks at the knots
  return a + (b - a) * smooth;
}

RackModel::RackModel(RackModelParams params)
    : params_(std::move(params)),
      swing_phase_(kTwoPi * unit_interval(splitmix64(params_.seed ^ kChanSwingPhase))) {
  for (const auto& step : params_.steps) step_s_.push_back(seconds(step.at));
}

double RackModel::seconds(TimePoint t) const {
  return std::chrono::duration<double>(t - kRackModelEpoch).count();
}

double RackModel::base_at(double s) const {
  double base = params_.base_kw;
  for (std::size_t i = 0; i < step_s_.size() && step_s_[i] <= s; ++i) base = params_.steps[i].base_kw;
  return base;
}

double RackModel::load_at(double s) const {
  const auto& p = params_;
  const double period = std::chrono::duration<double>(p.swing_period).count();
  const double swing = p.swing_kw * std::sin(kTwoPi * s / period + swing_phase_);
  const double noise =
      p.noise_kw * (kLoadNoiseFastShare * smooth_noise(p.seed, kChanLoadFast, s, kLoadNoiseFastStep) +
                    (1.0 - kLoadNoiseFastShare) *
                        smooth_noise(p.seed, kChanLoadSlow, s, kLoadNoiseSlowStep));
  return std::clamp(base_at(s) + swing + noise, p.idle_kw, p.max_kw) * kWattsPerKw;
}

double RackModel::load_w(TimePoint t) const { return load_at(seconds(t)); }

RackState RackModel::at(TimePoint t) const {
  const auto& p = params_;
  const double s = seconds(t);
  RackState st;
  st.load_w = load_at(s);
  const double max_w = p.max_kw * kWattsPerKw;
  const double idle_w = p.idle_kw * kWattsPerKw;
  const double utilisation =
      max_w > idle_w ? std::clamp((st.load_w - idle_w) / (max_w - idle_w), 0.0, 1.0) : 1.0;

  // PDU. PSUs correct their power factor better the harder they work.
  const double pf = kPowerFactorLight + (kPowerFactorFull - kPowerFactorLight) * utilisation;
  const auto phase_share = shares(p.seed, kChanPhaseImbalance, st.phases.size(), kPhaseImbalance, s,
                                  kPhaseImbalanceStep);
  const double drift = kVoltageDrift * smooth_noise(p.seed, kChanVoltage, s, kVoltageDriftStep);
  for (std::size_t i = 0; i < st.phases.size(); ++i) {
    auto& ph = st.phases[i];
    ph.power_w = st.load_w * phase_share[i];
    ph.voltage_v =
        p.nominal_voltage *
        (1.0 + drift + kVoltageNoise * smooth_noise(p.seed, kChanVoltage + 1 + i, s, kVoltageNoiseStep));
    ph.power_factor = pf;
    ph.current_a = ph.power_w / (ph.voltage_v * pf);
    ph.apparent_power_va = ph.voltage_v * ph.current_a;
  }
  st.frequency_hz =
      p.frequency + kFrequencyDeviation * smooth_noise(p.seed, kChanFrequency, s, kFrequencyStep);

  // Energy follows the mean load (base + swing), integrated in closed form so
  // that it is exact at any t and never decreases; the noise averages out.
  if (s > 0.0) {
    const double omega = kTwoPi / std::chrono::duration<double>(p.swing_period).count();
    const double swing_w = p.swing_kw * kWattsPerKw;
    double joules = p.base_kw * kWattsPerKw * s +
                    swing_w * (std::cos(swing_phase_) - std::cos(omega * s + swing_phase_)) / omega;
    // Each step changes the base from its instant on: add the difference since.
    double base_kw = p.base_kw;
    for (std::size_t i = 0; i < step_s_.size() && step_s_[i] < s; ++i) {
      const double from = std::max(step_s_[i], 0.0);
      joules += (p.steps[i].base_kw - base_kw) * kWattsPerKw * (s - from);
      base_kw = p.steps[i].base_kw;
    }
    st.energy_wh = joules / kSecondsPerHour;
  }

  // Power shelf: each unit's rating is its share of the rack's maximum.
  const double psu_rating_w = max_w / static_cast<double>(p.psus);
  const auto psu_share = shares(p.seed, kChanPsuShare, p.psus, kPsuShareError, s, kPsuShareStep);
  st.psus.resize(p.psus);
  for (std::size_t i = 0; i < p.psus; ++i) {
    auto& u = st.psus[i];
    u.input_w = st.load_w * psu_share[i];
    const double off_peak = u.input_w / psu_rating_w - kPsuEfficiencyPeakLoad;
    u.efficiency = kPsuEfficiencyPeak - kPsuEfficiencyCurve * off_peak * off_peak;
    u.output_w = u.input_w * u.efficiency;
    st.shelf_input_w += u.input_w;
    st.shelf_output_w += u.output_w;
  }
  st.bbu_soc_pct = kBbuStateOfCharge;

  // CDU: the liquid carries its share of the heat; ΔT = Q / (ṁ·cp).
  st.cdu_supply_c =
      p.supply_c + kSupplyNoise * smooth_noise(p.seed, kChanSupply, s, kSupplyNoiseStep);
  st.cdu_flow_lpm =
      p.flow_lpm * (1.0 + kFlowNoise * smooth_noise(p.seed, kChanFlow, s, kFlowNoiseStep));
  const double mass_flow = st.cdu_flow_lpm / kSecondsPerMinute * kWaterDensity;  // kg/s
  st.cdu_heat_w = st.load_w * p.liquid_fraction;
  if (p.capacity_w && st.cdu_heat_w > *p.capacity_w) {
    st.cdu_supply_c += (st.cdu_heat_w - *p.capacity_w) / (mass_flow * kWaterCp);
  }
  st.cdu_return_c = st.cdu_supply_c + st.cdu_heat_w / (mass_flow * kWaterCp);
  const double flow_ratio = st.cdu_flow_lpm / kPumpRefFlowLpm;
  st.cdu_pump_rpm = kPumpRefRpm * flow_ratio;
  st.cdu_pressure_kpa = kPumpRefPressureKpa * flow_ratio * flow_ratio;

  // Air: the rest of the heat, ΔT = Q / (V̇·ρ·cp).
  st.air_inlet_c = p.inlet_c + kInletNoise * smooth_noise(p.seed, kChanInlet, s, kInletNoiseStep);
  const double air_heat_w = st.load_w * (1.0 - p.liquid_fraction);
  st.air_outlet_c = st.air_inlet_c + air_heat_w / (p.airflow_m3s * kAirDensity * kAirCp);
  st.air_humidity_rh = std::clamp(
      p.humidity_rh + kHumiditySlow * smooth_noise(p.seed, kChanHumiditySlow, s, kHumiditySlowStep) +
          kHumidityFast * smooth_noise(p.seed, kChanHumidityFast, s, kHumidityFastStep),
      0.0, 100.0);

  st.leak = p.leak_at && t >= *p.leak_at;
  return st;
}

}  // namespace rackwatch
