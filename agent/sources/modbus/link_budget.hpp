// The link budget: whether the devices sharing one Modbus link can all be
// polled within its shortest interval, with room left for one probe. An
// estimate from the configuration alone, for `rackwatch check-config` and
// the agent's start: each poll's reads (as the span planner makes them) at
// a stated cost per request — on a serial bus the request's and answer's
// bytes at the line's speed plus the 3.5-character silence and 5 ms for the
// device to turn round; over TCP 10 ms a round trip; RTU over TCP both, the
// gateway's line taken at 19200 baud (its speed is not configured here) —
// plus the configured inter_request_delay.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "core/config.hpp"

namespace rackwatch::modbus {

struct LinkLoad {
  std::string link;  // as the link describes itself: "tcp 10.0.0.5:502", "rtu /dev/ttyS1 9600 8E1"
  std::string basis;  // how a read's cost was estimated, for the warning
  std::size_t devices = 0;
  std::size_t requests = 0;   // a poll of every device
  std::size_t registers = 0;
  std::chrono::microseconds poll_round{};  // all devices polled once
  std::chrono::milliseconds probe{};       // the longest probe_timeout among them
  std::chrono::milliseconds shortest_interval{};
  bool over_booked() const { return poll_round + probe > shortest_interval; }
};

// One entry per link shared by the `modbus` sources among `sources`.
std::vector<LinkLoad> link_loads(const std::vector<const SourceConfig*>& sources);

// A warning for each over-booked link, saying what to change.
std::vector<std::string> link_budget_warnings(const std::vector<const SourceConfig*>& sources);

}  // namespace rackwatch::modbus
