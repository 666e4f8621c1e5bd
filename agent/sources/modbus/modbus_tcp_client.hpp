// TcpClient: a Link over one Modbus TCP connection (to a device, or to a
// gateway with several unit ids behind it). It connects on first use and
// drops the connection on any I/O or framing failure, so that the next read
// starts clean.
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
#include "sources/modbus/modbus_tcp_frame.hpp"

namespace rackwatch::modbus {

class TcpClient final : public Link {
 public:
  struct Options {
    std::string host;  // a name or an address
    std::uint16_t port = 502;
    // Quiet time from the end of one request to the start of the next;
    // slow gateways and serial bridges need it.
    std::chrono::milliseconds inter_request_delay{0};
  };

  TcpClient(boost::asio::any_io_executor executor, Options options);
  ~TcpClient() override;

  void close() override;
  bool connected() const override { return socket_.is_open(); }
  std::string describe() const override;
  const Options& options() const { return options_; }

 private:
  boost::asio::awaitable<ReadResult> exchange(std::uint8_t unit, const ReadRequest& request,
                                              SteadyClock::time_point deadline) override;
  boost::asio::awaitable<std::optional<LinkError>> ensure_connected(
      SteadyClock::time_point deadline);

  Options options_;
  boost::asio::ip::tcp::socket socket_;
  TcpFrameDecoder decoder_;
  std::uint16_t transaction_id_ = 0;
  // Requests sent on the current connection: an answer whose transaction id
  // is one of those before the current one is stale (a duplicate or a late
  // answer) and skipped; any other id is a framing error.
  std::uint32_t sent_on_connection_ = 0;
};

}  // namespace rackwatch::modbus
