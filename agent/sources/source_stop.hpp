// The sources' part of a clean stop of the agent: every source's stop(), all
// at once, each waited for at most its own timeout and all together at most
// a limit. A stop not done by then is left behind (the log says which): a
// device that does not answer never holds the agent's exit up.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include <boost/asio/awaitable.hpp>

namespace rackwatch {

class Source;

// Returns when every stop has ended or its time is up; never throws for a
// source's sake (a stop that throws is logged).
boost::asio::awaitable<void> stop_sources(std::vector<std::shared_ptr<Source>> sources,
                                          std::chrono::milliseconds limit);

}  // namespace rackwatch
