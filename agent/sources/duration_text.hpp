// A wait as sources say it in their messages: "250ms" below a second,
// else whole seconds ("10s").
#pragma once

#include <algorithm>
#include <chrono>
#include <string>

namespace rackwatch {

inline std::string seconds_text(std::chrono::steady_clock::duration d) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  if (ms < 1000) return std::to_string(std::max<long long>(ms, 0)) + "ms";
  return std::to_string((ms + 500) / 1000) + "s";
}

}  // namespace rackwatch
