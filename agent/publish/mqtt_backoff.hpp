// Reconnect pacing of the MQTT session: which broker of the list to try next
// and how long to wait before trying. Pure and seedable, so it is unit-tested
// without a broker or a clock.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <random>

namespace rackwatch {

class MqttBackoff {
 public:
  using Millis = std::chrono::milliseconds;

  // `min` is the shortest wait, `max` the longest; `brokers` the length of
  // the broker list (at least 1 is assumed). Equal seeds give equal waits.
  MqttBackoff(Millis min, Millis max, std::size_t brokers, std::uint64_t seed);

  // Index of the broker the next attempt goes to. Starts at 0.
  std::size_t broker() const { return broker_; }

  // Upper bound of the next wait: min·2^(n+1) after n waits since the last
  // success, capped at max.
  Millis ceiling() const;

  // The attempt on broker() failed: move on to the next broker (in list
  // order, wrapping) and return the wait before trying it.
  Millis failed();

  // The connection to broker() was lost: stay on it (it worked a moment ago
  // and is the preferred one) and return the wait before trying again.
  Millis lost();

  // Connected: the next wait starts from the floor again.
  void connected();

 private:
  Millis draw();

  Millis min_;
  Millis max_;
  std::size_t brokers_;
  std::size_t broker_ = 0;
  unsigned waits_ = 0;  // waits since the last success
  std::mt19937_64 rng_;
};

}  // namespace rackwatch
