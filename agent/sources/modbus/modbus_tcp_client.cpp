#include "sources/modbus/modbus_tcp_client.hpp"

#include <algorithm>
#include <array>
#include <exception>
#include <span>
#include <tuple>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "sources/modbus/modbus_tcp_connect.hpp"

namespace rackwatch::modbus {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

TcpClient::TcpClient(asio::any_io_executor executor, Options options)
    : Link(executor, options.inter_request_delay),
      options_(std::move(options)),
      socket_(std::move(executor)) {}

TcpClient::~TcpClient() { close(); }

void TcpClient::close() {
  boost::system::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  decoder_.reset();
  sent_on_connection_ = 0;
}

std::string TcpClient::describe() const {
  return "tcp " + options_.host + ":" + std::to_string(options_.port);
}

asio::awaitable<std::optional<LinkError>> TcpClient::ensure_connected(
    SteadyClock::time_point deadline) {
  if (socket_.is_open()) co_return std::nullopt;
  close();
  if (auto failure = co_await connect_tcp(socket_, options_.host, options_.port, deadline)) {
    close();
    co_return fail(failure->timeout ? LinkFailure::timeout : LinkFailure::connect, std::move(failure->message));
  }
  co_return std::nullopt;
}

asio::awaitable<ReadResult> TcpClient::exchange(std::uint8_t unit, const ReadRequest& request,
                                                   SteadyClock::time_point deadline) {
  const auto transaction_id = static_cast<std::uint16_t>(transaction_id_ + 1);
  auto frame = encode_tcp_request(transaction_id, unit, request);
  if (!frame) co_return fail(LinkFailure::request, frame.error().message, frame.error());
  transaction_id_ = transaction_id;

  if (auto error = co_await ensure_connected(deadline)) co_return std::move(*error);

  count_request();
  ++sent_on_connection_;
  auto written = co_await before(asio::async_write(socket_, asio::buffer(*frame), use_tuple),
                                 deadline);
  if (!written) {
    close();
    co_return fail(LinkFailure::timeout, "timeout: sending the request");
  }
  if (const auto& write_error = std::get<0>(*written)) {
    close();
    co_return fail(LinkFailure::io, "sending the request: " + write_error.message());
  }

  std::array<std::uint8_t, 512> buffer{};
  for (;;) {
    // Whole frames already buffered first; then more bytes.
    for (;;) {
      auto next = decoder_.next();
      if (!next) {
        close();
        co_return fail(LinkFailure::framing, next.error().message, next.error());
      }
      if (!*next) break;
      const TcpFrame& answer = **next;
      if (answer.transaction_id != transaction_id) {
        const auto back = static_cast<std::uint16_t>(transaction_id - answer.transaction_id);
        if (back < sent_on_connection_) continue;  // an answer to an earlier request
      }
      if (auto mismatch = check_tcp_response(answer, transaction_id, unit)) {
        close();
        co_return fail(LinkFailure::framing, mismatch->message, *mismatch);
      }
      auto response = decode_read_response(request, answer.pdu);
      if (response) co_return std::move(response).value();
      if (response.error().code == ErrorCode::exception) {
        // A well-formed answer: the connection stays usable.
        co_return fail(LinkFailure::exception, response.error().message, response.error());
      }
      close();
      co_return fail(LinkFailure::framing, response.error().message, response.error());
    }

    auto got = co_await before(socket_.async_read_some(asio::buffer(buffer), use_tuple), deadline);
    if (!got) {
      // The answer may still come; on a new connection it cannot be taken
      // for the answer to the next request.
      close();
      co_return fail(LinkFailure::timeout, "timeout: no answer from unit " +
                                              std::to_string(unit) + " before the deadline");
    }
    const auto& [read_error, count] = *got;
    if (read_error) {
      close();
      const std::string what = read_error == asio::error::eof ? "the server closed the connection"
                                                              : read_error.message();
      co_return fail(LinkFailure::io, "reading the answer: " + what);
    }
    decoder_.feed(std::span<const std::uint8_t>(buffer.data(), count));
  }
}

}  // namespace rackwatch::modbus
