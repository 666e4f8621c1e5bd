#include "sources/poll.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <optional>

#include "core/log.hpp"
#include "core/plural.hpp"
#include "core/supervise.hpp"
#include "sources/source.hpp"

namespace rackwatch {

namespace asio = boost::asio;

std::vector<RawReading> failures_for(const Source& source, const std::string& reason, TimePoint t) {
  return std::vector<RawReading>(source.config().points.size(), RawReading::failure(reason, t));
}

asio::awaitable<PollOutcome> poll_with_deadline(std::shared_ptr<Source> source,
                                                std::chrono::milliseconds timeout,
                                                std::shared_ptr<bool> busy) {
  auto ex = co_await asio::this_coro::executor;
  struct Shared {
    explicit Shared(const asio::any_io_executor& e) : timer(e) {}
    asio::steady_timer timer;
    std::optional<std::vector<RawReading>> result;
    std::exception_ptr thrown;
    bool waiting = true;  // false once the deadline has passed
  };
  auto shared = std::make_shared<Shared>(ex);
  const auto start = std::chrono::steady_clock::now();
  shared->timer.expires_after(timeout);
  *busy = true;

  asio::co_spawn(
      ex,
      [source, shared, busy]() -> asio::awaitable<void> {
        std::vector<RawReading> readings;
        std::exception_ptr thrown;
        try {
          readings = co_await source->poll();
        } catch (...) {
          thrown = std::current_exception();
        }
        if (thrown) {
          const auto what = exception_text(thrown);
          readings = failures_for(*source, "poll failed: " + what, Clock::now());
          if (!shared->waiting) log::warning("source ", source->config().name, ": poll failed after its deadline: ", what);
        }
        const auto expected = source->config().points.size();
        if (readings.size() != expected) {
          readings = failures_for(*source,
                                  "source returned " + plural(readings.size(), "reading") + " for " +
                                      plural(expected, "point"),
                                  Clock::now());
        }
        *busy = false;
        shared->result = std::move(readings);
        shared->thrown = thrown;
        shared->timer.cancel();
      },
      [name = source->config().name](std::exception_ptr error) {
        // Only the bookkeeping above can throw (out of memory): say so.
        if (error) log::error("source ", name, ": poll bookkeeping failed: ", exception_text(error));
      });

  // The poll may already be done if it completed without suspending.
  if (!shared->result) co_await shared->timer.async_wait(asio::as_tuple(asio::use_awaitable));
  shared->waiting = false;

  PollOutcome out;
  out.took = std::chrono::steady_clock::now() - start;
  if (shared->result) {
    out.readings = std::move(*shared->result);
    out.thrown = shared->thrown;
  } else {
    out.timed_out = true;
    out.readings = failures_for(*source, "timeout: no answer within " +
                                             std::to_string(timeout.count()) + "ms",
                                Clock::now());
  }
  co_return out;
}

}  // namespace rackwatch
