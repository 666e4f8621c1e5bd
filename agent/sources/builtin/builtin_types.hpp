// The source types of this build: every protocol compiled in (see the
// RACKWATCH_WITH_<PROTOCOL> options in agent/sources/CMakeLists.txt).
// rackwatchd, rackwatch and the tests all take this one list, so that
// `rackwatch check-config` accepts exactly what the daemon can run.
#pragma once

#include "sources/registry.hpp"

namespace rackwatch {

const SourceTypes& builtin_source_types();

}  // namespace rackwatch
