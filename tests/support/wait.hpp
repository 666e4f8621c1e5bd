// Bounded polling for integration tests: wait for a condition that another
// thread or process makes true, never longer than a deadline.
#pragma once

#include <chrono>
#include <thread>

namespace rackwatch::test {

// Polls `pred` every `poll_interval` until it returns true (→ true) or
// `timeout` has passed (→ false, after one last check). Use it to wait for a
// state, never as a sleep: the assertion is on the returned bool.
template <class Pred>
bool wait_until(Pred&& pred, std::chrono::milliseconds timeout,
                std::chrono::milliseconds poll_interval = std::chrono::milliseconds{10}) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return pred();
    std::this_thread::sleep_for(poll_interval);
  }
  return true;
}

}  // namespace rackwatch::test
