// RtuOverTcpClient: a Link carrying Modbus RTU frames (unit, PDU, CRC; no
// MBAP header) over a TCP connection to a serial device server in its raw
// "TCP server" mode, which passes bytes to and from an RS-485 bus. The bus
// rules hold as on RtuClient: one request at a time, no transaction ids, an
// answer ends at the size its request implies (or at a silence when it is
// broken), CRC and unit checked. It connects on first use and drops the
// connection after any failure but an exception answer, so that a late
// answer cannot be taken for the next request's.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "sources/modbus/modbus_link.hpp"
#include "sources/modbus/modbus_pdu.hpp"

namespace rackwatch::modbus {

class RtuOverTcpClient final : public Link {
 public:
  struct Options {
    std::string host;  // a name or an address
    std::uint16_t port = 0;  // these gateways have no standard port
    // Quiet time from the end of one answer to the next request: the
    // gateway's serial turnaround. The TCP side has no 3.5-character
    // silence to keep; the gateway keeps it on the line.
    std::chrono::milliseconds inter_request_delay{0};
  };

  // A silence this long after some bytes ends a broken (short) answer.
  // Longer than on a serial port: the gateway packs serial bytes into
  // segments by its own timer, and the network adds its own gaps.
  static constexpr std::chrono::milliseconds kEndOfFrameSilence{100};

  RtuOverTcpClient(boost::asio::any_io_executor executor, Options options);
  ~RtuOverTcpClient() override;

  void close() override;
  bool connected() const override { return socket_.is_open(); }
  // "rtu-over-tcp 10.0.0.7:4001"
  std::string describe() const override;
  const Options& options() const { return options_; }

 private:
  boost::asio::awaitable<ReadResult> exchange(std::uint8_t unit, const ReadRequest& request,
                                              SteadyClock::time_point deadline) override;
  boost::asio::awaitable<std::optional<LinkError>> ensure_connected(SteadyClock::time_point deadline);
  // Drops the bytes that arrived since the last answer (noise, or the tail
  // of a longer frame), as RtuClient flushes the port; false when the
  // gateway has closed the connection meanwhile (an idle timeout).
  bool discard_pending();
  std::string where() const;

  Options options_;
  boost::asio::ip::tcp::socket socket_;
};

}  // namespace rackwatch::modbus
