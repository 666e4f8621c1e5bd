// What a `type: modbus` source is configured with: the link it is reached
// over (shared with every source on the same gateway or bus), its unit id,
// its points as registers, and how it reads and judges the device.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "sources/device_health.hpp"
#include "sources/modbus/modbus_point.hpp"
#include "sources/modbus/modbus_rtu_frame.hpp"
#include "sources/modbus/modbus_spans.hpp"
#include "sources/modbus/sunspec_settings.hpp"

namespace rackwatch::modbus {

struct LinkSettings {
  // tcp: Modbus TCP; rtu: a serial port; rtu_over_tcp: RTU frames over TCP
  // to a serial device server.
  enum class Kind : std::uint8_t { tcp, rtu, rtu_over_tcp };
  Kind kind = Kind::tcp;
  std::string host;  // tcp, rtu_over_tcp
  std::uint16_t port = 502;
  std::string device;  // rtu
  SerialSettings serial;
  std::chrono::milliseconds inter_request_delay{0};

  // Sources whose links have the same key share one connection or bus.
  std::string key() const;
  friend bool operator==(const LinkSettings&, const LinkSettings&) = default;
};

struct ModbusSettings final : SourceSettings {
  LinkSettings link;
  std::uint8_t unit = 1;
  std::string profile_file;  // empty without a profile
  std::chrono::milliseconds request_timeout{1'000};
  // The answer a probe (of a device not proven to answer) waits for; it
  // runs only in the link's idle time, so it is kept short.
  std::chrono::milliseconds probe_timeout{200};
  SpanOptions spans;
  HealthPolicy health;
  std::vector<RegisterPoint> registers;    // one per point of the source, in its order
  std::vector<RegisterRange> unreadable;  // from the profile
  // `sunspec:` set: the profile's model is found in the device's chain, and
  // the registers above are moved to where it is.
  std::optional<SunSpecSettings> sunspec;
};

}  // namespace rackwatch::modbus
