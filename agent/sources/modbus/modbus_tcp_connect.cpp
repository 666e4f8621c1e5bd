#include "sources/modbus/modbus_tcp_connect.hpp"

#include <tuple>

#include <boost/asio/connect.hpp>

#include "core/deadline.hpp"

namespace rackwatch::modbus {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

asio::awaitable<std::optional<TcpConnectFailure>> connect_tcp(tcp::socket& socket, const std::string& host,
                                                              std::uint16_t port,
                                                              std::chrono::steady_clock::time_point deadline) {
  const std::string where = host + ":" + std::to_string(port);
  boost::system::error_code ignored;
  socket.close(ignored);

  tcp::resolver resolver(socket.get_executor());
  auto resolved = co_await before(resolver.async_resolve(host, std::to_string(port), use_tuple), deadline);
  if (!resolved) co_return TcpConnectFailure{true, "timeout: resolving " + where};
  auto& [resolve_error, endpoints] = *resolved;
  if (resolve_error) co_return TcpConnectFailure{false, "resolving " + where + ": " + resolve_error.message()};

  auto connected = co_await before(asio::async_connect(socket, endpoints, use_tuple), deadline);
  if (!connected) {
    socket.close(ignored);
    co_return TcpConnectFailure{true, "timeout: connecting to " + where};
  }
  if (const auto& connect_error = std::get<0>(*connected)) {
    socket.close(ignored);
    co_return TcpConnectFailure{false, "connecting to " + where + ": " + connect_error.message()};
  }
  // Requests are small and wait for their answer: sent at once, not batched.
  socket.set_option(tcp::no_delay(true), ignored);
  co_return std::nullopt;
}

}  // namespace rackwatch::modbus
