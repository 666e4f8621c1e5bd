// What the fairness tests share: how long they watch a healthy source beside
// a sick one.
#pragma once

#include <chrono>
#include <cstdlib>

namespace rackwatch::test {

// The issues ask for a minute; RACKWATCH_FAIRNESS_SECONDS shortens it for a
// quick local run.
inline std::chrono::seconds fairness_watch_length() {
  if (const char* env = std::getenv("RACKWATCH_FAIRNESS_SECONDS")) return std::chrono::seconds(std::atoi(env));
  return std::chrono::seconds{60};
}

}  // namespace rackwatch::test
