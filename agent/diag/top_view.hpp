// What `rackwatch top` draws: one frame of the agent's state and latest
// values, fitted to the terminal (at most 100 columns), coloured by state
// and quality when asked, with the points table scrolled by keys. Pure, so
// it is tested without a terminal.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "rackwatch/v1/diag.pb.h"

namespace rackwatch::cli {

struct TopFrame {
  const v1::AgentState* status = nullptr;
  const v1::PointValues* values = nullptr;
  int rows = 24;
  int cols = 80;
  bool color = true;
  std::int64_t now_ms = 0;
  std::string error;            // shown instead of the data: the agent went away
  std::size_t first_point = 0;  // the first row of the points table shown (scrolled)
};

// Lines separated by "\r\n" (the terminal is in raw mode), each at most
// min(cols, 100) visible characters, at most `rows` lines. The points table
// shows what fits from `first_point` on, and says "rows X–Y of N".
std::string render_top(const TopFrame& frame);

// How many rows of the points table the frame has room for: a page.
std::size_t point_rows(const TopFrame& frame);

enum class TopKey { none, quit, up, down, page_up, page_down, home, end };

// The first key in `input` (bytes from a terminal in raw mode: arrows and
// PgUp/PgDn/Home/End as the escape sequences xterm and the Linux console
// send, j/k/g/G/space as in less) and how many bytes it took (at least 1).
struct KeyRead {
  TopKey key = TopKey::none;
  std::size_t used = 1;
};
KeyRead read_key(std::string_view input);

// The first row shown after `key`, in a table of `total` rows of which a
// page of `page` fits; never past the last page.
std::size_t scroll(std::size_t first, TopKey key, std::size_t page, std::size_t total);

}  // namespace rackwatch::cli
