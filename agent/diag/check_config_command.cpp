// `rackwatch check-config FILE`: exit 0 when valid, else every problem as
// FILE:LINE:COL: message on stderr and exit 1.
#include <iostream>

#include "core/config.hpp"
#include "diag/commands.hpp"
#include "publish/host_checks.hpp"
#include "sources/registry.hpp"

namespace rackwatch::cli {

int check_config(const Args& args, const SourceTypes& types) {
  if (args.size() == 1 && (args[0] == "--help" || args[0] == "-h")) {
    std::cout << "usage: rackwatch check-config FILE\n\n"
                 "Validates FILE. Exit 0 when valid; otherwise prints each problem as\n"
                 "FILE:LINE:COL: message on stderr and exits 1.\n";
    return 0;
  }
  if (args.size() != 1) {
    std::cerr << "usage: rackwatch check-config FILE\n";
    return 2;
  }
  Diagnostics diags;
  auto config = load_config(args[0], types, diags);
  // What the host must allow is checked too, as rackwatchd does at start:
  // run as the service's user, this says whether the service would start.
  if (config && !check_host(*config, diags)) config.reset();
  if (!config) {
    diags.print(std::cerr);
    std::cerr << args[0] << ": " << diags.size() << " problem" << (diags.size() == 1 ? "" : "s")
              << '\n';
    return 1;
  }
  std::size_t points = 0;
  for (const auto& s : config->sources) points += s.points.size();
  std::cout << args[0] << ": valid (" << config->sources.size() << " source"
            << (config->sources.size() == 1 ? "" : "s") << ", " << points << " point"
            << (points == 1 ? "" : "s");
  if (!config->derived.empty()) {
    std::cout << ", " << config->derived.size() << " derived point" << (config->derived.size() == 1 ? "" : "s");
  }
  std::cout << ")\n";
  std::vector<std::string> finders;
  for (const auto& s : config->sources) {
    if (s.settings && s.settings->finds_points()) finders.push_back(s.name);
  }
  if (!finders.empty()) {
    std::string names;
    for (const auto& n : finders) names += (names.empty() ? "" : ", ") + n;
    std::cout << "  and the points found on the devices of " << names
              << " (SNMP table rows, profile: auto, Redfish discovery): rackwatch probe lists them\n";
  }
  // Where it will connect, ports included (1883 or 8883 when the URI has none).
  for (const auto& b : config->mqtt.brokers) std::cout << "  broker " << b << '\n';
  // Valid, but not what its operator expects: said, without failing the check.
  for (const auto& advice : source_advice(*config, types)) std::cerr << args[0] << ": warning: " << advice << '\n';
  return 0;
}

}  // namespace rackwatch::cli
