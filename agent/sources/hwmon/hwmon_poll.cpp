#include "sources/hwmon/hwmon_poll.hpp"

#include <cerrno>

#include "sources/hwmon/hwmon_read.hpp"

namespace rackwatch {
namespace {

RawReading to_reading(const IntegerRead& read) {
  if (read.value) return RawReading::success(*read.value, Clock::now());
  return RawReading::failure(read.reason, Clock::now());
}

RawReading poll_point(const HwmonSelector& selector, std::optional<HwmonLocation>& cached,
                      HwmonTree& tree) {
  // A cached place is checked against the chip's name (and label) each poll:
  // after a driver reload the same hwmonN may hold another chip, whose file
  // would read without error but give the wrong value.
  if (cached && !tree.is_current(*cached)) cached.reset();
  const bool fresh = !cached;
  if (fresh) {
    auto resolution = tree.resolve(selector);
    if (!resolution.location) return RawReading::failure(resolution.error, Clock::now());
    cached = std::move(resolution.location);
  }
  auto read = read_integer_file(cached->file);
  if (read.error == ENOENT && !fresh) {
    // The tree changed under the cache in a way the name check did not see.
    auto resolution = tree.resolve(selector);
    if (!resolution.location) {
      cached.reset();
      return RawReading::failure(resolution.error, Clock::now());
    }
    cached = std::move(resolution.location);
    read = read_integer_file(cached->file);
  }
  return to_reading(read);
}

}  // namespace

HwmonPollResult poll_hwmon(const HwmonSettings& settings, HwmonCache cache) {
  cache.resize(settings.points.size());
  HwmonTree tree(settings.root);
  HwmonPollResult result;
  result.readings.reserve(settings.points.size());
  for (std::size_t i = 0; i < settings.points.size(); ++i) {
    result.readings.push_back(poll_point(settings.points[i], cache[i], tree));
  }
  result.cache = std::move(cache);
  return result;
}

}  // namespace rackwatch
