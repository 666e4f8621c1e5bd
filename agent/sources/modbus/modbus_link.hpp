// Link: one Modbus connection — a TCP connection to a device or gateway, or
// an RS-485 bus — shared by every device behind it. It sends one request at a
// time, keeps a quiet time between requests, bounds every step by the
// caller's deadline and counts what happened. Requests of healthy devices
// take turns in call order; a probe (of a device not proven to answer) gets
// the link only in the idle time its LinkPlanner finds between their polls.
// TcpClient, RtuClient and RtuOverTcpClient are the kinds; a failure comes
// back as a value.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/deadline.hpp"
#include "sources/modbus/link_planner.hpp"
#include "sources/modbus/modbus_error.hpp"
#include "sources/modbus/modbus_pdu.hpp"

namespace rackwatch::modbus {

// Why a read failed, at the level a caller acts on: device health counts
// timeouts and broken frames against a device, but not exception replies.
enum class LinkFailure : std::uint8_t {
  not_sent,   // the deadline passed before the request went out: the link busy, no room for a probe
  timeout,    // the deadline passed (connecting, sending or reading)
  connect,    // the host could not be resolved, refused, or the serial device would not open
  io,         // the connection failed or was closed by the server
  framing,    // a frame that does not answer the request (MBAP, transaction, unit, PDU)
  crc,        // RTU: a frame whose CRC is wrong
  exception,  // the server answered with a Modbus exception
  request,    // the request itself is invalid (quantity, address range, unit id)
  internal,   // anything unexpected; caught so that read() never throws
};

// "timeout", ... for logs and reasons.
std::string_view link_failure_name(LinkFailure failure);

struct LinkError {
  LinkFailure failure = LinkFailure::internal;
  std::string message;
  // The codec's error for framing, crc, exception (with its exception_code)
  // and request failures; empty for transport failures.
  std::optional<Error> modbus;
};

// The outcome of one read: a ReadResponse or a LinkError. Not
// modbus::Result: its ErrorCode has no names for transport failures
// (timeout, connect, io), and callers must tell those apart.
class ReadResult {
 public:
  ReadResult(ReadResponse response) : state_(std::move(response)) {}
  ReadResult(LinkError error) : state_(std::move(error)) {}

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // Only when ok().
  const ReadResponse& value() const& { return std::get<0>(state_); }
  ReadResponse&& value() && { return std::get<0>(std::move(state_)); }
  const ReadResponse* operator->() const { return &value(); }

  // Only when !ok().
  const LinkError& error() const { return std::get<1>(state_); }

 private:
  std::variant<ReadResponse, LinkError> state_;
};

class Link {
 public:
  using SteadyClock = std::chrono::steady_clock;

  struct Counters {
    std::uint64_t requests = 0;  // requests sent on the wire
    std::uint64_t not_sent = 0;  // given up before they went out: the link busy, or no room for a probe
    std::uint64_t timeouts = 0;
    std::uint64_t connect_failures = 0;
    std::uint64_t io_errors = 0;
    std::uint64_t framing_errors = 0;
    std::uint64_t crc_errors = 0;
    std::uint64_t exceptions = 0;
    std::uint64_t successes = 0;
    std::optional<std::chrono::system_clock::time_point> last_success;
  };

  Link(boost::asio::any_io_executor executor, std::chrono::milliseconds inter_request_delay);
  virtual ~Link();
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;

  // Reads `request` from `unit`, finished or failed by `deadline`. Waits its
  // turn behind earlier calls; the deadline covers the wait too, while
  // `answer_within` bounds only the exchange itself, from the moment the
  // turn comes: a device is not blamed for the time others held the link.
  // The link must outlive every read in progress.
  boost::asio::awaitable<ReadResult> read(
      std::uint8_t unit, ReadRequest request, SteadyClock::time_point deadline,
      SteadyClock::duration answer_within = SteadyClock::duration::max());
  // A probe: sent only when the planner finds `answer_within` (plus the
  // quiet time) free before any healthy device needs the link, and given up
  // unsent ("not probed") if no such gap comes before `deadline`.
  boost::asio::awaitable<ReadResult> probe(std::uint8_t unit, ReadRequest request,
                                           SteadyClock::time_point deadline,
                                           SteadyClock::duration answer_within);

  // The devices on this link and their polls, for the planner.
  void join(LinkPlanner::Member member, std::chrono::milliseconds interval);
  void leave(LinkPlanner::Member member);
  void poll_started(LinkPlanner::Member member);
  void poll_finished(LinkPlanner::Member member, bool healthy);

  // Drops the connection (closes the port); the next read opens it again.
  virtual void close() = 0;
  virtual bool connected() const = 0;
  // "tcp 10.0.0.5:502", "rtu /dev/ttyS1 19200 8E1": for logs and reasons.
  virtual std::string describe() const = 0;

  const Counters& counters() const { return counters_; }
  std::chrono::milliseconds inter_request_delay() const { return inter_request_delay_; }

 protected:
  // One request and its answer, with the turn held and the quiet time kept.
  // Calls count_request() when the request goes on the wire.
  virtual boost::asio::awaitable<ReadResult> exchange(std::uint8_t unit,
                                                      const ReadRequest& request,
                                                      SteadyClock::time_point deadline) = 0;
  // The least quiet time the medium itself needs between requests (RTU: the
  // 3.5-character silence); the link keeps the larger of this and the
  // configured delay.
  virtual std::chrono::nanoseconds medium_quiet() const { return {}; }

  void count_request() { ++counters_.requests; }
  // Counts a failure and makes its error.
  LinkError fail(LinkFailure failure, std::string message, std::optional<Error> modbus = {});

  const boost::asio::any_io_executor& executor() const { return executor_; }

 private:
  struct Waiter;
  class Turn;

  boost::asio::awaitable<bool> acquire(SteadyClock::time_point deadline,
                                       std::optional<SteadyClock::duration> probe_budget);
  boost::asio::awaitable<ReadResult> read_in_turn(std::uint8_t unit, const ReadRequest& request,
                                                  SteadyClock::time_point deadline,
                                                  SteadyClock::duration answer_within);
  std::chrono::nanoseconds quiet() const;
  bool probe_fits(SteadyClock::duration budget) const;
  void release();
  // Hands the free link to the next healthy caller, or else to a probe that fits.
  void dispatch();
  void recheck_later(SteadyClock::duration budget);

  boost::asio::any_io_executor executor_;
  std::chrono::milliseconds inter_request_delay_;
  std::optional<SteadyClock::time_point> last_request_end_;
  bool busy_ = false;
  std::deque<std::shared_ptr<Waiter>> waiters_;
  std::deque<std::shared_ptr<Waiter>> probes_;
  LinkPlanner planner_;
  // Wakes dispatch() when a waiting probe may fit by time alone; the token
  // tells its handler whether the link still exists.
  boost::asio::steady_timer recheck_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  Counters counters_;
};

}  // namespace rackwatch::modbus
