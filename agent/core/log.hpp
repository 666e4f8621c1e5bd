// Logging to stderr, one line a message, with the systemd priority prefix
// ("<3>", "<4>", "<6>", "<7>") that journald turns into a log level.
#pragma once

#include <functional>
#include <sstream>
#include <string>
#include <string_view>

namespace rackwatch::log {

enum class Level { error = 3, warning = 4, info = 6, debug = 7 };

// Messages above this level are dropped. Default: info.
void set_level(Level level);
bool enabled(Level level);
void write(Level level, std::string_view message);

// Where lines go instead of stderr, for a program that keeps its own log (an
// empty sink: stderr again). Set it before logging starts, from one thread;
// the sink is called from whichever thread logs.
using Sink = std::function<void(Level, std::string_view)>;
void set_sink(Sink sink);

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
