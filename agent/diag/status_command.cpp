// `rackwatch status` and `rackwatch reload`: what a running agent is doing,
// and asking it to reload its config.
#include <iostream>

#include "core/plural.hpp"
#include "diag/commands.hpp"
#include "diag/diag_client.hpp"
#include "diag/format.hpp"

namespace rackwatch::cli {

namespace {

constexpr const char* kStatusUsage =
    "usage: rackwatch status [--socket PATH] [--json]\n"
    "\n"
    "What the running agent is doing: version, uptime, config, broker, outbox,\n"
    "the alarms active now, components restarted after a failure and the state\n"
    "of every source. Exit 0; 2 when no agent answers.\n";

constexpr const char* kReloadUsage =
    "usage: rackwatch reload [--socket PATH] [--json]\n"
    "\n"
    "Asks the running agent to reload its config file (as SIGHUP does).\n"
    "Exit 0 when applied, 1 when refused (the agent keeps the old config), 2\n"
    "when no agent answers.\n";

constexpr std::chrono::milliseconds kTimeout{5'000};

std::string severity_text(v1::AlarmEvent::Severity severity) {
  switch (severity) {
    case v1::AlarmEvent::SEVERITY_CRITICAL: return "CRITICAL";
    case v1::AlarmEvent::SEVERITY_CAUTION: return "caution ";
    case v1::AlarmEvent::SEVERITY_SENSOR_FAILED: return "failed  ";
    default: return "?       ";
  }
}

void print_status(const v1::AgentState& s) {
  const auto now = s.now_ms();
  std::cout << "agent     " << s.agent_id() << " (site " << s.site() << ", rack " << s.rack() << "), rackwatchd "
            << s.version() << ", up " << format_duration(now - s.start_time_ms()) << '\n';
  std::cout << "config    " << s.config_file() << " (hash " << s.config_hash() << ", loaded "
            << format_duration(now - s.config_loaded_ms()) << " ago)\n";
  if (!s.last_reload_error().empty()) std::cout << "          last reload refused: " << s.last_reload_error() << '\n';
  const auto& b = s.broker();
  std::cout << "broker    ";
  if (b.connected()) {
    std::cout << "connected to " << b.broker();
    if (b.since_ms() > 0) std::cout << " for " << format_duration(now - b.since_ms());
    if (!b.waiting().empty()) std::cout << ", WAITING for " << b.waiting();
  } else {
    std::cout << "NOT connected" << (b.broker().empty() ? "" : " (last tried " + b.broker() + ")");
    if (b.since_ms() > 0) std::cout << " for " << format_duration(now - b.since_ms());
    if (!b.last_error().empty()) std::cout << ": " << b.last_error();
  }
  std::cout << "; " << plural(b.connects(), "connect") << ", " << plural(b.disconnects(), "loss", "losses") << '\n';
  if (!b.last_refusal().empty()) std::cout << "          last refusal: " << b.last_refusal() << '\n';
  const auto& o = s.outbox();
  std::cout << "outbox    " << o.pending() << " waiting";
  if (o.oldest_ms() > 0 && o.pending() > 0) std::cout << " (oldest " << format_duration(now - o.oldest_ms()) << ")";
  std::cout << ", " << o.in_flight() << " in flight, " << o.dropped() << " dropped, "
            << plural(o.write_errors(), "write error") << ", " << plural(o.bytes_on_disk(), "byte") << " on disk";
  if (o.held() > 0) std::cout << ", " << o.held() << " held (refused by the broker)";
  std::cout << '\n';
  std::cout << "published " << plural(s.messages_published(), "message") << ", " << s.messages_dropped()
            << " dropped, telemetry #" << s.telemetry_sequence() << ", catalog " << s.catalog_id() << '\n';
  std::cout << "alarms    " << (s.active_alarms().empty() ? "none active" : std::to_string(s.active_alarms_size()) + " active")
            << '\n';
  for (const auto& a : s.active_alarms()) {
    std::cout << "          " << severity_text(a.severity()) << "  " << a.point_id() << " " << a.kind() << ": "
              << alarm_value_text(a) << ", for " << format_duration(now - a.time_ms()) << '\n';
  }
  // Failures the agent recovered from by restarting the component.
  if (s.restarts().empty()) std::cout << "restarts  none\n";
  for (int i = 0; i < s.restarts_size(); ++i) {
    const auto& r = s.restarts(i);
    std::string error = r.last_error();
    if (error.size() > 40) error = error.substr(0, 37) + "...";
    std::cout << (i == 0 ? "restarts  " : "          ") << r.component() << " " << r.restarts() << "x, last "
              << format_duration(now - r.last_failure_ms()) << " ago: " << error << '\n';
  }
  std::cout << '\n';

  // When the last poll was (its age) and how long it took, apart.
  std::vector<std::vector<std::string>> rows{
      {"SOURCE", "TYPE", "STATE", "POINTS", "BAD", "POLLS", "TIMEOUTS", "LAST POLL", "POLL TOOK", "LAST ERROR"}};
  for (const auto& src : s.sources()) {
    std::string error = src.last_error();
    if (error.size() > 40) error = error.substr(0, 37) + "...";
    rows.push_back({src.name(), src.type(), src.state(), std::to_string(src.points()),
                    std::to_string(src.bad_points()), std::to_string(src.polls()), std::to_string(src.timeouts()),
                    src.last_poll_ms() == 0 ? "never" : format_age(now - src.last_poll_ms()) + " ago",
                    src.last_poll_ms() == 0 ? "-" : format_took_us(src.last_poll_us()), error});
  }
  print_table(std::cout, rows, {false, false, false, true, true, true, true, true, true, false});
}

}  // namespace

int status(const Args& args) {
  AgentOptions options;
  if (!parse_agent_options(args, options, "status", kStatusUsage, nullptr)) return 2;
  v1::DiagRequest request;
  request.mutable_status();
  const auto call = call_agent(options.socket, request, kTimeout);
  if (const int rc = report_failure(call, options); rc != 0 || !call.response) return rc;
  if (options.json) {
    std::cout << to_json(*call.response) << '\n';
  } else {
    print_status(call.response->status());
  }
  return 0;
}

int reload(const Args& args) {
  AgentOptions options;
  if (!parse_agent_options(args, options, "reload", kReloadUsage, nullptr)) return 2;
  v1::DiagRequest request;
  request.mutable_reload();
  const auto call = call_agent(options.socket, request, kTimeout);
  if (options.json && call.response) std::cout << to_json(*call.response) << '\n';
  if (const int rc = report_failure(call, options); rc != 0 || !call.response) return rc;
  const auto& r = call.response->reload();
  if (!options.json) {
    if (r.applied()) {
      std::cout << "reloaded";
      for (const auto& n : r.added()) std::cout << "; added " << n;
      for (const auto& n : r.removed()) std::cout << "; removed " << n;
      for (const auto& n : r.restarted()) std::cout << "; restarted " << n;
      std::cout << '\n';
    } else {
      std::cerr << "rackwatch: reload refused; the agent keeps its config:\n";
      for (const auto& p : r.problems()) std::cerr << "  " << p << '\n';
    }
  }
  return r.applied() ? 0 : 1;
}

}  // namespace rackwatch::cli
