// What `rackwatch top` draws: one frame of the agent's state and latest
// values, fitted to the terminal (at most 100 columns), coloured by state
// and quality when asked. Pure, so it is tested without a terminal.
#pragma once

#include <cstdint>
#include <string>

#include "rackwatch/v1/diag.pb.h"

namespace rackwatch::cli {

struct TopFrame {
  const v1::AgentState* status = nullptr;
  const v1::PointValues* values = nullptr;
  int rows = 24;
  int cols = 80;
  bool color = true;
  std::int64_t now_ms = 0;
  std::string error;  // shown instead of the data: the agent went away
};

// Lines separated by "\r\n" (the terminal is in raw mode), each at most
// min(cols, 100) visible characters, at most `rows` lines.
std::string render_top(const TopFrame& frame);

}  // namespace rackwatch::cli
