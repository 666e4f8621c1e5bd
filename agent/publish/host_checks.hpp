// What `rackwatch check-config` and rackwatchd both verify beyond the file's
// own contents: that this host lets the agent do what the config asks. One
// function, so that the daemon refuses exactly what the check rejects.
#pragma once

#include "core/config.hpp"
#include "core/diagnostics.hpp"

namespace rackwatch {

// Adds a problem, at the config line that asks for it, for each thing this
// host will not allow (today: an outbox directory the agent cannot create or
// write). Returns true when there was none.
bool check_host(const Config& config, Diagnostics& diags);

}  // namespace rackwatch
