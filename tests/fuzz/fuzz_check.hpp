// Property checks inside fuzz targets. A failed check aborts, which both
// libFuzzer and replay_main report as a crash of the input being run.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace rackwatch::fuzz {

inline void require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz check failed: %s\n", what);
  std::abort();
}

}  // namespace rackwatch::fuzz
