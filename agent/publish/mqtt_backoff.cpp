#include "publish/mqtt_backoff.hpp"

#include <algorithm>

namespace rackwatch {

MqttBackoff::MqttBackoff(Millis min, Millis max, std::size_t brokers, std::uint64_t seed)
    : min_(std::max(min, Millis{1})),
      max_(std::max(max, min_)),
      brokers_(std::max<std::size_t>(brokers, 1)),
      rng_(seed) {}

MqttBackoff::Millis MqttBackoff::ceiling() const {
  // Doubling by steps, stopping at the cap, cannot overflow whatever the
  // number of waits.
  Millis ceiling = min_;
  for (unsigned i = 0; i <= waits_ && ceiling < max_; ++i) {
    ceiling = ceiling > max_ / 2 ? max_ : ceiling * 2;
  }
  return std::min(ceiling, max_);
}

MqttBackoff::Millis MqttBackoff::failed() {
  broker_ = (broker_ + 1) % brokers_;
  return draw();
}

MqttBackoff::Millis MqttBackoff::lost() { return draw(); }

void MqttBackoff::connected() { waits_ = 0; }

// "Full jitter" above a floor: uniform in [min, ceiling]. The floor keeps a
// dead broker from being hammered; drawing over the whole range (rather
// than near the ceiling) spreads the racks of a hall that all lost the same
// broker at the same instant, from the first retry on.
MqttBackoff::Millis MqttBackoff::draw() {
  const Millis high = ceiling();
  if (waits_ < 64) ++waits_;
  std::uniform_int_distribution<Millis::rep> pick(min_.count(), high.count());
  return Millis{pick(rng_)};
}

}  // namespace rackwatch
