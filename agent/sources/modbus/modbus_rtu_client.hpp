// RtuClient: a Link over one RS-485 bus (Modbus over serial line v1.02) on a
// Boost.Asio serial port: every device on the bus shares it, one request at a
// time, with the 3.5-character silence between frames. RTU frames carry no
// length, so an answer ends at the size its request implies, or at a
// silence when it is broken.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/serial_port.hpp>

#include "sources/modbus/modbus_link.hpp"
#include "sources/modbus/modbus_rtu_frame.hpp"

namespace rackwatch::modbus {

class RtuClient final : public Link {
 public:
  struct Options {
    std::string device;  // /dev/ttyUSB0, /dev/ttyS1, ...
    SerialSettings serial;
    // Quiet time beyond the line's own 3.5 characters, for slow devices.
    std::chrono::milliseconds inter_request_delay{0};
  };

  // A silence this long after some bytes ends a broken (short) answer. The
  // spec's 1.5 characters is far below what USB serial adapters and the
  // kernel deliver (their latency timers batch bytes for up to 16 ms).
  static constexpr std::chrono::milliseconds kEndOfFrameSilence{50};

  RtuClient(boost::asio::any_io_executor executor, Options options);
  ~RtuClient() override;

  void close() override;
  bool connected() const override { return port_.is_open(); }
  std::string describe() const override;
  const Options& options() const { return options_; }

 private:
  boost::asio::awaitable<ReadResult> exchange(std::uint8_t unit, const ReadRequest& request,
                                              SteadyClock::time_point deadline) override;
  std::chrono::nanoseconds medium_quiet() const override;
  std::optional<LinkError> ensure_open();

  Options options_;
  Result<RtuTiming> timing_;
  boost::asio::serial_port port_;
};

// "19200 8E1"
std::string serial_settings_text(const SerialSettings& settings);

}  // namespace rackwatch::modbus
