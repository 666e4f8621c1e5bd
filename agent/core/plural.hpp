// A count with its noun in the right number: "1 point", "3 points",
// "0 entries". For every message that prints how many of something.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace rackwatch {

// `nouns` is the plural when adding "s" is wrong ("entry", "entries").
inline std::string plural(std::uint64_t n, std::string_view noun, std::string_view nouns = {}) {
  std::string out = std::to_string(n) + " ";
  if (n == 1) return out.append(noun);
  if (!nouns.empty()) return out.append(nouns);
  return out.append(noun).append("s");
}

}  // namespace rackwatch
