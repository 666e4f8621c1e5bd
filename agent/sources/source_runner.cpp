#include "sources/source_runner.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/system_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/log.hpp"
#include "core/schedule.hpp"
#include "sources/poll.hpp"
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
  bool on_demand = false;  // the poll in progress was asked for, not scheduled
  bool stopped = false;
  RunnerStats stats;
};

namespace {

// Waits, in short steps, until no poll of the source runs or `until`.
asio::awaitable<void> wait_idle(SourceRunner::State& st, TimePoint until) {
  asio::system_timer pause(st.executor);
  while (*st.busy && Clock::now() < until && !st.stopped) {
    pause.expires_after(std::chrono::milliseconds(10));
    co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

asio::awaitable<void> run(std::shared_ptr<SourceRunner::State> st) {
  const auto& cfg = st->source->config();
  while (!st->stopped) {
    const auto tick = next_tick(Clock::now(), cfg.interval);
    st->timer.expires_at(tick);
    co_await st->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (st->stopped) break;
    const auto late = Clock::now() - tick;
    if (late > st->stats.max_lateness) st->stats.max_lateness = late;
    if (*st->busy && st->on_demand) {
      co_await wait_idle(*st, Clock::now() + cfg.timeout);
    }
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

asio::awaitable<PollOutcome> SourceRunner::poll_now() {
  auto st = state_;  // the runner may be destroyed while this runs
  const auto& cfg = st->source->config();
  co_await wait_idle(*st, Clock::now() + cfg.timeout);
  if (*st->busy) {
    PollOutcome busy;
    busy.readings = failures_for(*st->source, "a poll of this source is still running", Clock::now());
    busy.timed_out = true;
    co_return busy;
  }
  st->on_demand = true;
  auto outcome = co_await poll_with_deadline(st->source, cfg.timeout, st->busy);
  st->on_demand = false;
  co_return outcome;
}

}  // namespace rackwatch
