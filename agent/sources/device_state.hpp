// A device's state as its source sees it, for any protocol: answering,
// failing, or left alone until its next probe.
#pragma once

#include <cstdint>
#include <string_view>

namespace rackwatch {

enum class DeviceState : std::uint8_t {
  ok,        // the last request was answered
  degraded,  // failing, not yet dormant
  dormant,   // not polled until the next probe
};

constexpr std::string_view device_state_name(DeviceState state) {
  switch (state) {
    case DeviceState::ok:
      return "ok";
    case DeviceState::degraded:
      return "degraded";
    case DeviceState::dormant:
      return "dormant";
  }
  return "unknown";
}

}  // namespace rackwatch
