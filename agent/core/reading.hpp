// What a source returns for a point (RawReading) and what the pipeline makes
// of it (Sample): a value in canonical units with a quality and a reason.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace rackwatch {

using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;

// Mirrors rackwatch.v1.Quality.
enum class Quality : std::uint8_t { unknown = 0, good = 1, bad = 2, uncertain = 3 };

std::string_view quality_name(Quality q);

// Whether a sample of this quality carries a value to use: good or
// uncertain. Bad and unknown (never read) have none.
inline bool has_value(Quality q) { return q == Quality::good || q == Quality::uncertain; }

// One point of one poll, as the device gave it: a raw number in the device's
// unit, or the reason there is none.
struct RawReading {
  double value = 0.0;
  std::string error;  // empty when the read succeeded
  TimePoint time{};

  bool ok() const { return error.empty(); }
  static RawReading success(double v, TimePoint t) { return {v, {}, t}; }
  static RawReading failure(std::string why, TimePoint t) { return {0.0, std::move(why), t}; }
};

// A conditioned reading: canonical unit, validated.
struct Sample {
  std::uint32_t point = 0;  // index into the agent's catalog
  double value = 0.0;       // 0 unless quality is good or uncertain
  Quality quality = Quality::unknown;
  std::string reason;       // why quality is not good
  TimePoint time{};
};

inline std::int64_t to_unix_ms(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace rackwatch
