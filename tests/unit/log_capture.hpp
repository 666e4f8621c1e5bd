// Captures what the agent logs while an object of it lives (lines go to it
// instead of stderr); safe to read from the test's thread.
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/log.hpp"

namespace rackwatch::test {

class LogCapture {
 public:
  LogCapture() {
    log::set_sink([this](log::Level, std::string_view line) {
      std::lock_guard lock(mutex_);
      lines_.emplace_back(line);
    });
  }
  ~LogCapture() { log::set_sink({}); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  std::vector<std::string> lines() const {
    std::lock_guard lock(mutex_);
    return lines_;
  }
  bool contains(std::string_view text) const {
    std::lock_guard lock(mutex_);
    for (const auto& l : lines_) {
      if (l.find(text) != std::string::npos) return true;
    }
    return false;
  }
  std::string all() const {
    std::string out;
    for (const auto& l : lines()) out += l + "\n";
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

}  // namespace rackwatch::test
