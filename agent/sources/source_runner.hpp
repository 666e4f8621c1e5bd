// Polls one source on wall-clock aligned ticks, each poll under the source's
// deadline, and hands every poll's readings on. One runner a source, all on
// the agent's executor; a slow source delays nobody but itself.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "sources/poll.hpp"
#include "core/reading.hpp"

namespace rackwatch {

class Source;

struct RunnerStats {
  std::uint64_t polls = 0;
  std::uint64_t timeouts = 0;
  std::uint64_t overruns = 0;  // ticks skipped because the previous poll still ran
  std::chrono::steady_clock::duration last_duration{};
  std::chrono::steady_clock::duration max_lateness{};  // tick → poll start
};

class SourceRunner {
 public:
  // Called on the executor after every tick, with one reading per point.
  using Deliver = std::function<void(TimePoint tick, std::vector<RawReading> readings)>;

  SourceRunner(boost::asio::any_io_executor executor, std::shared_ptr<Source> source,
               Deliver deliver);
  ~SourceRunner();
  SourceRunner(const SourceRunner&) = delete;
  SourceRunner& operator=(const SourceRunner&) = delete;

  void start();
  void stop();
  const RunnerStats& stats() const;
  const Source& source() const;

  // Polls the source now, outside its schedule, under its deadline; the
  // readings go to the caller, not to Deliver. Waits (within the deadline)
  // for a scheduled poll in progress; a tick that comes during this poll
  // waits for it in turn instead of counting an overrun.
  boost::asio::awaitable<PollOutcome> poll_now();

  struct State;  // shared with the polling coroutine, which may outlive a stop()

 private:
  std::shared_ptr<State> state_;
};

}  // namespace rackwatch
