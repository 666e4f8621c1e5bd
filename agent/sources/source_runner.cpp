#include "sources/source_runner.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/system_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/log.hpp"
#include "core/schedule.hpp"
#include "core/supervise.hpp"
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
  Moment woke = Moment::now();  // the loop's last start, or wake for a tick
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

// A poll with one good reading proves the device alive.
void note_success(SourceRunner::State& st, const PollOutcome& outcome) {
  for (const auto& r : outcome.readings) {
    if (r.ok()) {
      st.stats.last_success = Clock::now();
      return;
    }
  }
}

// Hands a tick's readings on. When Deliver throws, what it made of them is
// unknown: the tick is delivered again as failed, so that none of its values
// is shown, and the exception goes on to the supervisor.
void deliver_tick(SourceRunner::State& st, TimePoint tick, std::vector<RawReading> readings) {
  try {
    st.deliver(tick, std::move(readings));
  } catch (...) {
    const auto what = exception_text(std::current_exception());
    try {
      st.deliver(tick, failures_for(*st.source, "processing failed: " + what, Clock::now()));
    } catch (...) {
      log::error("source ", st.source->config().name, ": marking the failed tick failed too: ",
                 exception_text(std::current_exception()));
    }
    throw;
  }
}

asio::awaitable<void> run(std::shared_ptr<SourceRunner::State> st) {
  const auto& cfg = st->source->config();
  st->woke = Moment::now();
  std::optional<TimePoint> last_tick;
  while (!st->stopped) {
    const auto tick = next_tick(Clock::now(), cfg.interval);
    if (last_tick && tick - *last_tick > cfg.interval) {
      st->stats.missed_ticks += static_cast<std::uint64_t>((tick - *last_tick) / cfg.interval) - 1;
    }
    last_tick = tick;
    st->timer.expires_at(tick);
    co_await st->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (st->stopped) break;
    st->woke = Moment::now();
    const auto late = Clock::now() - tick;
    if (late > st->stats.max_lateness) st->stats.max_lateness = late;
    if (*st->busy && st->on_demand) {
      co_await wait_idle(*st, Clock::now() + cfg.timeout);
    }
    if (*st->busy) {
      ++st->stats.overruns;
      deliver_tick(*st, tick, failures_for(*st->source, "previous poll still running (device not answering)",
                                           Clock::now()));
      continue;
    }
    auto outcome = co_await poll_with_deadline(st->source, cfg.timeout, st->busy);
    if (st->stopped) break;
    ++st->stats.polls;
    st->stats.last_duration = outcome.took;
    note_success(*st, outcome);
    if (outcome.timed_out) {
      ++st->stats.timeouts;
      log::warning("source ", cfg.name, ": no answer within ", cfg.timeout.count(), "ms");
    }
    deliver_tick(*st, tick, std::move(outcome.readings));
    // Source::poll() must not throw: a source that did may be in a state
    // its own code did not foresee, so its loop starts afresh after a pause.
    if (outcome.thrown) std::rethrow_exception(outcome.thrown);
  }
}

}  // namespace

SourceRunner::SourceRunner(asio::any_io_executor executor, std::shared_ptr<Source> source,
                           Deliver deliver, RestartPolicy restart)
    : state_(std::make_shared<State>(executor, std::move(source), std::move(deliver))),
      loop_(executor, "source " + state_->source->config().name, "poll loop",
            [st = state_] { return run(st); }, restart) {}

SourceRunner::~SourceRunner() { stop(); }

void SourceRunner::start() { loop_.start(); }

void SourceRunner::stop() {
  state_->stopped = true;
  state_->timer.cancel();
  loop_.stop();
}

const RunnerStats& SourceRunner::stats() const { return state_->stats; }

const RestartStats& SourceRunner::restarts() const { return loop_.stats(); }

std::optional<RunnerProgress> SourceRunner::progress() const {
  if (state_->stopped) return std::nullopt;
  const auto& cfg = state_->source->config();
  return RunnerProgress{cfg.name, cfg.interval, cfg.timeout, state_->woke, loop_.stats().restart_due};
}

const Source& SourceRunner::source() const { return *state_->source; }

std::shared_ptr<Source> SourceRunner::shared_source() const { return state_->source; }

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
  note_success(*st, outcome);
  // Asked for by an operator, who sees the reason in the readings; the
  // scheduled loop is not restarted for it.
  if (outcome.thrown) log::error("source ", cfg.name, ": on-demand poll failed: ", exception_text(outcome.thrown));
  co_return outcome;
}

}  // namespace rackwatch
