// The validated settings of one sim source: the rack model's parameters, the
// signal each point reads, and the faults to inject (latency, failing
// signals, a leak after a while).
#pragma once

#include <optional>
#include <utility>
#include <vector>

#include "core/config.hpp"
#include "sources/sim/rack_model.hpp"
#include "sources/sim/sim_signals.hpp"

namespace rackwatch {

struct SimSettings final : SourceSettings {
  RackModelParams model;
  Millis delay{0};                  // added latency of every poll
  std::optional<Millis> leak_after;  // after creation of the source
  // Load steps, after creation of the source: (when, base kW), in time order.
  std::vector<std::pair<Millis, double>> load_steps;
  std::vector<SimSignal> signals;   // one per point, in point order
  std::vector<bool> failing;        // per point: reads as a failure
};

}  // namespace rackwatch
