#include "core/reading.hpp"

namespace rackwatch {

std::string_view quality_name(Quality q) {
  switch (q) {
    case Quality::unknown: return "unknown";
    case Quality::good: return "good";
    case Quality::bad: return "bad";
    case Quality::uncertain: return "uncertain";
  }
  return "unknown";
}

}  // namespace rackwatch
