// One poll of one source with a deadline. A source that does not answer in
// time yields a failure for each of its points at the deadline; its late poll
// finishes in the background and is discarded.
#pragma once

#include <chrono>
#include <exception>
#include <memory>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "core/reading.hpp"

namespace rackwatch {

class Source;

struct PollOutcome {
  std::vector<RawReading> readings;  // one per point, in config order
  bool timed_out = false;
  std::chrono::steady_clock::duration took{};
  // Source::poll() threw, against its contract: the readings are failures
  // saying so, and the caller decides what else to do with it.
  std::exception_ptr thrown;
};

// `busy` is true from the start of the poll until the source's own poll
// returns, which may be after the deadline. A poll that throws after its
// deadline is logged, as nobody waits for it any more.
boost::asio::awaitable<PollOutcome> poll_with_deadline(std::shared_ptr<Source> source,
                                                       std::chrono::milliseconds timeout,
                                                       std::shared_ptr<bool> busy);

// A failure for every point of `source`, all with the same reason.
std::vector<RawReading> failures_for(const Source& source, const std::string& reason, TimePoint t);

}  // namespace rackwatch
