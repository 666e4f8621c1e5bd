// Supervised: runs one long-lived coroutine of a component so that it never
// ends silently. An exception is logged with the component's name, counted,
// and the coroutine started again after a back-off, until stop().
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "core/reading.hpp"

namespace rackwatch {

struct RestartPolicy {
  std::chrono::milliseconds first{1'000};     // the wait after a first failure
  std::chrono::milliseconds max{60'000};      // doubling stops here
  std::chrono::milliseconds healthy{60'000};  // a run this long counts as recovered
};

// The wait before restarting a coroutine that failed after running for
// `ran`: `first` when it is the first failure (`previous` zero) or the run
// was healthy, else twice `previous`, at most `max`.
std::chrono::milliseconds restart_delay(std::chrono::milliseconds previous,
                                        std::chrono::steady_clock::duration ran,
                                        const RestartPolicy& policy);

// The failures of one supervised component, for status and AgentStatus.
struct RestartStats {
  std::uint64_t restarts = 0;  // failures, each followed by a restart after the back-off
  std::string last_error;      // what the last failure threw
  TimePoint last_failure{};
  // While waiting out a back-off: when the coroutine starts again.
  std::optional<std::chrono::steady_clock::time_point> restart_due;
};

// An exception's what(), or a line saying it was of no standard type.
std::string exception_text(const std::exception_ptr& error);

class Supervised {
 public:
  using Body = std::function<boost::asio::awaitable<void>()>;

  // `component` names it in the log ("source pdu1"); `activity` is what
  // failed ("poll loop"). `body` makes the coroutine, once a start.
  Supervised(boost::asio::any_io_executor executor, std::string component, std::string activity, Body body,
             RestartPolicy policy = {});
  ~Supervised();
  Supervised(const Supervised&) = delete;
  Supervised& operator=(const Supervised&) = delete;

  void start();
  // No restart after this; one waiting out its back-off is cancelled. Ending
  // the running coroutine is its owner's business.
  void stop();

  const std::string& component() const;
  const RestartStats& stats() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace rackwatch
