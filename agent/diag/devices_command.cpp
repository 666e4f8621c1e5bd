// `rackwatch devices`: the health and counters of every device of the
// running agent.
#include <iostream>

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
  std::vector<std::vector<std::string>> rows{{"SOURCE", "TYPE", "STATE", "LAST SUCCESS", "COUNTERS"}};
  for (const auto& d : call.response->devices().devices()) {
    std::string counters;
    for (const auto& c : d.counters()) {
      if (c.value() == 0 && c.name() != "requests" && c.name() != "polls") continue;  // the interesting ones
      counters += (counters.empty() ? "" : " ") + c.name() + "=" + std::to_string(c.value());
    }
    rows.push_back({d.source(), d.type(), d.state(),
                    d.last_success_ms() ? format_time_ms(d.last_success_ms()) : "-", counters});
  }
  print_table(std::cout, rows);
  for (const auto& d : call.response->devices().devices()) {
    if (!d.detail().empty() && d.state() != "ok") std::cout << d.source() << ": " << d.detail() << '\n';
    for (const auto& n : d.notes()) std::cout << d.source() << ": " << n << '\n';
  }
  return 0;
}

}  // namespace rackwatch::cli
