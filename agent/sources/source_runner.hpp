// Polls one source on wall-clock aligned ticks, each poll under the source's
// deadline, and hands every poll's readings on. One runner a source, all on
// the agent's executor; a slow source delays nobody but itself. Its loop is
// supervised: an exception is logged, counted and the loop restarted.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "core/progress.hpp"
#include "sources/poll.hpp"
#include "core/reading.hpp"
#include "core/supervise.hpp"

namespace rackwatch {

class Source;

struct RunnerStats {
  std::uint64_t polls = 0;
  std::uint64_t timeouts = 0;
  std::uint64_t overruns = 0;  // ticks skipped because the previous poll still ran
  // Ticks that passed with no poll at all: the loop woke after its next
  // tick was already gone (the controller was busy or suspended, or a poll
  // ran past the interval).
  std::uint64_t missed_ticks = 0;
  std::chrono::steady_clock::duration last_duration{};
  std::chrono::steady_clock::duration max_lateness{};  // tick → poll start
  // The end of the last poll in which the device gave at least one reading,
  // scheduled or on demand: known for every source type, whether or not it
  // keeps a health of its own.
  std::optional<TimePoint> last_success;
};

class SourceRunner {
 public:
  // Called on the executor after every tick, with one reading per point.
  using Deliver = std::function<void(TimePoint tick, std::vector<RawReading> readings)>;

  // A poll that throws, or a Deliver that throws, fails the tick (its
  // points are delivered as failed, with the reason) and restarts the loop
  // after the `restart` back-off.
  SourceRunner(boost::asio::any_io_executor executor, std::shared_ptr<Source> source,
               Deliver deliver, RestartPolicy restart = {});
  ~SourceRunner();
  SourceRunner(const SourceRunner&) = delete;
  SourceRunner& operator=(const SourceRunner&) = delete;

  void start();
  void stop();
  const RunnerStats& stats() const;
  const RestartStats& restarts() const;
  const Source& source() const;
  // The same source, for what may outlive the runner (its stop at the end).
  std::shared_ptr<Source> shared_source() const;
  // For the watchdog; nothing once stopped.
  std::optional<RunnerProgress> progress() const;

  // Polls the source now, outside its schedule, under its deadline; the
  // readings go to the caller, not to Deliver. Waits (within the deadline)
  // for a scheduled poll in progress; a tick that comes during this poll
  // waits for it in turn instead of counting an overrun.
  boost::asio::awaitable<PollOutcome> poll_now();

  struct State;  // shared with the polling coroutine, which may outlive a stop()

 private:
  std::shared_ptr<State> state_;
  Supervised loop_;
};

}  // namespace rackwatch
