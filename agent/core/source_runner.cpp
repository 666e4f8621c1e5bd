#include "core/source_runner.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/system_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/log.hpp"
#include "core/poll.hpp"
#include "core/schedule.hpp"
#include "sources/source.hpp"

namespace rackwatch {

namespace asio = boost::asio;

struct SourceRunner::State {
  State(asio::any_io_executor ex, std::shared_ptr<Source> s, Deliver d)
      : executor(ex), timer(ex), source(std::move(s)), deliver(std::move(d)) {}
  asio::any_io_executor executor;
  asio::system_timer timer;  // wall clock: ticks are multiples of the interval since the epoch
  std::shared_ptr<Source> source;
  Deliver deliver;
  std::shared_ptr<bool> busy = std::make_shared<bool>(false);
  bool stopped = false;
  RunnerStats stats;
};

namespace {

asio::awaitable<void> run(std::shared_ptr<SourceRunner::State> st) {
  const auto& cfg = st->source->config();
  while (!st->stopped) {
    const auto tick = next_tick(Clock::now(), cfg.interval);
    st->timer.expires_at(tick);
    co_await st->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (st->stopped) break;
    const auto late = Clock::now() - tick;
    if (late > st->stats.max_lateness) st->stats.max_lateness = late;
    if (*st->busy) {
      ++st->stats.overruns;
      st->deliver(tick, failures_for(*st->source, "previous poll still running (device not answering)",
                                     Clock::now()));
      continue;
    }
    auto outcome = co_await poll_with_deadline(st->source, cfg.timeout, st->busy);
    if (st->stopped) break;
    ++st->stats.polls;
    st->stats.last_duration = outcome.took;
    if (outcome.timed_out) {
      ++st->stats.timeouts;
      log::warning("source ", cfg.name, ": no answer within ", cfg.timeout.count(), "ms");
    }
    st->deliver(tick, std::move(outcome.readings));
  }
}

}  // namespace

SourceRunner::SourceRunner(asio::any_io_executor executor, std::shared_ptr<Source> source,
                           Deliver deliver)
    : state_(std::make_shared<State>(executor, std::move(source), std::move(deliver))) {}

SourceRunner::~SourceRunner() { stop(); }

void SourceRunner::start() {
  asio::co_spawn(state_->executor, run(state_), asio::detached);
}

void SourceRunner::stop() {
  state_->stopped = true;
  state_->timer.cancel();
}

const RunnerStats& SourceRunner::stats() const { return state_->stats; }

const Source& SourceRunner::source() const { return *state_->source; }

}  // namespace rackwatch
