// Talks to systemd: READY/STOPPING notifications and the watchdog
// keep-alive. Does nothing when not run by systemd.
#pragma once

#include <chrono>
#include <optional>

namespace rackwatch {

void notify_ready();
void notify_stopping();
void notify_watchdog();

// The interval at which to ping the watchdog (half of WatchdogSec), or
// nullopt when the unit sets no watchdog.
std::optional<std::chrono::microseconds> watchdog_ping_interval();

}  // namespace rackwatch
