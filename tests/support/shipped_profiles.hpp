// The device profiles shipped in config/profiles/ of one protocol, and the
// diagnostics of a refused file as lines, for the tests of profiles.
#pragma once

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "core/diagnostics.hpp"
#include "sources/profile_file.hpp"

namespace rackwatch::test {

inline std::vector<std::filesystem::path> shipped_profiles(ProfileKind kind) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(RACKWATCH_SOURCE_DIR) /
                                                           "config/profiles")) {
    if (e.path().extension() == ".yaml" && profile_kind(e.path().string()) == kind) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// "FILE:LINE:COL: message" a line.
inline std::string lines_of(const Diagnostics& d) {
  std::string out;
  for (const auto& i : d.items()) out += format_mark(i.mark) + ": " + i.message + "\n";
  return out;
}

}  // namespace rackwatch::test
