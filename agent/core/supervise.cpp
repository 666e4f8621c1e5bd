#include "core/supervise.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/log.hpp"

namespace rackwatch {

namespace asio = boost::asio;
using SteadyClock = std::chrono::steady_clock;

std::chrono::milliseconds restart_delay(std::chrono::milliseconds previous, SteadyClock::duration ran,
                                        const RestartPolicy& policy) {
  if (previous.count() <= 0 || ran >= policy.healthy) return policy.first;
  return std::min(previous * 2, policy.max);
}

std::string exception_text(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "an exception of no standard type";
  }
}

struct Supervised::State {
  State(asio::any_io_executor ex, std::string c, std::string a, Body b, RestartPolicy p)
      : executor(ex), component(std::move(c)), activity(std::move(a)), body(std::move(b)), policy(p), timer(ex) {}
  asio::any_io_executor executor;
  std::string component;
  std::string activity;
  Body body;
  RestartPolicy policy;
  asio::steady_timer timer;  // the back-off
  RestartStats stats;
  std::chrono::milliseconds delay{0};
  SteadyClock::time_point started{};
  bool stopped = false;
};

namespace {

std::string delay_text(std::chrono::milliseconds d) {
  return d.count() % 1000 == 0 ? std::to_string(d.count() / 1000) + "s" : std::to_string(d.count()) + "ms";
}

void launch(const std::shared_ptr<Supervised::State>& st);

void on_exit(const std::shared_ptr<Supervised::State>& st, const std::exception_ptr& error) {
  if (!error) {
    if (!st->stopped) log::warning(st->component, ": ", st->activity, " ended without being stopped");
    return;
  }
  const auto what = exception_text(error);
  if (st->stopped) {
    log::warning(st->component, ": ", st->activity, " failed while stopping: ", what);
    return;
  }
  st->delay = restart_delay(st->delay, SteadyClock::now() - st->started, st->policy);
  auto& stats = st->stats;
  ++stats.restarts;
  stats.last_error = what;
  stats.last_failure = Clock::now();
  stats.restart_due = SteadyClock::now() + st->delay;
  log::error(st->component, ": ", st->activity, " failed: ", what, "; restarting in ", delay_text(st->delay));
  st->timer.expires_after(st->delay);
  st->timer.async_wait([st](const boost::system::error_code& ec) {
    if (ec || st->stopped) return;
    launch(st);
  });
}

void launch(const std::shared_ptr<Supervised::State>& st) {
  st->started = SteadyClock::now();
  st->stats.restart_due.reset();
  // Made inside the coroutine, so that a body that throws before its first
  // suspension reaches the handler too.
  asio::co_spawn(
      st->executor, [st]() -> asio::awaitable<void> { co_await st->body(); },
      [st](std::exception_ptr error) { on_exit(st, error); });
}

}  // namespace

Supervised::Supervised(asio::any_io_executor executor, std::string component, std::string activity, Body body,
                       RestartPolicy policy)
    : state_(std::make_shared<State>(executor, std::move(component), std::move(activity), std::move(body),
                                     policy)) {}

Supervised::~Supervised() { stop(); }

void Supervised::start() {
  if (!state_->stopped) launch(state_);
}

void Supervised::stop() {
  state_->stopped = true;
  state_->stats.restart_due.reset();
  state_->timer.cancel();
}

const std::string& Supervised::component() const { return state_->component; }

const RestartStats& Supervised::stats() const { return state_->stats; }

}  // namespace rackwatch
