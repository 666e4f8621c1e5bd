// The sim source: its config keys (with their places in the file), its
// polls on a real io_context, and the demo config that runs it.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <algorithm>
#include <boost/asio/detached.hpp>
#include <chrono>
#include <cmath>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <variant>
#include <yaml-cpp/yaml.h>

#include "core/config.hpp"
#include "sources/sim/sim_settings.hpp"
#include "sources/sim/sim_source.hpp"
#include "sources/source.hpp"
#include "sources/builtin/builtin_types.hpp"

namespace rackwatch {
namespace {

namespace asio = boost::asio;

const std::string kHead = R"(agent:
  site: hall-a
  rack: r01
  id: test
mqtt:
  brokers: [tcp://127.0.0.1:1883]
sources:
)";

std::string printed(const Diagnostics& d) {
  std::ostringstream out;
  d.print(out);
  return out.str();
}

// 1-based line and column of the first occurrence of `needle` in `text`,
// moved on by `skip` characters.
std::pair<int, int> place_of(const std::string& text, const std::string& needle,
                             std::size_t skip) {
  auto at = text.find(needle);
  if (at == std::string::npos) return {0, 0};
  at += skip;
  const auto line_start = text.rfind('\n', at);
  const auto column = line_start == std::string::npos ? at : at - line_start - 1;
  const auto line = 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n');
  return {static_cast<int>(line), static_cast<int>(column) + 1};
}

std::size_t count_diags(const Diagnostics& d, const std::string& part) {
  return static_cast<std::size_t>(std::count_if(d.items().begin(), d.items().end(), [&](const auto& i) {
    return i.message.find(part) != std::string::npos;
  }));
}

// The one diagnostic whose message contains `part`, or a test failure.
const Diagnostic* find_diag(const Diagnostics& d, const std::string& part) {
  for (const auto& item : d.items()) {
    if (item.message.find(part) != std::string::npos) return &item;
  }
  ADD_FAILURE() << "no diagnostic mentions '" << part << "' in:\n" << printed(d);
  return nullptr;
}

// The diagnostic that mentions `part` is at `needle` (plus `skip` characters).
void expect_at(const Diagnostics& d, const std::string& text, const std::string& part,
               const std::string& needle, std::size_t skip = 0) {
  const auto* diag = find_diag(d, part);
  if (!diag) return;
  const auto [line, column] = place_of(text, needle, skip);
  ASSERT_NE(line, 0) << "'" << needle << "' is not in the test's YAML";
  EXPECT_EQ(diag->mark.file, "test.yaml");
  EXPECT_EQ(diag->mark.line, line) << diag->message;
  EXPECT_EQ(diag->mark.column, column) << diag->message;
}

const SimSettings& settings_of(const SourceConfig& s) {
  const auto* settings = dynamic_cast<const SimSettings*>(s.settings.get());
  if (!settings) throw std::runtime_error("source '" + s.name + "' has no sim settings");
  return *settings;
}

// Runs `a` to completion on `io` and returns its result.
template <class T>
T run(asio::io_context& io, asio::awaitable<T> a) {
  std::optional<T> out;
  std::exception_ptr error;
  asio::co_spawn(io, std::move(a), [&](std::exception_ptr e, T v) {
    error = e;
    if (!e) out = std::move(v);
  });
  io.restart();
  io.run();
  if (error) std::rethrow_exception(error);
  return std::move(*out);
}

class SimSourceTest : public ::testing::Test {
 protected:
  Config load(const std::string& sources) {
    text_ = kHead + sources;
    Diagnostics diags;
    auto cfg = parse_config(text_, "test.yaml", builtin_source_types(), diags);
    if (!cfg) throw std::runtime_error("config does not parse:\n" + printed(diags));
    return std::move(*cfg);
  }

  std::shared_ptr<Source> make(const SourceConfig& s) {
    return std::shared_ptr<Source>(sim_source_type().create(s, env_));
  }

  std::vector<RawReading> poll(Source& s) { return run(io_, s.poll()); }

  std::string text_;
  asio::io_context io_;
  asio::thread_pool pool_{1};
  SourceEnv env_{io_.get_executor(), pool_.get_executor()};
};

using SimConfigTest = SimSourceTest;

TEST_F(SimConfigTest, PointsTakeQuantityAndUnitFromTheirSignal) {
  const auto cfg = load(R"(
  - name: rack
    type: sim
    interval: 1s
    points:
      - {name: a, signal: pdu.l2.current}
      - {name: b, signal: cdu.pump_speed}
      - {name: c, signal: leak}
      - {name: d, signal: pdu.energy}
      - {name: e, signal: shelf.bbu.soc}
      - {name: f, signal: air.humidity, unit: "%RH"}
      - {name: g, signal: cdu.return_temp, quantity: temperature, unit: C}
)");
  ASSERT_EQ(cfg.sources.size(), 1u);
  const auto& pts = cfg.sources[0].points;
  ASSERT_EQ(pts.size(), 7u);
  const std::vector<std::pair<std::string, Unit>> want{
      {"current", Unit::ampere},         {"fan_speed", Unit::rpm},
      {"leak", Unit::boolean},           {"energy", Unit::watt_hour},
      {"state_of_charge", Unit::percent}, {"humidity", Unit::percent_rh},
      {"temperature", Unit::degree_celsius}};
  for (std::size_t i = 0; i < pts.size(); ++i) {
    SCOPED_TRACE(pts[i].name);
    EXPECT_EQ(pts[i].quantity, want[i].first);
    EXPECT_EQ(pts[i].unit, want[i].second);
    // Sim values are canonical already: the device unit is the identity.
    EXPECT_EQ(pts[i].from.canonical, want[i].second);
    EXPECT_EQ(pts[i].from.factor, 1.0);
    EXPECT_EQ(pts[i].from.offset, 0.0);
  }
  const auto& st = settings_of(cfg.sources[0]);
  ASSERT_EQ(st.signals.size(), 7u);
  EXPECT_EQ(st.signals[0].name, "pdu.l2.current");
  EXPECT_EQ(st.signals[0].field, SimField::phase_current);
  EXPECT_EQ(st.signals[0].index, 1u);
}

TEST_F(SimConfigTest, SourceKeysAreRead) {
  const auto cfg = load(R"(
  - name: rack
    type: sim
    interval: 1s
    seed: 99
    load: {base_kw: 100, swing_kw: 10, period: 90s, noise_kw: 1, idle_kw: 45, max_kw: 120}
    cooling: {supply_c: 32, flow_lpm: 140, liquid_fraction: 0.7}
    air: {inlet_c: 22, airflow_m3s: 2, humidity_rh: 40}
    psus: 4
    nominal_voltage: 240
    frequency: 60
    delay: 250ms
    leak_after: 3m
    fail: [cdu.flow, pdu.l3.power]
    points:
      - {name: p3, signal: pdu.l3.power}
      - {name: psu4, signal: shelf.psu4.output_power}
      - {name: flow, signal: cdu.flow}
)");
  const auto& st = settings_of(cfg.sources[0]);
  EXPECT_EQ(st.model.seed, 99u);
  EXPECT_EQ(st.model.base_kw, 100.0);
  EXPECT_EQ(st.model.swing_kw, 10.0);
  EXPECT_EQ(st.model.swing_period, Millis{90'000});
  EXPECT_EQ(st.model.noise_kw, 1.0);
  EXPECT_EQ(st.model.idle_kw, 45.0);
  EXPECT_EQ(st.model.max_kw, 120.0);
  EXPECT_EQ(st.model.supply_c, 32.0);
  EXPECT_EQ(st.model.flow_lpm, 140.0);
  EXPECT_EQ(st.model.liquid_fraction, 0.7);
  EXPECT_EQ(st.model.inlet_c, 22.0);
  EXPECT_EQ(st.model.airflow_m3s, 2.0);
  EXPECT_EQ(st.model.humidity_rh, 40.0);
  EXPECT_EQ(st.model.psus, 4u);
  EXPECT_EQ(st.model.nominal_voltage, 240.0);
  EXPECT_EQ(st.model.frequency, 60.0);
  EXPECT_EQ(st.delay, Millis{250});
  ASSERT_TRUE(st.leak_after.has_value());
  EXPECT_EQ(*st.leak_after, Millis{180'000});
  EXPECT_EQ(st.failing, (std::vector<bool>{true, false, true}));
}

TEST_F(SimConfigTest, UnknownSignalIsReportedAtItsPlaceWithTheKnownOnes) {
  const std::string text = kHead + R"(
  - name: rack
    type: sim
    interval: 1s
    points:
      - {name: ok, signal: pdu.l1.power}
      - name: bad
        signal: pdu.l4.power
      - {name: psu, signal: shelf.psu7.output_power}
)";
  Diagnostics diags;
  EXPECT_FALSE(parse_config(text, "test.yaml", builtin_source_types(), diags));
  expect_at(diags, text, "'pdu.l4.power'", "pdu.l4.power");
  expect_at(diags, text, "'shelf.psu7.output_power'", "shelf.psu7.output_power");
  const auto* d = find_diag(diags, "'pdu.l4.power'");
  ASSERT_NE(d, nullptr);
  EXPECT_NE(d->message.find("pdu.l{1..3}.power"), std::string::npos) << d->message;
  EXPECT_NE(d->message.find("shelf.psu{1..6}.output_power"), std::string::npos) << d->message;
  EXPECT_NE(d->message.find("cdu.return_temp"), std::string::npos) << d->message;
  EXPECT_EQ(count_diags(diags, "unknown sim signal"), 2u) << printed(diags);
}

TEST_F(SimConfigTest, PsuNumbersFollowThePsuCount) {
  const std::string text = kHead + R"(
  - name: rack
    type: sim
    interval: 1s
    psus: 8
    points:
      - {name: psu8, signal: shelf.psu8.input_power}
      - {name: psu9, signal: shelf.psu9.input_power}
      - {name: psu0, signal: shelf.psu0.input_power}
      - {name: psu01, signal: shelf.psu01.input_power}
)";
  Diagnostics diags;
  EXPECT_FALSE(parse_config(text, "test.yaml", builtin_source_types(), diags));
  EXPECT_EQ(count_diags(diags, "unknown sim signal"), 3u) << printed(diags);
  expect_at(diags, text, "'shelf.psu9.input_power'", "shelf.psu9.input_power");
  expect_at(diags, text, "'shelf.psu0.input_power'", "shelf.psu0.input_power");
  expect_at(diags, text, "'shelf.psu01.input_power'", "shelf.psu01.input_power");
}

TEST_F(SimConfigTest, MissingSignalIsReported) {
  const std::string text = kHead + R"(
  - name: rack
    type: sim
    interval: 1s
    points:
      - {name: nosignal, quantity: power}
)";
  Diagnostics diags;
  EXPECT_FALSE(parse_config(text, "test.yaml", builtin_source_types(), diags));
  expect_at(diags, text, "missing required key 'signal'", "{name: nosignal");
}

TEST_F(SimConfigTest, UnitOrQuantityThatDoesNotFitTheSignalIsReported) {
  const std::string text = kHead + R"(
  - name: rack
    type: sim
    interval: 1s
    points:
      - name: wrong_unit
        signal: pdu.l1.power
        unit: A
      - name: wrong_quantity
        signal: cdu.supply_temp
        quantity: pressure
      - name: wrong_from_unit
        signal: pdu.total.power
        from_unit: degF
)";
  Diagnostics diags;
  EXPECT_FALSE(parse_config(text, "test.yaml", builtin_source_types(), diags));
  EXPECT_EQ(diags.size(), 3u) << printed(diags);
  expect_at(diags, text, "signal 'pdu.l1.power' is power in W, not A", "A\n");
  expect_at(diags, text, "signal 'cdu.supply_temp' is temperature in °C, not kPa", "pressure\n");
  expect_at(diags, text, "signal 'pdu.total.power' is power in W, not °C", "degF\n");
}

// A conversion of the same dimension is the config's own business (as scale is).
TEST_F(SimConfigTest, FromUnitOfTheSameDimensionIsKept) {
  const auto cfg = load(R"(
  - name: rack
    type: sim
    interval: 1s
    points:
      - {name: kw, signal: pdu.total.power, unit: W, from_unit: kW}
)");
  const auto& p = cfg.sources[0].points[0];
  EXPECT_EQ(p.quantity, "power");
  EXPECT_EQ(p.unit, Unit::watt);
  EXPECT_EQ(p.from.factor, 1000.0);
}

TEST_F(SimConfigTest, BadSettingsAreEachReportedAtTheirPlace) {
  const std::string text = kHead + R"(
  - name: rack
    type: sim
    interval: 1s
    seed: -3
    load:
      base_kw: 200
      bogus: 1
    cooling: {liquid_fraction: 1.5}
    psus: 0
    delay: soon
    fail: [cdu.flow, no.such.signal]
    points:
      - {name: p, signal: pdu.total.power}
)";
  Diagnostics diags;
  EXPECT_FALSE(parse_config(text, "test.yaml", builtin_source_types(), diags));
  expect_at(diags, text, "'seed' must not be negative", "-3");
  expect_at(diags, text, "'base_kw' (200) must lie between", "200");
  expect_at(diags, text, "unknown key 'bogus'", "bogus");
  expect_at(diags, text, "'liquid_fraction' must be between", "1.5");
  expect_at(diags, text, "'psus' must be", "psus: 0", 6);
  expect_at(diags, text, "'delay'", "soon");
  expect_at(diags, text, "'no.such.signal'", "no.such.signal");
  EXPECT_EQ(diags.size(), 7u) << printed(diags);
}

TEST_F(SimConfigTest, LoadStepsAndCoolingCapacityAreRead) {
  const auto cfg = load(R"(
  - name: rack
    type: sim
    interval: 1s
    load:
      max_kw: 160
      steps:
        - {after: 10s, base_kw: 150}
        - {after: 1m, base_kw: 90}
    cooling: {capacity_kw: 100}
    points:
      - {name: p, signal: pdu.total.power}
)");
  const auto& st = settings_of(cfg.sources[0]);
  ASSERT_EQ(st.load_steps.size(), 2u);
  EXPECT_EQ(st.load_steps[0], std::pair(Millis{10'000}, 150.0));
  EXPECT_EQ(st.load_steps[1], std::pair(Millis{60'000}, 90.0));
  ASSERT_TRUE(st.model.capacity_w.has_value());
  EXPECT_EQ(*st.model.capacity_w, 100'000.0);
}

TEST_F(SimConfigTest, BadLoadStepsAreReportedAtTheirPlace) {
  const std::string text = kHead + R"(
  - name: rack
    type: sim
    interval: 1s
    load:
      steps:
        - {after: 20s, base_kw: 100}
        - {after: 10s, base_kw: 100}
        - {after: 30s, base_kw: 500}
        - {after: 40s}
        - {after: 50s, base_kw: 100, when: now}
    points:
      - {name: p, signal: pdu.total.power}
)";
  Diagnostics diags;
  EXPECT_FALSE(parse_config(text, "test.yaml", builtin_source_types(), diags));
  expect_at(diags, text, "load steps must be in time order", "10s");
  expect_at(diags, text, "'base_kw' (500) must lie between", "500");
  expect_at(diags, text, "unknown key 'when'", "when");
  EXPECT_EQ(diags.size(), 4u) << printed(diags);
}

TEST_F(SimConfigTest, LoadLimitsMustBeConsistent) {
  const std::string text = kHead + R"(
  - name: rack
    type: sim
    interval: 1s
    load: {base_kw: 30, idle_kw: 40, swing_kw: 35}
    points:
      - {name: p, signal: pdu.total.power}
)";
  Diagnostics diags;
  EXPECT_FALSE(parse_config(text, "test.yaml", builtin_source_types(), diags));
  expect_at(diags, text, "'base_kw' (30) must lie between", "30");
  expect_at(diags, text, "'swing_kw' (35) must not be above", "35");
}

TEST_F(SimSourceTest, TheTypeIsNamedSim) { EXPECT_EQ(sim_source_type().name(), "sim"); }

TEST_F(SimSourceTest, PollReturnsTheModelsValuesOnePerPointInConfigOrder) {
  const auto cfg = load(R"(
  - name: rack
    type: sim
    interval: 1s
    seed: 42
    points:
      - {name: a, signal: cdu.return_temp}
      - {name: b, signal: pdu.l1.voltage}
      - {name: c, signal: pdu.total.power}
      - {name: d, signal: shelf.psu2.output_power}
      - {name: e, signal: pdu.l3.current}
      - {name: f, signal: air.outlet_temp}
      - {name: g, signal: pdu.energy}
      - {name: h, signal: leak}
)");
  const auto& sc = cfg.sources[0];
  auto source = make(sc);
  const auto before = Clock::now();
  const auto readings = poll(*source);
  const auto after = Clock::now();
  ASSERT_EQ(readings.size(), sc.points.size());

  // The model is pure: the same instant gives the same values here.
  const auto& st = settings_of(sc);
  const RackModel model(st.model);
  const auto state = model.at(readings[0].time);
  const std::vector<double> want{state.cdu_return_c,      state.phases[0].voltage_v,
                                 state.load_w,            state.psus[1].output_w,
                                 state.phases[2].current_a, state.air_outlet_c,
                                 state.energy_wh,         0.0};
  for (std::size_t i = 0; i < readings.size(); ++i) {
    SCOPED_TRACE(sc.points[i].name);
    ASSERT_TRUE(readings[i].ok()) << readings[i].error;
    EXPECT_EQ(readings[i].time, readings[0].time);
    EXPECT_GE(readings[i].time, before);
    EXPECT_LE(readings[i].time, after);
    EXPECT_NEAR(readings[i].value, want[i], 1e-9 * std::max(1.0, std::fabs(want[i])));
  }
}

TEST_F(SimSourceTest, FailListedSignalsReadAsFailuresAndTheRestStillRead) {
  const auto cfg = load(R"(
  - name: rack
    type: sim
    interval: 1s
    fail: [cdu.flow, air.humidity]
    points:
      - {name: supply, signal: cdu.supply_temp}
      - {name: flow, signal: cdu.flow}
      - {name: humidity, signal: air.humidity}
      - {name: inlet, signal: air.inlet_temp}
)");
  auto source = make(cfg.sources[0]);
  const auto readings = poll(*source);
  ASSERT_EQ(readings.size(), 4u);
  EXPECT_TRUE(readings[0].ok());
  EXPECT_EQ(readings[1].error, "simulated failure");
  EXPECT_EQ(readings[2].error, "simulated failure");
  EXPECT_TRUE(readings[3].ok());
  EXPECT_NEAR(readings[0].value, 30.0, 1.0);
  EXPECT_NEAR(readings[3].value, 24.0, 1.0);
}

TEST_F(SimSourceTest, DelayMakesThePollTakeAtLeastThatLong) {
  const auto cfg = load(R"(
  - name: rack
    type: sim
    interval: 1s
    delay: 200ms
    points:
      - {name: p, signal: pdu.total.power}
)");
  auto source = make(cfg.sources[0]);
  const auto start = std::chrono::steady_clock::now();
  const auto readings = poll(*source);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, std::chrono::milliseconds{200});
  ASSERT_EQ(readings.size(), 1u);
  EXPECT_TRUE(readings[0].ok());
}

TEST_F(SimSourceTest, ASlowSourceDoesNotHoldUpAnother) {
  const auto cfg = load(R"(
  - name: slow
    type: sim
    interval: 1s
    delay: 300ms
    points:
      - {name: p, signal: pdu.total.power}
  - name: fast
    type: sim
    interval: 1s
    points:
      - {name: p, signal: cdu.flow}
)");
  auto slow = make(cfg.sources[0]);
  auto fast = make(cfg.sources[1]);
  std::vector<std::string> finished;
  auto watch = [&](std::shared_ptr<Source> s) -> asio::awaitable<void> {
    auto r = co_await s->poll();
    if (r.size() == 1 && r[0].ok()) finished.push_back(s->config().name);
  };
  // The slow one starts first; the fast one must still finish first.
  asio::co_spawn(io_, watch(slow), asio::detached);
  asio::co_spawn(io_, watch(fast), asio::detached);
  io_.run();
  EXPECT_EQ(finished, (std::vector<std::string>{"fast", "slow"}));
}

TEST_F(SimSourceTest, ADelayedPollGivesWayToATimeout) {
  using namespace asio::experimental::awaitable_operators;
  const auto cfg = load(R"(
  - name: stuck
    type: sim
    interval: 1s
    delay: 1h
    points:
      - {name: p, signal: pdu.total.power}
)");
  auto source = make(cfg.sources[0]);
  // Were the delay not cancellable this would hang (and the suite time out).
  auto race = [&]() -> asio::awaitable<std::size_t> {
    asio::steady_timer deadline(io_, std::chrono::milliseconds{50});
    auto result = co_await (source->poll() || deadline.async_wait(asio::use_awaitable));
    co_return result.index();
  };
  EXPECT_EQ(run(io_, race()), 1u);
}

TEST_F(SimSourceTest, LeakAfterTurnsTheLeakSensorWet) {
  const auto cfg = load(R"(
  - name: dry
    type: sim
    interval: 1s
    points:
      - {name: leak, signal: leak}
  - name: later
    type: sim
    interval: 1s
    leak_after: 1h
    points:
      - {name: leak, signal: leak}
  - name: wet
    type: sim
    interval: 1s
    leak_after: 0s
    points:
      - {name: leak, signal: leak}
)");
  std::vector<double> values;
  for (const auto& sc : cfg.sources) {
    auto s = make(sc);
    const auto r = poll(*s);
    ASSERT_EQ(r.size(), 1u);
    ASSERT_TRUE(r[0].ok());
    values.push_back(r[0].value);
  }
  EXPECT_EQ(values, (std::vector<double>{0.0, 0.0, 1.0}));
}

TEST_F(SimSourceTest, CreateRefusesAConfigItDidNotParse) {
  SourceConfig bare;
  bare.name = "x";
  bare.type = "sim";
  EXPECT_THROW(sim_source_type().create(bare, env_), std::invalid_argument);
}

class SimDemoConfig : public ::testing::Test {
 protected:
  void SetUp() override {
    Diagnostics diags;
    cfg_ = load_config(RACKWATCH_SOURCE_DIR "/config/demo.yaml", builtin_source_types(), diags);
    ASSERT_TRUE(cfg_.has_value()) << printed(diags);
    ASSERT_TRUE(diags.empty()) << printed(diags);
  }

  std::optional<Config> cfg_;
};

TEST_F(SimDemoConfig, Validates) {
  EXPECT_EQ(cfg_->agent.site, "hall-a");
  EXPECT_EQ(cfg_->agent.rack, "r01");
  ASSERT_FALSE(cfg_->mqtt.brokers.empty());
  EXPECT_EQ(cfg_->mqtt.brokers[0], "tcp://127.0.0.1:1883");
  ASSERT_GE(cfg_->sources.size(), 2u);
  std::set<Millis> intervals;
  for (const auto& s : cfg_->sources) {
    SCOPED_TRACE(s.name);
    EXPECT_EQ(s.type, "sim");
    intervals.insert(s.interval);
    for (const auto& p : s.points) {
      EXPECT_FALSE(p.location.empty()) << p.name;
      EXPECT_NE(p.unit, Unit::unspecified) << p.name;
    }
  }
  EXPECT_GE(intervals.size(), 2u);
}

// Every value the demo rack can produce lies within its point's range, so the
// demo shows good quality all day.
TEST_F(SimDemoConfig, ValuesStayWithinTheirRangesForTwoDays) {
  const TimePoint t0{std::chrono::seconds{1'748'779'200}};
  for (const auto& s : cfg_->sources) {
    const auto& st = settings_of(s);
    const RackModel model(st.model);
    for (auto t = t0; t < t0 + std::chrono::hours{48}; t += std::chrono::seconds{53}) {
      const auto state = model.at(t);
      for (std::size_t i = 0; i < s.points.size(); ++i) {
        const auto& p = s.points[i];
        const double v = sim_signal_value(state, st.signals[i]);
        if (p.min) {
          ASSERT_GE(v, *p.min) << s.name << "." << p.name;
        }
        if (p.max) {
          ASSERT_LE(v, *p.max) << s.name << "." << p.name;
        }
      }
    }
  }
}

// The demo's sources describe one rack: same seed, same load.
TEST_F(SimDemoConfig, SourcesShareOneLoadProfile) {
  const TimePoint t0{std::chrono::seconds{1'748'779'200}};
  const RackModel first(settings_of(cfg_->sources[0]).model);
  for (const auto& s : cfg_->sources) {
    const RackModel model(settings_of(s).model);
    for (int i = 0; i < 100; ++i) {
      const auto t = t0 + std::chrono::seconds{i * 17};
      ASSERT_EQ(model.load_w(t), first.load_w(t)) << s.name;
    }
  }
}

TEST_F(SimDemoConfig, EverySourcePollsWithGoodReadings) {
  asio::io_context io;
  asio::thread_pool pool{1};
  const SourceEnv env{io.get_executor(), pool.get_executor()};
  for (const auto& s : cfg_->sources) {
    auto source = sim_source_type().create(s, env);
    const auto readings = run(io, source->poll());
    ASSERT_EQ(readings.size(), s.points.size()) << s.name;
    for (const auto& r : readings) EXPECT_TRUE(r.ok()) << s.name << ": " << r.error;
  }
}

TEST(SimSignals, EveryNamedSignalIsFoundAndReadable) {
  const RackState state = RackModel(RackModelParams{}).at(Clock::now());
  const auto names = sim_signal_names(6);
  EXPECT_GT(names.size(), 40u);
  std::set<std::string> unique(names.begin(), names.end());
  EXPECT_EQ(unique.size(), names.size());
  for (const auto& n : names) {
    const auto sig = find_sim_signal(n, 6);
    ASSERT_TRUE(sig.has_value()) << n;
    EXPECT_EQ(sig->name, n);
    EXPECT_NE(sig->quantity.unit, Unit::unspecified) << n;
    EXPECT_TRUE(std::isfinite(sim_signal_value(state, *sig))) << n;
  }
  EXPECT_FALSE(find_sim_signal("pdu.l1", 6));
  EXPECT_FALSE(find_sim_signal("pdu.l1.power.x", 6));
  EXPECT_FALSE(find_sim_signal("shelf.psu7.input_power", 6));
  EXPECT_FALSE(find_sim_signal("shelf.psu-1.input_power", 6));
  EXPECT_FALSE(find_sim_signal("", 6));
}

}  // namespace
}  // namespace rackwatch
