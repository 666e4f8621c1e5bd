// Talks to systemd: READY/STOPPING/STATUS notifications and the watchdog
// keep-alive. Does nothing when not run by systemd.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace rackwatch {

void notify_ready();
void notify_stopping();
void notify_status(std::string_view status);
void notify_watchdog();

// The interval at which to ping the watchdog (half of WatchdogSec), or
// nullopt when the unit sets no watchdog.
std::optional<std::chrono::microseconds> watchdog_ping_interval();

}  // namespace rackwatch
