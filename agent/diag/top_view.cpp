#include "diag/top_view.hpp"

#include <algorithm>
#include <vector>

#include "core/plural.hpp"
#include "diag/format.hpp"

namespace rackwatch::cli {

namespace {

constexpr const char* kReset = "\x1b[0m";
constexpr const char* kRed = "\x1b[31m";
constexpr const char* kGreen = "\x1b[32m";
constexpr const char* kYellow = "\x1b[33m";
constexpr const char* kBold = "\x1b[1m";
constexpr const char* kDim = "\x1b[2m";

// Visible width of UTF-8 text: code points, not bytes ("°C" is 2).
std::size_t width(const std::string& s) {
  std::size_t n = 0;
  for (const char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// Cut to `w` visible characters (at a code point boundary) or pad to it.
std::string fit(const std::string& s, std::size_t w, bool right = false) {
  if (width(s) > w) {
    std::string out;
    std::size_t n = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
      const auto c = static_cast<unsigned char>(s[i]);
      if ((c & 0xC0) != 0x80) {
        if (n + 1 >= w) break;
        ++n;
      }
      out += s[i];
    }
    return out + "~";
  }
  const std::string pad(w - width(s), ' ');
  return right ? pad + s : s + pad;
}

std::string paint(const std::string& text, const char* colour, bool on) {
  return on && colour ? std::string(colour) + text + kReset : text;
}

const char* state_colour(const std::string& state) {
  if (state == "ok") return kGreen;
  if (state == "degraded" || state == "starting") return kYellow;
  return kRed;  // dormant, failing
}

// Points: id 34, value 12, unit 6, quality 9, age 5, reason the rest.
std::size_t reason_width(std::size_t cols) { return cols - 34 - 12 - 6 - 9 - 5 - 5; }

std::string age(std::int64_t now, std::int64_t t) { return t == 0 ? "-" : format_age(now - t); }

// Every line above the rows of points, down to the table's header.
std::vector<std::string> head_lines(const TopFrame& f, std::size_t cols) {
  std::vector<std::string> lines;
  auto add = [&](std::string line) { lines.push_back(std::move(line)); };
  const auto& s = *f.status;
  const auto& b = s.broker();
  add(paint(fit("rackwatch top  " + s.agent_id() + "  site " + s.site() + "  rack " + s.rack() + "  up " +
                    age(f.now_ms, s.start_time_ms()),
                cols),
            kBold, f.color));
  const std::string broker = b.connected() ? "broker connected " + b.broker()
                                           : "broker NOT connected" + (b.last_error().empty() ? "" : ": " + b.last_error());
  add(paint(fit(broker, cols), b.connected() ? nullptr : kRed, f.color));
  const auto& o = s.outbox();
  add(fit("outbox " + std::to_string(o.pending()) + " waiting, " + std::to_string(o.dropped()) +
              " dropped   telemetry #" + std::to_string(s.telemetry_sequence()),
          cols));
  // Active alarms, critical ones in red; at most three lines of them.
  constexpr int kAlarmLines = 3;
  if (s.active_alarms().empty()) add(fit("alarms none active", cols));
  for (int i = 0; i < s.active_alarms_size() && i < kAlarmLines; ++i) {
    const auto& a = s.active_alarms(i);
    const bool critical = a.severity() == v1::AlarmEvent::SEVERITY_CRITICAL;
    const bool last_line = i == kAlarmLines - 1 && s.active_alarms_size() > kAlarmLines;
    const std::string text = last_line ? "alarm  ... and " + std::to_string(s.active_alarms_size() - i) + " more"
                                       : std::string("alarm  ") + (critical ? "CRITICAL " : "caution  ") + a.point_id() +
                                             " " + a.kind() + " " + alarm_value_text(a) + " for " + age(f.now_ms, a.time_ms());
    add(paint(fit(text, cols), critical ? kRed : kYellow, f.color));
  }
  add("");
  // Sources: name 16, type 7, state 9, bad/points 9, last error rest.
  const std::size_t err_w = cols - 16 - 7 - 9 - 9 - 4;
  add(paint(fit("SOURCE", 16) + " " + fit("TYPE", 7) + " " + fit("STATE", 9) + " " + fit("BAD", 9, true) + " " +
                fit("LAST ERROR", err_w),
            kDim, f.color));
  for (const auto& src : s.sources()) {
    add(fit(src.name(), 16) + " " + fit(src.type(), 7) + " " +
        paint(fit(src.state(), 9), state_colour(src.state()), f.color) + " " +
        fit(std::to_string(src.bad_points()) + "/" + std::to_string(src.points()), 9, true) + " " +
        fit(src.last_error(), err_w));
  }
  add("");
  add(paint(fit("POINT", 34) + " " + fit("VALUE", 12, true) + " " + fit("UNIT", 6) + " " + fit("QUALITY", 9) + " " +
                fit("AGE", 5, true) + " " + fit("REASON", reason_width(cols)),
            kDim, f.color));
  return lines;
}

std::size_t columns(const TopFrame& f) { return static_cast<std::size_t>(std::clamp(f.cols, 40, 100)); }
std::size_t screen_rows(const TopFrame& f) { return static_cast<std::size_t>(std::max(f.rows, 5)); }

// Rows left for points below `head` lines, the last line being the footer.
std::size_t room_below(std::size_t head, std::size_t rows) { return rows > head + 1 ? rows - head - 1 : 0; }

}  // namespace

std::string render_top(const TopFrame& f) {
  const std::size_t cols = columns(f);
  const std::size_t rows = screen_rows(f);
  std::vector<std::string> lines;
  auto add = [&](std::string line) { lines.push_back(std::move(line)); };

  if (!f.status || !f.values || !f.error.empty()) {
    add(paint(fit("rackwatch top", cols), kBold, f.color));
    add(paint(fit(f.error.empty() ? "waiting for the agent..." : f.error, cols), kRed, f.color));
    add(fit("q or Ctrl-C quits", cols));
  } else {
    lines = head_lines(f, cols);
    const auto& points = f.values->points();
    const std::size_t total = static_cast<std::size_t>(points.size());
    const std::size_t page = room_below(lines.size(), rows);
    const std::size_t first = std::min(f.first_point, total > page ? total - page : 0);
    const std::size_t shown = std::min(page, total - first);
    for (std::size_t i = first; i < first + shown; ++i) {
      const auto& p = points[static_cast<int>(i)];
      const bool read = p.time_ms() != 0;
      const bool bad = !read || !p.has_value();
      const char* colour = !read ? kDim : p.quality() == v1::QUALITY_BAD ? kRed
                                        : p.quality() == v1::QUALITY_UNCERTAIN ? kYellow
                                                                                : nullptr;
      const std::string quality = !read ? "unknown" : p.quality() == v1::QUALITY_GOOD ? "good"
                                             : p.quality() == v1::QUALITY_BAD    ? "bad"
                                                                                 : "uncertain";
      const auto shown_value = bad ? DisplayValue{"-", p.unit_symbol()} : display_value(p.value(), p.unit_symbol());
      add(fit(p.id(), 34) + " " + paint(fit(shown_value.value, 12, true), colour, f.color) + " " +
          fit(shown_value.unit, 6) + " " + paint(fit(quality, 9), colour, f.color) + " " +
          fit(age(f.now_ms, p.time_ms()), 5, true) + " " + fit(read ? p.reason() : "not read yet", reason_width(cols)));
    }
    // Where the view is, so that rows out of sight are known to exist.
    std::string where;
    if (total == 0) where = "no points; ";
    else if (shown == 0) where = plural(total, "point") + " below: a taller terminal shows them; ";
    else where = "rows " + std::to_string(first + 1) + "–" + std::to_string(first + shown) + " of " +
                 std::to_string(total) + (shown < total ? "  ↑↓ PgUp PgDn Home End scroll  " : "; ");
    lines.resize(std::min(lines.size(), rows - 1));
    add(paint(fit(where + "q or Ctrl-C quits", cols), kDim, f.color));
  }
  std::string out;
  for (std::size_t i = 0; i < lines.size() && i < rows; ++i) {
    if (i) out += "\r\n";
    out += lines[i];
  }
  return out;
}

std::size_t point_rows(const TopFrame& f) {
  if (!f.status || !f.values || !f.error.empty()) return 0;
  return room_below(head_lines(f, columns(f)).size(), screen_rows(f));
}

KeyRead read_key(std::string_view in) {
  if (in.empty()) return {TopKey::none, 0};
  switch (in[0]) {
    case 'q': case 'Q': return {TopKey::quit, 1};
    case 'k': return {TopKey::up, 1};
    case 'j': return {TopKey::down, 1};
    case ' ': return {TopKey::page_down, 1};
    case 'b': return {TopKey::page_up, 1};
    case 'g': return {TopKey::home, 1};
    case 'G': return {TopKey::end, 1};
    case '\x1b': break;
    default: return {TopKey::none, 1};
  }
  // ESC O X (application cursor mode) or ESC [ params final.
  if (in.size() >= 3 && in[1] == 'O') {
    switch (in[2]) {
      case 'A': return {TopKey::up, 3};
      case 'B': return {TopKey::down, 3};
      case 'H': return {TopKey::home, 3};
      case 'F': return {TopKey::end, 3};
      default: return {TopKey::none, 3};
    }
  }
  if (in.size() < 2 || in[1] != '[') return {TopKey::none, 1};  // a lone Escape
  std::size_t end = 2;
  while (end < in.size() && !(in[end] >= 0x40 && in[end] <= 0x7e)) ++end;
  if (end == in.size()) return {TopKey::none, in.size()};  // cut short: dropped
  const auto params = in.substr(2, end - 2);
  const std::size_t used = end + 1;
  switch (in[end]) {
    case 'A': return {TopKey::up, used};
    case 'B': return {TopKey::down, used};
    case 'H': return {TopKey::home, used};
    case 'F': return {TopKey::end, used};
    case '~':
      if (params == "5") return {TopKey::page_up, used};
      if (params == "6") return {TopKey::page_down, used};
      if (params == "1" || params == "7") return {TopKey::home, used};
      if (params == "4" || params == "8") return {TopKey::end, used};
      return {TopKey::none, used};
    default: return {TopKey::none, used};
  }
}

std::size_t scroll(std::size_t first, TopKey key, std::size_t page, std::size_t total) {
  const std::size_t last = total > page ? total - page : 0;
  first = std::min(first, last);
  const std::size_t step = std::max<std::size_t>(page, 1);
  switch (key) {
    case TopKey::up: return first > 0 ? first - 1 : 0;
    case TopKey::down: return std::min(first + 1, last);
    case TopKey::page_up: return first > step ? first - step : 0;
    case TopKey::page_down: return std::min(first + step, last);
    case TopKey::home: return 0;
    case TopKey::end: return last;
    default: return first;
  }
}

}  // namespace rackwatch::cli
