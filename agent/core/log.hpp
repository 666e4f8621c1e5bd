// Logging to stderr, one line a message, with the systemd priority prefix
// ("<3>", "<4>", "<6>", "<7>") that journald turns into a log level.
#pragma once

#include <sstream>
#include <string>
#include <string_view>

namespace rackwatch::log {

enum class Level { error = 3, warning = 4, info = 6, debug = 7 };

// Messages above this level are dropped. Default: info.
void set_level(Level level);
bool enabled(Level level);
void write(Level level, std::string_view message);

template <typename... Args>
void emit(Level level, const Args&... args) {
  if (!enabled(level)) return;
  std::ostringstream out;
  (out << ... << args);
  write(level, out.str());
}

template <typename... Args>
void error(const Args&... args) { emit(Level::error, args...); }
template <typename... Args>
void warning(const Args&... args) { emit(Level::warning, args...); }
template <typename... Args>
void info(const Args&... args) { emit(Level::info, args...); }
template <typename... Args>
void debug(const Args&... args) { emit(Level::debug, args...); }

}  // namespace rackwatch::log
