#include "sources/modbus/modbus_link.hpp"

#include <algorithm>
#include <exception>
#include <utility>

namespace rackwatch::modbus {

namespace asio = boost::asio;

std::string_view link_failure_name(LinkFailure failure) {
  switch (failure) {
    case LinkFailure::not_sent:
      return "not sent";
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

// A caller queued for the link. The timer is its wake-up: dispatch() hands
// over the turn by setting `granted` and cancelling it; expiry at the
// caller's deadline means it gave up. A probe carries the time it needs.
struct Link::Waiter {
  explicit Waiter(const asio::any_io_executor& executor) : timer(executor) {}
  asio::steady_timer timer;
  bool granted = false;
  SteadyClock::duration budget{};
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
    : executor_(std::move(executor)), inter_request_delay_(inter_request_delay), recheck_(executor_) {}

Link::~Link() {
  *alive_ = false;
  recheck_.cancel();
}

LinkError Link::fail(LinkFailure failure, std::string message, std::optional<Error> modbus) {
  switch (failure) {
    case LinkFailure::not_sent:
      ++counters_.not_sent;
      break;
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

std::chrono::nanoseconds Link::quiet() const {
  return std::max<std::chrono::nanoseconds>(inter_request_delay_, medium_quiet());
}

bool Link::probe_fits(SteadyClock::duration budget) const {
  return planner_.probe_fits(Clock::now(), budget + std::chrono::duration_cast<SteadyClock::duration>(quiet()));
}

void Link::join(LinkPlanner::Member member, std::chrono::milliseconds interval) {
  planner_.join(member, interval, Clock::now());
}

void Link::leave(LinkPlanner::Member member) {
  planner_.leave(member);
  dispatch();
}

void Link::poll_started(LinkPlanner::Member member) { planner_.started(member, Clock::now()); }

void Link::poll_finished(LinkPlanner::Member member, bool healthy) {
  planner_.finished(member, healthy);
  dispatch();
}

asio::awaitable<bool> Link::acquire(SteadyClock::time_point deadline,
                                    std::optional<SteadyClock::duration> probe_budget) {
  if (!busy_ && (!probe_budget || (waiters_.empty() && probe_fits(*probe_budget)))) {
    busy_ = true;
    co_return true;
  }
  auto waiter = std::make_shared<Waiter>(executor_);
  waiter->timer.expires_at(deadline);
  if (probe_budget) waiter->budget = *probe_budget;
  (probe_budget ? probes_ : waiters_).push_back(waiter);
  if (probe_budget) dispatch();  // a free link: arms the look again for when it may fit
  co_await waiter->timer.async_wait(use_tuple);
  // Granted even if the timer had already expired: the turn is ours now,
  // and the exchange itself fails at once when the deadline has passed.
  if (waiter->granted) co_return true;
  std::erase(waiters_, waiter);
  std::erase(probes_, waiter);
  co_return false;
}

void Link::release() {
  busy_ = false;
  dispatch();
}

void Link::dispatch() {
  if (busy_) return;
  std::shared_ptr<Waiter> next;
  if (!waiters_.empty()) {
    next = std::move(waiters_.front());
    waiters_.pop_front();
  } else if (!probes_.empty() && probe_fits(probes_.front()->budget)) {
    next = std::move(probes_.front());
    probes_.pop_front();
  } else {
    if (!probes_.empty()) recheck_later(probes_.front()->budget);
    return;
  }
  busy_ = true;
  next->granted = true;
  next->timer.cancel();
}

// A probe waits for a gap that time alone may open (a healthy device's
// runner late past its grace): look again then.
void Link::recheck_later(SteadyClock::duration budget) {
  const auto now = Clock::now();
  const auto at = planner_.recheck_at(now, budget + std::chrono::duration_cast<SteadyClock::duration>(quiet()));
  if (!at) return;
  recheck_.expires_after(*at - now);
  recheck_.async_wait([this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
    const auto link = alive.lock();
    if (ec || !link || !*link) return;
    dispatch();
  });
}

asio::awaitable<ReadResult> Link::read(std::uint8_t unit, ReadRequest request,
                                       SteadyClock::time_point deadline,
                                       SteadyClock::duration answer_within) {
  try {
    if (!co_await acquire(deadline, std::nullopt)) {
      co_return fail(LinkFailure::not_sent, "timeout: " + describe() + " was busy until the deadline");
    }
    co_return co_await read_in_turn(unit, request, deadline, answer_within);
  } catch (const std::exception& e) {
    // Only resource exhaustion or a bug gets here; the connection's state is
    // unknown, so it is dropped.
    close();
    co_return fail(LinkFailure::internal, "modbus " + describe() + ": " + e.what());
  }
}

asio::awaitable<ReadResult> Link::probe(std::uint8_t unit, ReadRequest request,
                                        SteadyClock::time_point deadline,
                                        SteadyClock::duration answer_within) {
  try {
    if (!co_await acquire(deadline, answer_within)) {
      co_return fail(LinkFailure::not_sent, "not probed: " + describe() +
                                               " had no idle time between the polls of its answering devices "
                                               "before the deadline");
    }
    co_return co_await read_in_turn(unit, request, deadline, answer_within);
  } catch (const std::exception& e) {
    close();
    co_return fail(LinkFailure::internal, "modbus " + describe() + ": " + e.what());
  }
}

// With the turn held: the quiet time, then the exchange.
asio::awaitable<ReadResult> Link::read_in_turn(std::uint8_t unit, const ReadRequest& request,
                                               SteadyClock::time_point deadline,
                                               SteadyClock::duration answer_within) {
  Turn turn(*this);
  const auto gap = quiet();
  if (gap.count() > 0 && last_request_end_) {
    const auto ready = *last_request_end_ + std::chrono::duration_cast<SteadyClock::duration>(gap);
    if (ready > SteadyClock::now()) {
      asio::steady_timer timer(executor_, std::min(ready, deadline));
      co_await timer.async_wait(use_tuple);
      if (ready > deadline) {
        co_return fail(LinkFailure::not_sent, "timeout: the quiet time between requests ends after the deadline");
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
}

}  // namespace rackwatch::modbus
