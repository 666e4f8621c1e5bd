#include "sources/modbus/modbus_link.hpp"

#include <algorithm>
#include <exception>
#include <utility>

namespace rackwatch::modbus {

namespace asio = boost::asio;

std::string_view link_failure_name(LinkFailure failure) {
  switch (failure) {
    case LinkFailure::timeout:
      return "timeout";
    case LinkFailure::connect:
      return "connect";
    case LinkFailure::io:
      return "io";
    case LinkFailure::framing:
      return "framing";
    case LinkFailure::crc:
      return "crc";
    case LinkFailure::exception:
      return "exception";
    case LinkFailure::request:
      return "request";
    case LinkFailure::internal:
      return "internal";
  }
  return "unknown";
}

// A caller queued for the link. The timer is its wake-up: release() hands
// over the turn by setting `granted` and cancelling it; expiry at the
// caller's deadline means it gave up.
struct Link::Waiter {
  explicit Waiter(const asio::any_io_executor& executor) : timer(executor) {}
  asio::steady_timer timer;
  bool granted = false;
};

// Holds the link for one read and passes it on however the read ends.
class Link::Turn {
 public:
  explicit Turn(Link& link) : link_(link) {}
  ~Turn() { link_.release(); }
  Turn(const Turn&) = delete;
  Turn& operator=(const Turn&) = delete;

 private:
  Link& link_;
};

Link::Link(asio::any_io_executor executor, std::chrono::milliseconds inter_request_delay)
    : executor_(std::move(executor)), inter_request_delay_(inter_request_delay) {}

LinkError Link::fail(LinkFailure failure, std::string message, std::optional<Error> modbus) {
  switch (failure) {
    case LinkFailure::timeout:
      ++counters_.timeouts;
      break;
    case LinkFailure::connect:
      ++counters_.connect_failures;
      break;
    case LinkFailure::io:
      ++counters_.io_errors;
      break;
    case LinkFailure::framing:
      ++counters_.framing_errors;
      break;
    case LinkFailure::crc:
      ++counters_.crc_errors;
      break;
    case LinkFailure::exception:
      ++counters_.exceptions;
      break;
    case LinkFailure::request:
    case LinkFailure::internal:
      break;
  }
  return LinkError{failure, std::move(message), std::move(modbus)};
}

asio::awaitable<bool> Link::acquire(SteadyClock::time_point deadline) {
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

void Link::release() {
  if (waiters_.empty()) {
    busy_ = false;
    return;
  }
  auto next = std::move(waiters_.front());
  waiters_.pop_front();
  next->granted = true;
  next->timer.cancel();
}

asio::awaitable<ReadResult> Link::read(std::uint8_t unit, ReadRequest request,
                                       SteadyClock::time_point deadline,
                                       SteadyClock::duration answer_within) {
  try {
    if (!co_await acquire(deadline)) {
      co_return fail(LinkFailure::timeout, "timeout: " + describe() + " was busy until the deadline");
    }
    Turn turn(*this);

    const auto quiet = std::max<std::chrono::nanoseconds>(inter_request_delay_, medium_quiet());
    if (quiet.count() > 0 && last_request_end_) {
      const auto ready =
          *last_request_end_ + std::chrono::duration_cast<SteadyClock::duration>(quiet);
      if (ready > SteadyClock::now()) {
        asio::steady_timer timer(executor_, std::min(ready, deadline));
        co_await timer.async_wait(use_tuple);
        if (ready > deadline) {
          co_return fail(LinkFailure::timeout, "timeout: the quiet time between requests ends after the deadline");
        }
      }
    }

    const auto now = SteadyClock::now();
    if (answer_within < deadline - now) deadline = now + answer_within;
    ReadResult result = co_await exchange(unit, request, deadline);
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
    co_return fail(LinkFailure::internal, "modbus " + describe() + ": " + e.what());
  }
}

}  // namespace rackwatch::modbus
