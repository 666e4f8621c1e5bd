// The simulated rack's model: determinism and the physics that tie its
// readings together.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include "sources/sim/rack_model.hpp"

namespace rackwatch {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

// An arbitrary instant well after the model's epoch (2025-06-01T12:00:00Z).
const TimePoint kT0{seconds{1'748'779'200}};

// Instants spread over two days, at an odd step so that they do not line up
// with any of the model's noise steps.
std::vector<TimePoint> sweep(milliseconds step = milliseconds{37'300}, hours span = hours{48}) {
  std::vector<TimePoint> out;
  for (auto t = kT0; t < kT0 + span; t += step) out.push_back(t);
  return out;
}

void expect_same(const RackState& a, const RackState& b) {
  EXPECT_EQ(a.load_w, b.load_w);
  for (std::size_t i = 0; i < a.phases.size(); ++i) {
    EXPECT_EQ(a.phases[i].power_w, b.phases[i].power_w);
    EXPECT_EQ(a.phases[i].voltage_v, b.phases[i].voltage_v);
    EXPECT_EQ(a.phases[i].current_a, b.phases[i].current_a);
  }
  EXPECT_EQ(a.frequency_hz, b.frequency_hz);
  EXPECT_EQ(a.energy_wh, b.energy_wh);
  ASSERT_EQ(a.psus.size(), b.psus.size());
  for (std::size_t i = 0; i < a.psus.size(); ++i) EXPECT_EQ(a.psus[i].output_w, b.psus[i].output_w);
  EXPECT_EQ(a.cdu_supply_c, b.cdu_supply_c);
  EXPECT_EQ(a.cdu_return_c, b.cdu_return_c);
  EXPECT_EQ(a.cdu_flow_lpm, b.cdu_flow_lpm);
  EXPECT_EQ(a.air_inlet_c, b.air_inlet_c);
  EXPECT_EQ(a.air_outlet_c, b.air_outlet_c);
  EXPECT_EQ(a.air_humidity_rh, b.air_humidity_rh);
  EXPECT_EQ(a.leak, b.leak);
}

TEST(RackModel, SameSeedAndTimeGiveTheSameStateInAnyOrder) {
  RackModelParams p;
  p.seed = 1234;
  const RackModel a(p);
  const RackModel b(p);
  auto times = sweep(milliseconds{611'000});
  // b is asked in reverse order: no state may carry over from one call to the next.
  std::vector<RackState> from_b;
  for (auto it = times.rbegin(); it != times.rend(); ++it) from_b.push_back(b.at(*it));
  std::reverse(from_b.begin(), from_b.end());
  for (std::size_t i = 0; i < times.size(); ++i) {
    SCOPED_TRACE(i);
    expect_same(a.at(times[i]), from_b[i]);
    expect_same(a.at(times[i]), a.at(times[i]));
  }
}

TEST(RackModel, DifferentSeedsGiveDifferentRacks) {
  RackModelParams p1;
  p1.seed = 1;
  RackModelParams p2 = p1;
  p2.seed = 2;
  const RackModel a(p1);
  const RackModel b(p2);
  const auto times = sweep(milliseconds{97'000}, hours{6});
  std::size_t load_differs = 0;
  std::size_t supply_differs = 0;
  for (auto t : times) {
    const auto sa = a.at(t);
    const auto sb = b.at(t);
    if (std::fabs(sa.load_w - sb.load_w) > 1.0) ++load_differs;
    if (sa.cdu_supply_c != sb.cdu_supply_c) ++supply_differs;
  }
  EXPECT_GT(load_differs, times.size() * 9 / 10);
  EXPECT_GT(supply_differs, times.size() * 9 / 10);
}

TEST(RackModel, NoiseIsADeterministicFunctionOfSeedChannelAndTime) {
  for (double t = -50.0; t < 50.0; t += 0.37) {
    const double n = smooth_noise(9, 3, t, 1.0);
    EXPECT_EQ(n, smooth_noise(9, 3, t, 1.0));
    EXPECT_GE(n, -1.0);
    EXPECT_LE(n, 1.0);
  }
  // At the knots the value is the hash of that second alone.
  EXPECT_NE(smooth_noise(9, 3, 10.0, 1.0), smooth_noise(10, 3, 10.0, 1.0));
  EXPECT_NE(smooth_noise(9, 3, 10.0, 1.0), smooth_noise(9, 4, 10.0, 1.0));
  EXPECT_NE(smooth_noise(9, 3, 10.0, 1.0), smooth_noise(9, 3, 11.0, 1.0));
  EXPECT_NE(splitmix64(0), splitmix64(1));
}

TEST(RackModel, LoadStaysWithinIdleAndMaxAndReachesBoth) {
  RackModelParams p;
  p.seed = 5;
  p.idle_kw = 50;
  p.base_kw = 95;
  p.swing_kw = 50;  // base ± swing crosses both limits: the clamp must act
  p.noise_kw = 5;
  p.max_kw = 130;
  p.swing_period = minutes{30};
  const RackModel m(p);
  double lo = 1e300;
  double hi = -1e300;
  for (auto t : sweep(milliseconds{13'100}, hours{4})) {
    const double l = m.load_w(t);
    EXPECT_EQ(l, m.at(t).load_w);
    ASSERT_GE(l, p.idle_kw * 1000.0);
    ASSERT_LE(l, p.max_kw * 1000.0);
    lo = std::min(lo, l);
    hi = std::max(hi, l);
  }
  EXPECT_EQ(lo, p.idle_kw * 1000.0);
  EXPECT_EQ(hi, p.max_kw * 1000.0);
}

TEST(RackModel, WithoutNoiseTheLoadSwingsAroundTheBase) {
  RackModelParams p;
  p.seed = 77;
  p.base_kw = 80;
  p.swing_kw = 20;
  p.noise_kw = 0;
  p.swing_period = minutes{10};
  const RackModel m(p);
  double sum = 0.0;
  double lo = 1e300;
  double hi = -1e300;
  const int n = 600;  // one full period, one sample a second
  for (int i = 0; i < n; ++i) {
    const double l = m.load_w(kT0 + seconds{i});
    sum += l;
    lo = std::min(lo, l);
    hi = std::max(hi, l);
  }
  EXPECT_NEAR(sum / n, 80'000.0, 1.0);
  EXPECT_NEAR(lo, 60'000.0, 10.0);
  EXPECT_NEAR(hi, 100'000.0, 10.0);
}

TEST(RackModel, PhasePowersAddUpToTheLoad) {
  const RackModel m(RackModelParams{});
  bool unbalanced = false;
  for (auto t : sweep()) {
    const auto s = m.at(t);
    double sum = 0.0;
    for (const auto& ph : s.phases) {
      sum += ph.power_w;
      // A few per cent of imbalance, not more.
      EXPECT_NEAR(ph.power_w / s.load_w, 1.0 / 3.0, 0.05);
      unbalanced = unbalanced || std::fabs(ph.power_w - s.load_w / 3.0) > 1.0;
    }
    ASSERT_NEAR(sum, s.load_w, 1e-9 * s.load_w);
  }
  EXPECT_TRUE(unbalanced);
}

TEST(RackModel, CurrentsFollowPowerVoltageAndPowerFactor) {
  for (const double nominal : {230.0, 240.0}) {
    for (const double hz : {50.0, 60.0}) {
      RackModelParams p;
      p.nominal_voltage = nominal;
      p.frequency = hz;
      const RackModel m(p);
      for (auto t : sweep(milliseconds{301'000})) {
        const auto s = m.at(t);
        for (const auto& ph : s.phases) {
          ASSERT_GE(ph.power_factor, 0.97);
          ASSERT_LE(ph.power_factor, 0.99);
          ASSERT_NEAR(ph.voltage_v, nominal, 0.03 * nominal);
          ASSERT_NEAR(ph.current_a, ph.power_w / (ph.voltage_v * ph.power_factor), 1e-9);
          ASSERT_NEAR(ph.apparent_power_va, ph.voltage_v * ph.current_a, 1e-6);
        }
        ASSERT_NEAR(s.frequency_hz, hz, 0.1);
      }
    }
  }
}

TEST(RackModel, PowerFactorImprovesWithLoad) {
  RackModelParams light;
  light.base_kw = light.idle_kw;
  light.swing_kw = 0;
  light.noise_kw = 0;
  RackModelParams heavy = light;
  heavy.base_kw = heavy.max_kw;
  const auto a = RackModel(light).at(kT0);
  const auto b = RackModel(heavy).at(kT0);
  EXPECT_NEAR(a.phases[0].power_factor, kPowerFactorLight, 1e-12);
  EXPECT_NEAR(b.phases[0].power_factor, kPowerFactorFull, 1e-12);
}

TEST(RackModel, EnergyNeverDecreasesAndCountsTheMeanLoad) {
  RackModelParams p;
  p.seed = 3;
  const RackModel m(p);
  double last = -1.0;
  for (auto t : sweep(milliseconds{7'000})) {
    const double e = m.at(t).energy_wh;
    ASSERT_GE(e, last);
    last = e;
  }
  EXPECT_GT(last, 0.0);
  // Over whole swing periods the swing integrates to nothing: base · time.
  const auto span = p.swing_period * 6;
  const double hours_in_span = std::chrono::duration<double>(span).count() / 3600.0;
  const double gained = m.at(kT0 + span).energy_wh - m.at(kT0).energy_wh;
  EXPECT_NEAR(gained, p.base_kw * 1000.0 * hours_in_span, 1e-6 * gained);
}

TEST(RackModel, LoadStepsChangeTheBaseFromTheirInstantOn) {
  RackModelParams p;
  p.seed = 9;
  p.swing_kw = 0;
  p.noise_kw = 0;
  p.max_kw = 200;
  p.steps = {{kT0 + minutes{10}, 150.0}, {kT0 + minutes{20}, 60.0}};
  const RackModel m(p);
  EXPECT_EQ(m.load_w(kT0 + minutes{10} - milliseconds{1}), 90'000.0);
  EXPECT_EQ(m.load_w(kT0 + minutes{10}), 150'000.0);
  EXPECT_EQ(m.load_w(kT0 + minutes{20} - milliseconds{1}), 150'000.0);
  EXPECT_EQ(m.load_w(kT0 + minutes{20}), 60'000.0);
  // The energy counter follows the steps: 10 min at each base.
  const double e0 = m.at(kT0).energy_wh;
  EXPECT_NEAR(m.at(kT0 + minutes{10}).energy_wh - e0, 90'000.0 / 6.0, 1e-6);
  EXPECT_NEAR(m.at(kT0 + minutes{20}).energy_wh - e0, (90'000.0 + 150'000.0) / 6.0, 1e-6);
  EXPECT_NEAR(m.at(kT0 + minutes{30}).energy_wh - e0, (90'000.0 + 150'000.0 + 60'000.0) / 6.0, 1e-6);
}

TEST(RackModel, EnergyNeverDecreasesAcrossLoadSteps) {
  RackModelParams p;
  p.seed = 21;
  p.steps = {{kT0 + hours{1}, 130.0}, {kT0 + hours{2}, 40.0}, {kT0 + hours{3}, 100.0}};
  p.swing_kw = 15;
  const RackModel m(p);
  double last = -1.0;
  for (auto t : sweep(milliseconds{3'100}, hours{4})) {
    const double e = m.at(t).energy_wh;
    ASSERT_GE(e, last);
    last = e;
  }
}

TEST(RackModel, SupplyHoldsItsSetpointUpToTheCoolingCapacityAndRisesWithTheExcess) {
  RackModelParams p;
  p.seed = 4;
  p.swing_kw = 0;
  p.noise_kw = 0;
  p.max_kw = 200;
  p.capacity_w = 100'000.0;  // 125 kW of load at 0.8 liquid
  p.steps = {{kT0 + minutes{1}, 150.0}};
  const RackModel unlimited([&] {
    auto q = p;
    q.capacity_w.reset();
    return q;
  }());
  const RackModel m(p);
  const auto below = m.at(kT0);  // 90 kW: 72 kW to the liquid, within capacity
  EXPECT_EQ(below.cdu_supply_c, unlimited.at(kT0).cdu_supply_c);
  const auto t = kT0 + minutes{2};
  const auto above = m.at(t);  // 150 kW: 120 kW to the liquid, 20 kW over
  const double kg_per_s = above.cdu_flow_lpm / 60.0 * kWaterDensity;
  EXPECT_NEAR(above.cdu_supply_c - unlimited.at(t).cdu_supply_c, 20'000.0 / (kg_per_s * kWaterCp), 1e-9);
  EXPECT_NEAR(above.cdu_return_c - above.cdu_supply_c, 120'000.0 / (kg_per_s * kWaterCp), 1e-9);
}

TEST(RackModel, ShelfSharesTheLoadAndLosesALittle) {
  for (const std::size_t n : {std::size_t{1}, std::size_t{4}, std::size_t{6}}) {
    RackModelParams p;
    p.psus = n;
    const RackModel m(p);
    for (auto t : sweep(milliseconds{911'000})) {
      const auto s = m.at(t);
      ASSERT_EQ(s.psus.size(), n);
      double in = 0.0;
      double out = 0.0;
      for (const auto& u : s.psus) {
        EXPECT_NEAR(u.input_w, s.load_w / static_cast<double>(n), 0.03 * s.load_w);
        EXPECT_GT(u.efficiency, 0.9);
        EXPECT_LT(u.efficiency, 0.97);
        EXPECT_NEAR(u.output_w, u.input_w * u.efficiency, 1e-9 * u.input_w);
        in += u.input_w;
        out += u.output_w;
      }
      ASSERT_NEAR(in, s.load_w, 1e-9 * s.load_w);
      EXPECT_NEAR(s.shelf_input_w, in, 1e-9 * in);
      EXPECT_NEAR(s.shelf_output_w, out, 1e-9 * out);
      EXPECT_LT(s.shelf_output_w, s.shelf_input_w);
      EXPECT_EQ(s.bbu_soc_pct, 100.0);
    }
  }
}

TEST(RackModel, ReturnTemperatureIsSupplyPlusLiquidHeatOverFlowTimesHeatCapacity) {
  RackModelParams p;
  p.seed = 11;
  p.liquid_fraction = 0.75;
  const RackModel m(p);
  for (auto t : sweep()) {
    const auto s = m.at(t);
    const double kg_per_s = s.cdu_flow_lpm / 60.0 * 0.9957;
    const double expected_rise = s.load_w * 0.75 / (kg_per_s * 4186.0);
    ASSERT_NEAR(s.cdu_return_c - s.cdu_supply_c, expected_rise, 1e-9);
    ASSERT_NEAR(s.cdu_supply_c, p.supply_c, 0.5);
    ASSERT_NEAR(s.cdu_flow_lpm, p.flow_lpm, 0.02 * p.flow_lpm);
    ASSERT_NEAR(s.cdu_heat_w, s.load_w * 0.75, 1e-9 * s.load_w);
  }
}

TEST(RackModel, DefaultsGiveANineKelvinRiseAtBaseLoad) {
  RackModelParams p;
  p.swing_kw = 0;
  p.noise_kw = 0;
  const auto s = RackModel(p).at(kT0);
  EXPECT_EQ(s.load_w, p.base_kw * 1000.0);
  const double rise = s.cdu_return_c - s.cdu_supply_c;
  EXPECT_GE(rise, 8.0);
  EXPECT_LE(rise, 10.0);
}

TEST(RackModel, PumpSpeedAndPressureRiseWithFlow) {
  RackModelParams slow;
  slow.flow_lpm = 90;
  RackModelParams fast = slow;
  fast.flow_lpm = 180;
  const auto a = RackModel(slow).at(kT0);
  const auto b = RackModel(fast).at(kT0);
  EXPECT_GT(b.cdu_pump_rpm, a.cdu_pump_rpm);
  EXPECT_GT(b.cdu_pressure_kpa, a.cdu_pressure_kpa);
  // Twice the flow through the same loop: four times the pressure drop.
  const double ratio = b.cdu_flow_lpm / a.cdu_flow_lpm;
  EXPECT_NEAR(b.cdu_pressure_kpa / a.cdu_pressure_kpa, ratio * ratio, 1e-9);
  EXPECT_LT(b.cdu_return_c - b.cdu_supply_c, a.cdu_return_c - a.cdu_supply_c);
}

TEST(RackModel, AirOutletIsWarmerThanInletByTheAirSideHeat) {
  RackModelParams p;
  p.seed = 21;
  const RackModel m(p);
  for (auto t : sweep()) {
    const auto s = m.at(t);
    ASSERT_GT(s.air_outlet_c, s.air_inlet_c);
    const double expected = s.load_w * (1.0 - p.liquid_fraction) / (p.airflow_m3s * 1.18 * 1006.0);
    ASSERT_NEAR(s.air_outlet_c - s.air_inlet_c, expected, 1e-9);
    ASSERT_NEAR(s.air_inlet_c, p.inlet_c, 1.0);
    ASSERT_GE(s.air_humidity_rh, 0.0);
    ASSERT_LE(s.air_humidity_rh, 100.0);
    ASSERT_NEAR(s.air_humidity_rh, p.humidity_rh, 5.0);
  }
}

TEST(RackModel, MoreLoadMeansWarmerReturnAndOutlet) {
  RackModelParams low;
  low.swing_kw = 0;
  low.noise_kw = 0;
  low.base_kw = 50;
  RackModelParams high = low;
  high.base_kw = 120;
  const auto a = RackModel(low).at(kT0);
  const auto b = RackModel(high).at(kT0);
  EXPECT_NEAR((b.cdu_return_c - b.cdu_supply_c) / (a.cdu_return_c - a.cdu_supply_c), 120.0 / 50.0,
              1e-9);
  EXPECT_GT(b.air_outlet_c, a.air_outlet_c);
}

TEST(RackModel, LeakTurnsOnAtItsInstant) {
  RackModelParams p;
  EXPECT_FALSE(RackModel(p).at(kT0).leak);
  p.leak_at = kT0 + seconds{30};
  const RackModel m(p);
  EXPECT_FALSE(m.at(kT0).leak);
  EXPECT_FALSE(m.at(kT0 + seconds{29}).leak);
  EXPECT_TRUE(m.at(kT0 + seconds{30}).leak);
  EXPECT_TRUE(m.at(kT0 + hours{1}).leak);
}

}  // namespace
}  // namespace rackwatch
