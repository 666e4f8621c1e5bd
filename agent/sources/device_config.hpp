// What every source of a networked or serial device reads alike: the
// health keys dormant_after, reprobe_min and reprobe_max
// (sources/device_health.hpp says what they do), and the source's timeout
// that bounds its request timeout, and that bound's check.
#pragma once

#include <chrono>

#include "sources/device_health.hpp"

namespace YAML {
class Node;
}

namespace rackwatch {

class ConfigReader;

// The source's `timeout` as the common parser read it (default: the
// interval, at most 5s), without reporting its problems a second time.
std::chrono::milliseconds source_timeout(const YAML::Node& source);

// A per-step timeout key of the source (`request_timeout`,
// `probe_timeout`): 10ms up to the source's timeout, else an error at the
// key; `fallback` when absent or wrong.
std::chrono::milliseconds parse_step_timeout(const YAML::Node& source, const char* key, ConfigReader& r,
                                             std::chrono::milliseconds fallback);

void parse_health_policy(const YAML::Node& source, ConfigReader& r, HealthPolicy& out);

}  // namespace rackwatch
