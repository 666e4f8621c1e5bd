// What the fairness tests share: how long they watch a healthy source beside
// a sick one, and the healthy Modbus device they watch.
#pragma once

#include <chrono>
#include <cstdlib>
#include <string>

namespace rackwatch::test {

// The issues ask for a minute; RACKWATCH_FAIRNESS_SECONDS shortens it for a
// quick local run.
inline std::chrono::seconds fairness_watch_length() {
  if (const char* env = std::getenv("RACKWATCH_FAIRNESS_SECONDS")) return std::chrono::seconds(std::atoi(env));
  return std::chrono::seconds{60};
}

// The healthy device: 18 holding registers of 100 + i, one read a poll.
inline constexpr int kFairnessPoints = 18;

// Its register map, as the Modbus test server takes it.
inline std::string fairness_device_map() {
  std::string map;
  for (int i = 0; i < kFairnessPoints; ++i) {
    map += "holding " + std::to_string(i) + " u16 " + std::to_string(100 + i) + "\n";
  }
  return map;
}

// Its profile: one power point a register, r0 to r17.
inline std::string fairness_device_profile() {
  std::string text = "description: eighteen registers\npoints:\n";
  for (int i = 0; i < kFairnessPoints; ++i) {
    text += "  - {name: r" + std::to_string(i) + ", address: " + std::to_string(i) + ", quantity: power}\n";
  }
  return text;
}

}  // namespace rackwatch::test
