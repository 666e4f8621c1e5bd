// `rackwatch read` (the latest values the agent has) and `rackwatch poll`
// (one source polled now).
#include <iostream>

#include "diag/commands.hpp"
#include "diag/diag_client.hpp"
#include "diag/format.hpp"

namespace rackwatch::cli {

namespace {

constexpr const char* kReadUsage =
    "usage: rackwatch read [--source NAME] [--point GLOB] [--socket PATH] [--json]\n"
    "\n"
    "The latest value of every point of the running agent (or of one source, or\n"
    "of the points whose name matches GLOB, e.g. 'l?_power' or '*temp*'): value,\n"
    "unit, quality, age and the reason when not good. Exit 0; 1 for an unknown\n"
    "source; 2 when no agent answers.\n";

constexpr const char* kPollUsage =
    "usage: rackwatch poll SOURCE [--socket PATH] [--json]\n"
    "\n"
    "Asks the running agent to poll SOURCE now and prints what it read (not\n"
    "published). Exit 0 when every reading is good, 1 when some are not or the\n"
    "source is unknown, 2 when no agent answers.\n";

std::string age_text(std::int64_t now_ms, std::int64_t time_ms) {
  return time_ms == 0 ? "never" : format_age(now_ms - time_ms);
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const char* quality_text(v1::Quality q) {
  switch (q) {
    case v1::QUALITY_UNKNOWN: return "unknown";
    case v1::QUALITY_GOOD: return "good";
    case v1::QUALITY_BAD: return "bad";
    case v1::QUALITY_UNCERTAIN: return "uncertain";
    default: return "?";
  }
}

// Prints the values; returns whether every one is good.
bool print_values(const v1::PointValues& values) {
  const auto now = now_ms();
  bool all_good = true;
  std::vector<std::vector<std::string>> rows{{"POINT", "VALUE", "UNIT", "QUALITY", "AGE", "REASON"}};
  for (const auto& p : values.points()) {
    const bool bad = !p.has_value() || p.time_ms() == 0;
    all_good = all_good && p.quality() == v1::QUALITY_GOOD && p.time_ms() != 0;
    std::string reason = p.time_ms() == 0 ? "not read yet" : p.reason();
    if (reason.size() > 50) reason = reason.substr(0, 47) + "...";
    const auto shown = bad ? DisplayValue{"-", p.unit_symbol()} : display_value(p.value(), p.unit_symbol());
    rows.push_back({p.id(), shown.value, shown.unit,
                    p.time_ms() == 0 ? "unknown" : quality_text(p.quality()), age_text(now, p.time_ms()), reason});
  }
  print_table(std::cout, rows, {false, true, false, false, true, false});
  return all_good;
}

}  // namespace

int read(const Args& args) {
  AgentOptions options;
  v1::DiagRequest request;
  auto* r = request.mutable_read();
  const bool ok = parse_agent_options(args, options, "read", kReadUsage, [r](std::size_t i, const Args& a) -> std::size_t {
    if (a[i] == "--source" && i + 1 < a.size()) return r->set_source(a[i + 1]), 2;
    if (a[i] == "--point" && i + 1 < a.size()) return r->set_point_glob(a[i + 1]), 2;
    return 0;
  });
  if (!ok) return 2;
  const auto call = call_agent(options.socket, request, std::chrono::milliseconds(5'000));
  if (const int rc = report_failure(call, options); rc != 0 || !call.response) return rc;
  if (options.json) {
    std::cout << to_json(*call.response) << '\n';
  } else {
    print_values(call.response->read());
  }
  return 0;
}

int poll(const Args& args) {
  AgentOptions options;
  v1::DiagRequest request;
  auto* p = request.mutable_poll();
  const bool ok = parse_agent_options(args, options, "poll", kPollUsage, [p](std::size_t i, const Args& a) -> std::size_t {
    if (!a[i].starts_with("-") && p->source().empty()) return p->set_source(a[i]), 1;
    return 0;
  });
  if (!ok) return 2;
  if (p->source().empty()) {
    std::cerr << "rackwatch poll: which SOURCE?\n" << kPollUsage;
    return 2;
  }
  // A source's timeout is at most its interval, at most 1 h; the agent
  // answers when the poll ends.
  const auto call = call_agent(options.socket, request, std::chrono::milliseconds(3'700'000));
  if (const int rc = report_failure(call, options); rc != 0 || !call.response) return rc;
  bool all_good = true;
  for (const auto& v : call.response->poll().points()) all_good = all_good && v.quality() == v1::QUALITY_GOOD;
  if (options.json) {
    std::cout << to_json(*call.response) << '\n';
  } else {
    print_values(call.response->poll());
  }
  return all_good ? 0 : 1;
}

}  // namespace rackwatch::cli
