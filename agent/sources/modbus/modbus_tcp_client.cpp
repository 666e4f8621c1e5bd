#include "sources/modbus/modbus_tcp_client.hpp"

#include <algorithm>
#include <array>
#include <exception>
#include <span>
#include <tuple>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace rackwatch::modbus {

namespace asio = boost::asio;
using asio::experimental::awaitable_operators::operator||;
using tcp = asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Runs `op` against a timer set to `deadline`: its result, or nothing when
// the deadline came first. The losing operation is cancelled by the operator.
template <class T>
asio::awaitable<std::optional<T>> before(asio::awaitable<T> op,
                                         TcpClient::SteadyClock::time_point deadline) {
  asio::steady_timer timer(co_await asio::this_coro::executor, deadline);
  auto first = co_await (std::move(op) || timer.async_wait(use_tuple));
  if (first.index() == 0) co_return std::get<0>(std::move(first));
  co_return std::nullopt;
}

}  // namespace

std::string_view tcp_failure_name(TcpFailure failure) {
  switch (failure) {
    case TcpFailure::timeout:
      return "timeout";
    case TcpFailure::connect:
      return "connect";
    case TcpFailure::io:
      return "io";
    case TcpFailure::framing:
      return "framing";
    case TcpFailure::exception:
      return "exception";
    case TcpFailure::request:
      return "request";
    case TcpFailure::internal:
      return "internal";
  }
  return "unknown";
}

// A caller queued for the connection. The timer is its wake-up: release()
// hands over the turn by setting `granted` and cancelling it; expiry at the
// caller's deadline means it gave up.
struct TcpClient::Waiter {
  explicit Waiter(const asio::any_io_executor& executor) : timer(executor) {}
  asio::steady_timer timer;
  bool granted = false;
};

// Holds the connection for one read and passes it on however the read ends.
class TcpClient::Turn {
 public:
  explicit Turn(TcpClient& client) : client_(client) {}
  ~Turn() { client_.release(); }
  Turn(const Turn&) = delete;
  Turn& operator=(const Turn&) = delete;

 private:
  TcpClient& client_;
};

TcpClient::TcpClient(asio::any_io_executor executor, Options options)
    : executor_(std::move(executor)), options_(std::move(options)), socket_(executor_) {}

TcpClient::~TcpClient() { close(); }

void TcpClient::close() {
  boost::system::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  decoder_.reset();
  sent_on_connection_ = 0;
}

TcpError TcpClient::fail(TcpFailure failure, std::string message, std::optional<Error> modbus) {
  switch (failure) {
    case TcpFailure::timeout:
      ++counters_.timeouts;
      break;
    case TcpFailure::connect:
      ++counters_.connect_failures;
      break;
    case TcpFailure::io:
      ++counters_.io_errors;
      break;
    case TcpFailure::framing:
      ++counters_.framing_errors;
      break;
    case TcpFailure::exception:
      ++counters_.exceptions;
      break;
    case TcpFailure::request:
    case TcpFailure::internal:
      break;
  }
  return TcpError{failure, std::move(message), std::move(modbus)};
}

asio::awaitable<bool> TcpClient::acquire(SteadyClock::time_point deadline) {
  if (!busy_) {
    busy_ = true;
    co_return true;
  }
  auto waiter = std::make_shared<Waiter>(executor_);
  waiter->timer.expires_at(deadline);
  waiters_.push_back(waiter);
  co_await waiter->timer.async_wait(use_tuple);
  // Granted even if the timer had already expired: the turn is ours now,
  // and the exchange itself fails at once when the deadline has passed.
  if (waiter->granted) co_return true;
  std::erase(waiters_, waiter);
  co_return false;
}

void TcpClient::release() {
  if (waiters_.empty()) {
    busy_ = false;
    return;
  }
  auto next = std::move(waiters_.front());
  waiters_.pop_front();
  next->granted = true;
  next->timer.cancel();
}

asio::awaitable<TcpReadResult> TcpClient::read(std::uint8_t unit, ReadRequest request,
                                               SteadyClock::time_point deadline) {
  try {
    if (!co_await acquire(deadline)) {
      co_return fail(TcpFailure::timeout, "timeout: the connection was busy until the deadline");
    }
    Turn turn(*this);
    TcpReadResult result = co_await exchange(unit, request, deadline);
    last_request_end_ = SteadyClock::now();
    if (result.ok()) {
      ++counters_.successes;
      counters_.last_success = std::chrono::system_clock::now();
    }
    co_return result;
  } catch (const std::exception& e) {
    // Only resource exhaustion or a bug gets here; the connection's state is
    // unknown, so it is dropped.
    close();
    co_return fail(TcpFailure::internal, std::string("modbus tcp client: ") + e.what());
  }
}

asio::awaitable<std::optional<TcpError>> TcpClient::ensure_connected(
    SteadyClock::time_point deadline) {
  if (socket_.is_open()) co_return std::nullopt;
  close();
  const std::string where = options_.host + ":" + std::to_string(options_.port);

  tcp::resolver resolver(executor_);
  auto resolved = co_await before(
      resolver.async_resolve(options_.host, std::to_string(options_.port), use_tuple), deadline);
  if (!resolved) {
    ++counters_.connect_failures;
    co_return fail(TcpFailure::timeout, "timeout: resolving " + where);
  }
  auto& [resolve_error, endpoints] = *resolved;
  if (resolve_error) {
    co_return fail(TcpFailure::connect, "resolving " + where + ": " + resolve_error.message());
  }

  auto connected = co_await before(asio::async_connect(socket_, endpoints, use_tuple), deadline);
  if (!connected) {
    close();
    ++counters_.connect_failures;
    co_return fail(TcpFailure::timeout, "timeout: connecting to " + where);
  }
  if (const auto& connect_error = std::get<0>(*connected)) {
    close();
    co_return fail(TcpFailure::connect, "connecting to " + where + ": " + connect_error.message());
  }
  boost::system::error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
  co_return std::nullopt;
}

asio::awaitable<TcpReadResult> TcpClient::exchange(std::uint8_t unit, const ReadRequest& request,
                                                   SteadyClock::time_point deadline) {
  const auto transaction_id = static_cast<std::uint16_t>(transaction_id_ + 1);
  auto frame = encode_tcp_request(transaction_id, unit, request);
  if (!frame) co_return fail(TcpFailure::request, frame.error().message, frame.error());
  transaction_id_ = transaction_id;

  if (options_.inter_request_delay.count() > 0 && last_request_end_) {
    const auto ready = *last_request_end_ + options_.inter_request_delay;
    if (ready > SteadyClock::now()) {
      asio::steady_timer quiet(executor_, std::min(ready, deadline));
      co_await quiet.async_wait(use_tuple);
      if (ready > deadline) {
        co_return fail(TcpFailure::timeout, "timeout: inter-request delay beyond the deadline");
      }
    }
  }

  if (auto error = co_await ensure_connected(deadline)) co_return std::move(*error);

  ++counters_.requests;
  ++sent_on_connection_;
  auto written = co_await before(asio::async_write(socket_, asio::buffer(*frame), use_tuple),
                                 deadline);
  if (!written) {
    close();
    co_return fail(TcpFailure::timeout, "timeout: sending the request");
  }
  if (const auto& write_error = std::get<0>(*written)) {
    close();
    co_return fail(TcpFailure::io, "sending the request: " + write_error.message());
  }

  std::array<std::uint8_t, 512> buffer{};
  for (;;) {
    // Whole frames already buffered first; then more bytes.
    for (;;) {
      auto next = decoder_.next();
      if (!next) {
        close();
        co_return fail(TcpFailure::framing, next.error().message, next.error());
      }
      if (!*next) break;
      const TcpFrame& answer = **next;
      if (answer.transaction_id != transaction_id) {
        const auto back = static_cast<std::uint16_t>(transaction_id - answer.transaction_id);
        if (back < sent_on_connection_) continue;  // an answer to an earlier request
      }
      if (auto mismatch = check_tcp_response(answer, transaction_id, unit)) {
        close();
        co_return fail(TcpFailure::framing, mismatch->message, std::move(*mismatch));
      }
      auto response = decode_read_response(request, answer.pdu);
      if (response) co_return std::move(response).value();
      if (response.error().code == ErrorCode::exception) {
        // A well-formed answer: the connection stays usable.
        co_return fail(TcpFailure::exception, response.error().message, response.error());
      }
      close();
      co_return fail(TcpFailure::framing, response.error().message, response.error());
    }

    auto got = co_await before(socket_.async_read_some(asio::buffer(buffer), use_tuple), deadline);
    if (!got) {
      // The answer may still come; on a new connection it cannot be taken
      // for the answer to the next request.
      close();
      co_return fail(TcpFailure::timeout, "timeout: no answer from unit " +
                                              std::to_string(unit) + " before the deadline");
    }
    const auto& [read_error, count] = *got;
    if (read_error) {
      close();
      const std::string what = read_error == asio::error::eof ? "the server closed the connection"
                                                              : read_error.message();
      co_return fail(TcpFailure::io, "reading the answer: " + what);
    }
    decoder_.feed(std::span<const std::uint8_t>(buffer.data(), count));
  }
}

}  // namespace rackwatch::modbus
