#include "diag/top_view.hpp"

#include <algorithm>
#include <vector>

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

std::string age(std::int64_t now, std::int64_t t) { return t == 0 ? "-" : format_age(now - t); }

}  // namespace

std::string render_top(const TopFrame& f) {
  const std::size_t cols = static_cast<std::size_t>(std::clamp(f.cols, 40, 100));
  const std::size_t rows = static_cast<std::size_t>(std::max(f.rows, 5));
  std::vector<std::string> lines;
  auto add = [&](std::string line) { lines.push_back(std::move(line)); };

  if (!f.status || !f.values || !f.error.empty()) {
    add(paint(fit("rackwatch top", cols), kBold, f.color));
    add(paint(fit(f.error.empty() ? "waiting for the agent..." : f.error, cols), kRed, f.color));
    add(fit("q or Ctrl-C quits", cols));
  } else {
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
                                               " " + a.kind() + " " + format_value(a.value()) + " (limit " +
                                               format_value(a.limit()) + ") for " + age(f.now_ms, a.time_ms());
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
    // Points: id 34, value 12, unit 6, quality 9, age 5, reason rest.
    const std::size_t reason_w = cols - 34 - 12 - 6 - 9 - 5 - 5;
    add(paint(fit("POINT", 34) + " " + fit("VALUE", 12, true) + " " + fit("UNIT", 6) + " " + fit("QUALITY", 9) + " " +
                  fit("AGE", 5, true) + " " + fit("REASON", reason_w),
              kDim, f.color));
    const std::size_t room = rows > lines.size() + 1 ? rows - lines.size() - 1 : 0;
    const auto& points = f.values->points();
    const std::size_t shown = std::min<std::size_t>(room, static_cast<std::size_t>(points.size()));
    for (std::size_t i = 0; i < shown; ++i) {
      const auto& p = points[static_cast<int>(i)];
      const bool read = p.time_ms() != 0;
      const bool bad = !read || p.quality() == v1::QUALITY_BAD;
      const char* colour = !read ? kDim : p.quality() == v1::QUALITY_BAD ? kRed
                                        : p.quality() == v1::QUALITY_UNCERTAIN ? kYellow
                                                                                : nullptr;
      const std::string quality = !read ? "-" : p.quality() == v1::QUALITY_GOOD ? "good"
                                             : p.quality() == v1::QUALITY_BAD    ? "bad"
                                                                                 : "uncertain";
      const auto shown_value = bad ? DisplayValue{"-", p.unit_symbol()} : display_value(p.value(), p.unit_symbol());
      add(fit(p.id(), 34) + " " + paint(fit(shown_value.value, 12, true), colour, f.color) + " " +
          fit(shown_value.unit, 6) + " " + paint(fit(quality, 9), colour, f.color) + " " +
          fit(age(f.now_ms, p.time_ms()), 5, true) + " " + fit(read ? p.reason() : "not read yet", reason_w));
    }
    const std::string more = points.size() > static_cast<int>(shown)
                                 ? std::to_string(points.size() - static_cast<int>(shown)) + " more points; "
                                 : "";
    lines.resize(std::min(lines.size(), rows - 1));
    add(paint(fit(more + "q or Ctrl-C quits", cols), kDim, f.color));
  }
  std::string out;
  for (std::size_t i = 0; i < lines.size() && i < rows; ++i) {
    if (i) out += "\r\n";
    out += lines[i];
  }
  return out;
}

}  // namespace rackwatch::cli
