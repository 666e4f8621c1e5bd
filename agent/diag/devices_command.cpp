// `rackwatch devices`: the health and counters of every device of the
// running agent.
#include <chrono>
#include <iostream>
#include <sstream>

#include "diag/commands.hpp"
#include "diag/diag_client.hpp"
#include "diag/format.hpp"

namespace rackwatch::cli {

namespace {

constexpr const char* kUsage =
    "usage: rackwatch devices [--socket PATH] [--json]\n"
    "\n"
    "Every source's device health (ok, degraded, dormant, failing) with its\n"
    "counters, last success and lasting notes (a Modbus device's link and\n"
    "disabled registers). Exit 0; 2 when no agent answers.\n";

}  // namespace

int devices(const Args& args) {
  AgentOptions options;
  if (!parse_agent_options(args, options, "devices", kUsage, nullptr)) return 2;
  v1::DiagRequest request;
  request.mutable_devices();
  const auto call = call_agent(options.socket, request, std::chrono::milliseconds(5'000));
  if (const int rc = report_failure(call, options); rc != 0 || !call.response) return rc;
  if (options.json) {
    std::cout << to_json(*call.response) << '\n';
    return 0;
  }
  // A block a device: its counters wrap, so that every line fits 100 columns.
  // The agent runs on this host: its times are aged by this clock.
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  std::vector<std::vector<std::string>> rows{{"SOURCE", "TYPE", "STATE", "LAST SUCCESS"}};
  for (const auto& d : call.response->devices().devices()) {
    rows.push_back({d.source(), d.type(), d.state(),
                    d.last_success_ms() ? format_age(now - d.last_success_ms()) + " ago" : "never"});
  }
  std::ostringstream head;
  print_table(head, rows);
  std::istringstream table(head.str());
  std::string line;
  std::getline(table, line);
  std::cout << line << '\n';
  for (const auto& d : call.response->devices().devices()) {
    std::getline(table, line);
    std::cout << line << '\n';
    std::string out = "   ";
    for (const auto& c : d.counters()) {
      const std::string item = " " + c.name() + "=" + std::to_string(c.value());
      if (out.size() + item.size() > 98) {
        std::cout << out << '\n';
        out = "   ";
      }
      out += item;
    }
    if (out.size() > 3) std::cout << out << '\n';
    auto text = [](std::string t) { return t.size() > 96 ? t.substr(0, 93) + "..." : t; };
    if (!d.detail().empty() && d.state() != "ok") std::cout << "    " << text(d.detail()) << '\n';
    for (const auto& n : d.notes()) std::cout << "    " << text(n) << '\n';
  }
  return 0;
}

}  // namespace rackwatch::cli
