// Why a TCP connection to the broker fails, in words an operator can act on.
// Paho reports a failed connect as a bare "Failure" or "TCP/TLS connect
// failure"; after one, the session makes the same connection itself and
// says which step failed: the name did not resolve, the host refused the
// port (nothing listens there), or nothing answered within the timeout.
#pragma once

#include <chrono>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "core/mqtt_config.hpp"

namespace rackwatch {

// Resolves `address` and connects `socket` before `deadline`. Empty when
// connected; otherwise why not, naming the host and port tried.
boost::asio::awaitable<std::string> connect_tcp(boost::asio::ip::tcp::socket& socket, const BrokerAddress& address,
                                                std::chrono::steady_clock::time_point deadline);

// Connects to the broker of `uri` and closes again: empty when a TCP
// connection could be made within `timeout`, else why it could not.
boost::asio::awaitable<std::string> probe_tcp(std::string uri, std::chrono::milliseconds timeout);

}  // namespace rackwatch
