#include "publish/tcp_probe.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/this_coro.hpp>

#include "core/deadline.hpp"

namespace rackwatch {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

std::string seconds_text(std::chrono::steady_clock::duration d) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
}

}  // namespace

asio::awaitable<std::string> connect_tcp(tcp::socket& socket, const BrokerAddress& address,
                                         std::chrono::steady_clock::time_point deadline) {
  const auto allowed = seconds_text(deadline - std::chrono::steady_clock::now());
  const std::string where = address.host + ":" + address.port;
  tcp::resolver resolver(co_await asio::this_coro::executor);
  auto resolved = co_await before(resolver.async_resolve(address.host, address.port, use_tuple), deadline);
  if (!resolved) co_return "cannot resolve host '" + address.host + "' within " + allowed + " (is DNS reachable?)";
  if (const auto ec = std::get<0>(*resolved)) {
    co_return "cannot resolve host '" + address.host + "': " + ec.message() +
        " (check the broker's name in mqtt.brokers, and the controller's DNS)";
  }
  auto connected = co_await before(asio::async_connect(socket, std::get<1>(*resolved), use_tuple), deadline);
  if (!connected) {
    co_return "no answer from " + where + " within " + allowed +
        " (the host is down or unreachable, or a firewall drops the connection)";
  }
  const auto ec = std::get<0>(*connected);
  if (!ec) co_return std::string();
  if (ec == asio::error::connection_refused) {
    co_return "connection refused by " + where + ": nothing listens on port " + address.port +
        " there (is the broker running, and on that port?)";
  }
  if (ec == asio::error::host_unreachable || ec == asio::error::network_unreachable) {
    co_return "cannot reach " + where + ": " + ec.message() + " (check the controller's network and routes)";
  }
  co_return "no TCP connection to " + where + ": " + ec.message();
}

asio::awaitable<std::string> probe_tcp(std::string uri, std::chrono::milliseconds timeout) {
  const auto parsed = parse_broker_uri(uri);
  if (!parsed.error.empty()) co_return parsed.error;
  tcp::socket socket(co_await asio::this_coro::executor);
  co_return co_await connect_tcp(socket, parsed.address, std::chrono::steady_clock::now() + timeout);
}

}  // namespace rackwatch
