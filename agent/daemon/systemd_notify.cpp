#include "daemon/systemd_notify.hpp"

#include <systemd/sd-daemon.h>

namespace rackwatch {

void notify_ready() { sd_notify(0, "READY=1\nSTATUS=polling"); }

void notify_stopping() { sd_notify(0, "STOPPING=1"); }

void notify_watchdog() { sd_notify(0, "WATCHDOG=1"); }

std::optional<std::chrono::microseconds> watchdog_ping_interval() {
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
  return std::chrono::microseconds(usec / 2);
}

}  // namespace rackwatch
