#include "pipeline/condition.hpp"

#include <cmath>
#include <sstream>

namespace rackwatch {
namespace {

std::string number_text(double v) {
  std::ostringstream out;
  out.precision(10);
  out << v;
  return out.str();
}

Sample bad(std::uint32_t index, TimePoint time, std::string why) {
  return Sample{index, 0.0, Quality::bad, std::move(why), time};
}

}  // namespace

Sample condition(const PointConfig& point, std::uint32_t index, const RawReading& raw) {
  if (!raw.ok()) return bad(index, raw.time, raw.error);
  for (double sentinel : point.invalid) {
    if (raw.value == sentinel) {
      return bad(index, raw.time, "device reports no value (" + number_text(raw.value) + ")");
    }
  }
  if (!std::isfinite(raw.value)) {
    return bad(index, raw.time, std::isnan(raw.value) ? "not a number" : "infinite value");
  }
  const double scaled = raw.value * point.scale + point.offset;
  const double value = scaled * point.from.factor + point.from.offset;
  if (!std::isfinite(value)) return bad(index, raw.time, "value overflows after scaling");
  if (point.min && value < *point.min) {
    return bad(index, raw.time,
               "below range: " + number_text(value) + " < " + number_text(*point.min));
  }
  if (point.max && value > *point.max) {
    return bad(index, raw.time,
               "above range: " + number_text(value) + " > " + number_text(*point.max));
  }
  return Sample{index, value, Quality::good, {}, raw.time};
}

}  // namespace rackwatch
