#include "sources/sim/sim_source.hpp"

#include <initializer_list>
#include <set>
#include <sstream>
#include <stdexcept>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/config_reader.hpp"
#include "sources/sim/sim_settings.hpp"
#include "sources/source.hpp"

namespace rackwatch {
namespace {

namespace asio = boost::asio;

constexpr std::string_view kFailReason = "simulated failure";
constexpr long long kMaxPsus = 32;  // more than any shelf has; keeps names short
constexpr Millis kMaxDelay{3'600'000};

std::string number_text(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

// An optional sub-mapping of the source (load, cooling, air); undefined when
// absent or not a mapping (then reported).
YAML::Node section(const YAML::Node& source, std::string_view key,
                   std::initializer_list<std::string_view> keys, ConfigReader& r) {
  auto node = r.child(source, key);
  if (!node.IsDefined() || node.IsNull()) return YAML::Node(YAML::NodeType::Undefined);
  if (!node.IsMap()) {
    std::string list;
    for (auto k : keys) list += (list.empty() ? "" : ", ") + std::string(k);
    r.error(node, "'" + std::string(key) + "' must be a mapping with " + list);
    return YAML::Node(YAML::NodeType::Undefined);
  }
  r.check_keys(node, keys, "sim '" + std::string(key) + "'");
  return node;
}

// Reads an optional number into `dst` when it lies within [lo, hi].
void ranged(const YAML::Node& map, std::string_view key, double lo, double hi, ConfigReader& r,
            double& dst) {
  const auto v = r.number(map, key);
  if (!v) return;
  if (!(*v >= lo && *v <= hi)) {
    r.error(r.child(map, key), "'" + std::string(key) + "' must be between " + number_text(lo) +
                                   " and " + number_text(hi) + ", found " + number_text(*v));
    return;
  }
  dst = *v;
}

// `steps: [{after: 10s, base_kw: 150}, ...]`: the base load from that long
// after the source starts, within the load's bounds (already read).
void parse_steps(const YAML::Node& load, ConfigReader& r, SimSettings& s) {
  const auto& m = s.model;
  const auto steps = r.child(load, "steps");
  if (!steps.IsDefined() || steps.IsNull()) return;
  if (!steps.IsSequence()) {
    r.error(steps, "'steps' must be a list of {after: DURATION, base_kw: NUMBER}");
    return;
  }
  constexpr std::size_t kMaxSteps = 1000;
  if (steps.size() > kMaxSteps) {
    r.error(steps, "'steps' has " + std::to_string(steps.size()) + " entries, at most " +
                       std::to_string(kMaxSteps) + " are allowed");
    return;
  }
  for (const auto& step : steps) {
    if (!step.IsMap()) {
      r.error(step, "each load step must be a mapping {after: DURATION, base_kw: NUMBER}");
      continue;
    }
    r.check_keys(step, {"after", "base_kw"}, "load step");
    const auto after = r.duration(step, "after", true);
    const auto kw = r.number(step, "base_kw", true);
    if (!after || !kw) continue;
    if (*kw < m.idle_kw || *kw > m.max_kw) {
      r.error(r.child(step, "base_kw"), "sim load step: 'base_kw' (" + number_text(*kw) +
                                            ") must lie between 'idle_kw' (" + number_text(m.idle_kw) +
                                            ") and 'max_kw' (" + number_text(m.max_kw) + ")");
      continue;
    }
    if (*kw < m.swing_kw) {
      // The energy counter would run backwards in the swing's trough.
      r.error(r.child(step, "base_kw"), "sim load step: 'base_kw' (" + number_text(*kw) +
                                            ") must not be below 'swing_kw' (" + number_text(m.swing_kw) + ")");
      continue;
    }
    if (!s.load_steps.empty() && *after <= s.load_steps.back().first) {
      r.error(r.child(step, "after"), "load steps must be in time order: 'after' " +
                                          std::to_string(after->count()) + "ms is not after " +
                                          std::to_string(s.load_steps.back().first.count()) + "ms");
      continue;
    }
    s.load_steps.emplace_back(*after, *kw);
  }
}

void parse_load(const YAML::Node& source, ConfigReader& r, SimSettings& s) {
  auto& m = s.model;
  const auto load = section(source, "load",
                            {"base_kw", "swing_kw", "period", "noise_kw", "idle_kw", "max_kw", "steps"}, r);
  if (!load.IsDefined()) return;
  constexpr double kMaxRackKw = 1000.0;
  ranged(load, "idle_kw", 0.0, kMaxRackKw, r, m.idle_kw);
  ranged(load, "base_kw", 0.0, kMaxRackKw, r, m.base_kw);
  ranged(load, "swing_kw", 0.0, kMaxRackKw, r, m.swing_kw);
  ranged(load, "noise_kw", 0.0, kMaxRackKw, r, m.noise_kw);
  ranged(load, "max_kw", 0.0, kMaxRackKw, r, m.max_kw);
  if (auto d = r.duration(load, "period")) {
    if (*d < Millis{1'000} || *d > Millis{86'400'000}) {
      r.error(r.child(load, "period"), "'period' must be between 1s and 24h");
    } else {
      m.swing_period = *d;
    }
  }
  // Cross-checks point at the key at fault, or at the mapping when it is a default.
  auto at = [&](std::string_view key) {
    const auto node = r.child(load, key);
    return node.IsDefined() ? node : load;
  };
  if (m.idle_kw > m.max_kw) {
    r.error(at("idle_kw"), "sim load: 'idle_kw' (" + number_text(m.idle_kw) +
                               ") must not be above 'max_kw' (" + number_text(m.max_kw) + ")");
  } else if (m.base_kw < m.idle_kw || m.base_kw > m.max_kw) {
    r.error(at("base_kw"), "sim load: 'base_kw' (" + number_text(m.base_kw) +
                               ") must lie between 'idle_kw' (" + number_text(m.idle_kw) +
                               ") and 'max_kw' (" + number_text(m.max_kw) + ")");
  }
  // The energy counter integrates base + swing: it must never run backwards.
  if (m.swing_kw > m.base_kw) {
    r.error(at("swing_kw"), "sim load: 'swing_kw' (" + number_text(m.swing_kw) +
                                ") must not be above 'base_kw' (" + number_text(m.base_kw) + ")");
  }
  parse_steps(load, r, s);
}

void parse_cooling(const YAML::Node& source, ConfigReader& r, RackModelParams& m) {
  const auto cooling =
      section(source, "cooling", {"supply_c", "flow_lpm", "liquid_fraction", "capacity_kw"}, r);
  if (!cooling.IsDefined()) return;
  ranged(cooling, "supply_c", 5.0, 60.0, r, m.supply_c);
  ranged(cooling, "flow_lpm", 1.0, 10'000.0, r, m.flow_lpm);
  ranged(cooling, "liquid_fraction", 0.0, 1.0, r, m.liquid_fraction);
  double capacity_kw = -1.0;
  ranged(cooling, "capacity_kw", 1.0, 10'000.0, r, capacity_kw);
  if (capacity_kw > 0.0) m.capacity_w = capacity_kw * 1000.0;
}

void parse_air(const YAML::Node& source, ConfigReader& r, RackModelParams& m) {
  const auto air = section(source, "air", {"inlet_c", "airflow_m3s", "humidity_rh"}, r);
  if (!air.IsDefined()) return;
  ranged(air, "inlet_c", 0.0, 50.0, r, m.inlet_c);
  ranged(air, "airflow_m3s", 0.05, 50.0, r, m.airflow_m3s);
  ranged(air, "humidity_rh", 0.0, 100.0, r, m.humidity_rh);
}

// Completes or checks a point's quantity and unit against its signal. Sim
// values come out in the signal's canonical unit, so the point's unit must be
// that one. An explicit from_unit of the same dimension (kW for a power
// signal) is left alone: it is the config's own conversion, like scale.
void reconcile(const YAML::Node& pn, const SimSignal& sig, PointConfig& p, ConfigReader& r) {
  const Unit want = sig.quantity.unit;
  if (p.unit == Unit::unspecified) {
    p.quantity = std::string(sig.quantity.name);
    p.unit = want;
    p.from = {want, 1.0, 0.0};
    return;
  }
  if (p.unit == want) {
    if (p.quantity.empty()) p.quantity = std::string(sig.quantity.name);
    return;
  }
  const std::string what = "signal '" + sig.name + "' is " + std::string(sig.quantity.name) +
                           " in " + std::string(unit_symbol(want)) + ", not " +
                           std::string(unit_symbol(p.unit));
  for (std::string_view key : {"unit", "quantity", "from_unit"}) {
    const auto node = r.child(pn, key);
    if (!node.IsDefined()) continue;
    r.error(node, what + " ('" + std::string(key) + ": " + (node.IsScalar() ? node.Scalar() : "") + "')");
    return;
  }
  r.error(pn, what);
}

class SimSource final : public Source {
 public:
  SimSource(const SourceConfig& config, asio::any_io_executor executor,
            std::shared_ptr<const SimSettings> settings, RackModel model)
      : Source(config),
        executor_(std::move(executor)),
        settings_(std::move(settings)),
        model_(std::move(model)) {}

  asio::awaitable<std::vector<RawReading>> poll() override {
    if (settings_->delay.count() > 0) {
      asio::steady_timer timer(executor_, settings_->delay);
      const auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      if (ec) {
        co_return std::vector<RawReading>(config().points.size(),
                                          RawReading::failure("poll cancelled", Clock::now()));
      }
    }
    const auto now = Clock::now();
    const auto state = model_.at(now);
    std::vector<RawReading> out;
    out.reserve(settings_->signals.size());
    for (std::size_t i = 0; i < settings_->signals.size(); ++i) {
      if (settings_->failing[i]) {
        out.push_back(RawReading::failure(std::string(kFailReason), now));
      } else {
        out.push_back(RawReading::success(sim_signal_value(state, settings_->signals[i]), now));
      }
    }
    co_return out;
  }

 private:
  asio::any_io_executor executor_;
  std::shared_ptr<const SimSettings> settings_;
  RackModel model_;
};

class SimSourceType final : public SourceType {
 public:
  std::string_view name() const override { return "sim"; }

  std::vector<std::string_view> source_keys() const override {
    return {"seed", "load", "cooling", "air", "psus", "nominal_voltage",
            "frequency", "delay", "leak_after", "fail"};
  }

  std::vector<std::string_view> point_keys() const override { return {"signal"}; }

  std::shared_ptr<const SourceSettings> parse(const YAML::Node& source,
                                              const std::vector<YAML::Node>& point_nodes,
                                              std::vector<PointConfig>& points,
                                              ConfigReader& r) const override {
    auto s = std::make_shared<SimSettings>();
    auto& m = s->model;
    if (auto v = r.integer(source, "seed")) {
      if (*v < 0) r.error(r.child(source, "seed"), "'seed' must not be negative");
      else m.seed = static_cast<std::uint64_t>(*v);
    }
    parse_load(source, r, *s);
    parse_cooling(source, r, m);
    parse_air(source, r, m);
    if (auto v = r.integer(source, "psus")) {
      if (*v < 1 || *v > kMaxPsus) {
        r.error(r.child(source, "psus"), "'psus' must be 1.." + std::to_string(kMaxPsus));
      } else {
        m.psus = static_cast<std::size_t>(*v);
      }
    }
    ranged(source, "nominal_voltage", 50.0, 1000.0, r, m.nominal_voltage);
    ranged(source, "frequency", 40.0, 70.0, r, m.frequency);
    if (auto d = r.duration(source, "delay")) {
      if (*d > kMaxDelay) r.error(r.child(source, "delay"), "'delay' must be at most 1h");
      else s->delay = *d;
    }
    if (auto d = r.duration(source, "leak_after")) s->leak_after = *d;

    for (std::size_t i = 0; i < points.size() && i < point_nodes.size(); ++i) {
      const auto& pn = point_nodes[i];
      SimSignal sig;
      if (auto name = r.string(pn, "signal", true)) {
        if (auto found = find_sim_signal(*name, m.psus)) {
          sig = *found;
          reconcile(pn, sig, points[i], r);
        } else {
          r.error(r.child(pn, "signal"), "unknown sim signal '" + *name +
                                             "' (known: " + sim_signal_patterns(m.psus) + ")");
        }
      }
      s->signals.push_back(std::move(sig));
    }

    std::set<std::string> failing;
    if (auto list = r.string_list(source, "fail")) {
      const auto node = r.child(source, "fail");
      for (std::size_t i = 0; i < list->size(); ++i) {
        const auto& name = (*list)[i];
        if (!find_sim_signal(name, m.psus)) {
          r.error(node.IsSequence() ? node[i] : node,
                  "'fail' names unknown sim signal '" + name + "' (known: " +
                      sim_signal_patterns(m.psus) + ")");
        }
        failing.insert(name);
      }
    }
    for (const auto& sig : s->signals) s->failing.push_back(failing.contains(sig.name));
    return s;
  }

  std::unique_ptr<Source> create(const SourceConfig& config, const SourceEnv& env) const override {
    auto settings = std::dynamic_pointer_cast<const SimSettings>(config.settings);
    if (!settings || settings->signals.size() != config.points.size()) {
      throw std::invalid_argument("sim source '" + config.name + "' was not configured by the sim type");
    }
    auto params = settings->model;
    const auto now = Clock::now();
    if (settings->leak_after) params.leak_at = now + *settings->leak_after;
    for (const auto& [after, kw] : settings->load_steps) params.steps.push_back({now + after, kw});
    return std::make_unique<SimSource>(config, env.executor, std::move(settings),
                                       RackModel(std::move(params)));
  }
};

}  // namespace

const SourceType& sim_source_type() {
  static const SimSourceType type;
  return type;
}

}  // namespace rackwatch
