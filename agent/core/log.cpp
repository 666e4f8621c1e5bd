#include "core/log.hpp"

#include <unistd.h>

#include <atomic>
#include <string>

#include "core/printable.hpp"

namespace rackwatch::log {
namespace {
std::atomic<int> g_level{static_cast<int>(Level::info)};
Sink g_sink;
}  // namespace

void set_level(Level level) { g_level = static_cast<int>(level); }

bool enabled(Level level) { return static_cast<int>(level) <= g_level.load(); }

void set_sink(Sink sink) { g_sink = std::move(sink); }

void write(Level level, std::string_view raw) {
  // Messages quote what devices, files and clients sent: one line, no
  // control characters, nothing but UTF-8 (printable.hpp).
  const std::string message = printable(raw);
  if (g_sink) {
    g_sink(level, message);
    return;
  }
  // One write(2) a line so that lines from threads never interleave.
  std::string line = "<" + std::to_string(static_cast<int>(level)) + ">";
  line.append(message);
  line.push_back('\n');
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    const auto n = ::write(STDERR_FILENO, p, left);
    if (n <= 0) return;
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace rackwatch::log
