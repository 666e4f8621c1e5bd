#include "sources/device_config.hpp"

#include <algorithm>
#include <string>

#include <yaml-cpp/yaml.h>

#include "core/config_reader.hpp"

namespace rackwatch {

using std::chrono::milliseconds;

milliseconds source_timeout(const YAML::Node& source) {
  milliseconds interval{10'000};
  if (auto n = source["interval"]; n && n.IsScalar()) {
    if (auto d = parse_duration(n.Scalar())) interval = *d;
  }
  milliseconds timeout = std::min(interval, milliseconds{5'000});
  if (auto n = source["timeout"]; n && n.IsScalar()) {
    if (auto d = parse_duration(n.Scalar())) timeout = *d;
  }
  return timeout;
}

milliseconds parse_step_timeout(const YAML::Node& source, const char* key, ConfigReader& r, milliseconds fallback) {
  const auto timeout = source_timeout(source);
  const auto d = r.duration(source, key);
  if (!d) return fallback;
  if (*d < milliseconds{10} || *d > timeout) {
    r.error(r.child(source, key), "'" + std::string(key) + "' must be at least 10ms and at most the source's timeout (" +
                                      std::to_string(timeout.count()) + "ms)");
    return fallback;
  }
  return *d;
}

void parse_health_policy(const YAML::Node& source, ConfigReader& r, HealthPolicy& out) {
  if (auto v = r.integer(source, "dormant_after")) {
    if (*v < 1 || *v > 1000) {
      r.error(r.child(source, "dormant_after"), "'dormant_after' must be 1..1000 failures");
    } else {
      out.dormant_after = static_cast<unsigned>(*v);
    }
  }
  if (auto d = r.duration(source, "reprobe_min")) {
    if (*d < milliseconds{100} || *d > milliseconds{3'600'000}) {
      r.error(r.child(source, "reprobe_min"), "'reprobe_min' must be 100ms..1h");
    } else {
      out.reprobe_min = *d;
    }
  }
  if (auto d = r.duration(source, "reprobe_max")) {
    if (*d < out.reprobe_min || *d > milliseconds{86'400'000}) {
      r.error(r.child(source, "reprobe_max"), "'reprobe_max' must be at least 'reprobe_min' and at most 24h");
    } else {
      out.reprobe_max = *d;
    }
  }
  out.reprobe_max = std::max(out.reprobe_max, out.reprobe_min);
}

}  // namespace rackwatch
