#include "sources/source_stop.hpp"

#include <algorithm>
#include <optional>
#include <string>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/log.hpp"
#include "core/supervise.hpp"
#include "sources/source.hpp"

namespace rackwatch {

namespace asio = boost::asio;
using SteadyClock = std::chrono::steady_clock;

namespace {

struct Stopping {
  explicit Stopping(const asio::any_io_executor& ex, std::size_t n) : timer(ex), done(n, false) {}
  asio::steady_timer timer;  // the waiter's; cancelled by each stop that ends
  std::vector<bool> done;
};

// A named coroutine, not a lambda (GCC 12 and co_spawn): one source's stop.
asio::awaitable<void> stop_one(std::shared_ptr<Source> source, std::shared_ptr<Stopping> st, std::size_t i) {
  try {
    co_await source->stop();
  } catch (...) {
    log::warning("source ", source->config().name, ": stopping failed: ", exception_text(std::current_exception()));
  }
  st->done[i] = true;
  st->timer.cancel();
}

void stop_failed(std::exception_ptr error) {
  if (error) log::error("stopping a source failed: ", exception_text(error));
}

}  // namespace

asio::awaitable<void> stop_sources(std::vector<std::shared_ptr<Source>> sources, std::chrono::milliseconds limit) {
  auto ex = co_await asio::this_coro::executor;
  auto st = std::make_shared<Stopping>(ex, sources.size());
  const auto start = SteadyClock::now();
  std::vector<SteadyClock::time_point> until;
  until.reserve(sources.size());
  for (std::size_t i = 0; i < sources.size(); ++i) {
    until.push_back(start + std::min(sources[i]->config().timeout, limit));
    asio::co_spawn(ex, stop_one(sources[i], st, i), stop_failed);
  }
  for (;;) {
    // As long as the latest of the stops still running may take.
    std::optional<SteadyClock::time_point> wait;
    const auto now = SteadyClock::now();
    for (std::size_t i = 0; i < sources.size(); ++i) {
      if (!st->done[i] && until[i] > now) wait = std::max(wait.value_or(until[i]), until[i]);
    }
    if (!wait) break;
    st->timer.expires_at(*wait);
    co_await st->timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  for (std::size_t i = 0; i < sources.size(); ++i) {
    if (st->done[i]) continue;
    log::warning("source ", sources[i]->config().name, ": its stop did not end within ",
                 std::chrono::duration_cast<std::chrono::milliseconds>(until[i] - start).count(),
                 "ms; stopping without it");
  }
}

}  // namespace rackwatch
