// Opening the TCP connection of a Modbus link — to a Modbus TCP device or
// gateway, or to a serial device server carrying RTU frames: resolve,
// connect and turn off Nagle's delay, all before a deadline.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace rackwatch::modbus {

struct TcpConnectFailure {
  bool timeout = false;  // the deadline passed; otherwise resolving or connecting failed
  std::string message;   // "timeout: connecting to HOST:PORT", "resolving HOST:PORT: ...", ...
};

// Connects `socket` to host:port; on failure the socket is left closed.
boost::asio::awaitable<std::optional<TcpConnectFailure>> connect_tcp(
    boost::asio::ip::tcp::socket& socket, const std::string& host, std::uint16_t port,
    std::chrono::steady_clock::time_point deadline);

}  // namespace rackwatch::modbus
