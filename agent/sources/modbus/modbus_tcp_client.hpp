// TcpClient: one Modbus TCP connection (to a device, or to a gateway with
// several unit ids behind it) on Boost.Asio coroutines. It connects on first
// use, sends one request at a time (concurrent callers queue in call order),
// keeps an optional quiet time between requests, bounds every step by the
// caller's deadline, and drops the connection on any I/O or framing failure
// so that the next read starts clean. Failures come back as values.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "sources/modbus/modbus_error.hpp"
#include "sources/modbus/modbus_pdu.hpp"
#include "sources/modbus/modbus_tcp_frame.hpp"

namespace rackwatch::modbus {

// Why a read failed, at the level a caller acts on: device health counts
// timeouts and broken frames against a device, but not exception replies.
enum class TcpFailure : std::uint8_t {
  timeout,    // the deadline passed (waiting for the connection, connecting, sending or reading)
  connect,    // the host could not be resolved or refused the connection
  io,         // the connection failed or was closed by the server
  framing,    // a frame that does not answer the request (MBAP, transaction, unit, PDU)
  exception,  // the server answered with a Modbus exception
  request,    // the request itself is invalid (quantity, address range)
  internal,   // anything unexpected; caught so that read() never throws
};

// "timeout", ... for logs and reasons.
std::string_view tcp_failure_name(TcpFailure failure);

struct TcpError {
  TcpFailure failure = TcpFailure::internal;
  std::string message;
  // The codec's error for framing, exception (with its exception_code) and
  // request failures; empty for transport failures, which the codec's
  // ErrorCode has no names for.
  std::optional<Error> modbus;
};

// The outcome of one read: a ReadResponse or a TcpError.
class TcpReadResult {
 public:
  TcpReadResult(ReadResponse response) : state_(std::move(response)) {}
  TcpReadResult(TcpError error) : state_(std::move(error)) {}

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // Only when ok().
  const ReadResponse& value() const& { return std::get<0>(state_); }
  ReadResponse&& value() && { return std::get<0>(std::move(state_)); }
  const ReadResponse* operator->() const { return &value(); }

  // Only when !ok().
  const TcpError& error() const { return std::get<1>(state_); }

  // Not modbus::Result: its ErrorCode has no names for transport failures
  // (timeout, connect, io), and callers must tell those apart.
 private:
  std::variant<ReadResponse, TcpError> state_;
};

class TcpClient {
 public:
  using SteadyClock = std::chrono::steady_clock;

  struct Options {
    std::string host;  // a name or an address
    std::uint16_t port = 502;
    // Quiet time from the end of one request to the start of the next;
    // slow gateways and serial bridges need it.
    std::chrono::milliseconds inter_request_delay{0};
  };

  struct Counters {
    std::uint64_t requests = 0;  // reads sent on the wire
    std::uint64_t timeouts = 0;
    std::uint64_t connect_failures = 0;
    std::uint64_t io_errors = 0;
    std::uint64_t framing_errors = 0;
    std::uint64_t exceptions = 0;
    std::uint64_t successes = 0;
    std::optional<std::chrono::system_clock::time_point> last_success;
  };

  TcpClient(boost::asio::any_io_executor executor, Options options);
  ~TcpClient();

  TcpClient(const TcpClient&) = delete;
  TcpClient& operator=(const TcpClient&) = delete;

  // Reads `request` from `unit`, finished or failed by `deadline`. Waits its
  // turn behind earlier calls; the deadline covers the wait too. The client
  // must outlive every read in progress.
  boost::asio::awaitable<TcpReadResult> read(std::uint8_t unit, ReadRequest request,
                                             SteadyClock::time_point deadline);

  // Drops the connection; the next read reconnects.
  void close();

  bool connected() const { return socket_.is_open(); }
  const Counters& counters() const { return counters_; }
  const Options& options() const { return options_; }

 private:
  struct Waiter;
  class Turn;

  boost::asio::awaitable<bool> acquire(SteadyClock::time_point deadline);
  void release();
  boost::asio::awaitable<TcpReadResult> exchange(std::uint8_t unit, const ReadRequest& request,
                                                 SteadyClock::time_point deadline);
  boost::asio::awaitable<std::optional<TcpError>> ensure_connected(
      SteadyClock::time_point deadline);
  TcpError fail(TcpFailure failure, std::string message, std::optional<Error> modbus = {});

  boost::asio::any_io_executor executor_;
  Options options_;
  boost::asio::ip::tcp::socket socket_;
  TcpFrameDecoder decoder_;
  std::uint16_t transaction_id_ = 0;
  // Requests sent on the current connection: an answer whose transaction id
  // is one of those before the current one is stale (a duplicate or a late
  // answer) and skipped; any other id is a framing error.
  std::uint32_t sent_on_connection_ = 0;
  std::optional<SteadyClock::time_point> last_request_end_;
  bool busy_ = false;
  std::deque<std::shared_ptr<Waiter>> waiters_;
  Counters counters_;
};

}  // namespace rackwatch::modbus
