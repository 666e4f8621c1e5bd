// `rackwatch probe`: polls each source once, directly, without a broker or a
// running daemon, and prints what the agent would publish.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json.hpp>
#include <iostream>
#include <sstream>
#include <memory>

#include "core/config.hpp"
#include "sources/poll.hpp"
#include "diag/commands.hpp"
#include "diag/format.hpp"
#include "pipeline/condition.hpp"
#include "sources/registry.hpp"
#include "sources/source.hpp"

namespace rackwatch::cli {

namespace asio = boost::asio;

namespace {

constexpr const char* kUsage =
    "usage: rackwatch probe --config FILE [--source NAME] [--json]\n"
    "\n"
    "Polls each source of FILE once (or only NAME) and prints point, value,\n"
    "unit and quality, then the health and counters of each device that\n"
    "keeps them (Modbus: with SunSpec discovery, where the model chain was\n"
    "found and what the device says it is); no broker or running daemon is\n"
    "needed.\n"
    "Exit 0 when every reading is good, 1 when some are not, 2 on a usage or\n"
    "configuration error.\n";

struct Device {
  std::string source;
  SourceHealth health;
  std::optional<DeviceInfo> info;  // what the device said it is (SunSpec)
};

std::string time_text(const std::optional<TimePoint>& t) {
  return t ? format_time_ms(to_unix_ms(*t)) : "never";
}

struct Row {
  std::string source;
  std::string point;
  Sample sample;
  std::string unit;
};

}  // namespace

int probe(const Args& args, const SourceTypes& types) {
  std::string config_path;
  std::string only;
  bool json = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    if ((a == "--config" || a == "-c") && i + 1 < args.size()) config_path = args[++i];
    else if (a == "--source" && i + 1 < args.size()) only = args[++i];
    else if (a == "--json") json = true;
    else if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      return 0;
    } else {
      std::cerr << "rackwatch probe: unexpected argument '" << a << "'\n" << kUsage;
      return 2;
    }
  }
  if (config_path.empty()) {
    std::cerr << "rackwatch probe: --config FILE is required\n" << kUsage;
    return 2;
  }
  Diagnostics diags;
  auto config = load_config(config_path, types, diags);
  if (!config) {
    diags.print(std::cerr);
    return 2;
  }
  bool found = only.empty();
  for (const auto& s : config->sources) found = found || s.name == only;
  if (!found) {
    std::cerr << "rackwatch probe: no source named '" << only << "' in " << config_path << '\n';
    return 2;
  }

  asio::io_context io;
  asio::thread_pool blocking(2);
  const SourceEnv env{io.get_executor(), blocking.get_executor()};
  std::vector<std::vector<Row>> results(config->sources.size());
  std::vector<std::shared_ptr<Source>> sources(config->sources.size());
  for (std::size_t i = 0; i < config->sources.size(); ++i) {
    const auto& sc = config->sources[i];
    if (!only.empty() && sc.name != only) continue;
    std::shared_ptr<Source> source = types.find(sc.type)->create(sc, env);
    sources[i] = source;
    // All sources at once: the slowest one sets the time, not their sum.
    asio::co_spawn(
        io, poll_with_deadline(source, sc.timeout, std::make_shared<bool>(false)),
        [&results, &sc, i, source](std::exception_ptr, PollOutcome outcome) {
          // The source's points as the poll left them: found ones included.
          const auto& points = source->config().points;
          for (std::size_t k = 0; k < outcome.readings.size() && k < points.size(); ++k) {
            const auto& p = points[k];
            results[i].push_back({sc.name, p.name,
                                  condition(p, static_cast<std::uint32_t>(k), outcome.readings[k]),
                                  std::string(unit_symbol(p.unit))});
          }
        });
  }
  io.run();
  blocking.stop();
  blocking.join();

  std::vector<Device> devices;
  for (std::size_t i = 0; i < sources.size(); ++i) {
    if (!sources[i]) continue;
    auto h = sources[i]->health();
    if (h.state) devices.push_back({config->sources[i].name, std::move(h), sources[i]->device_info()});
  }

  bool all_good = true;
  if (json) {
    boost::json::array out;
    for (const auto& rows : results) {
      for (const auto& r : rows) {
        boost::json::object o;
        o["source"] = r.source;
        o["point"] = r.point;
        if (!has_value(r.sample.quality)) o["value"] = nullptr;
        else o["value"] = r.sample.value;
        o["unit"] = r.unit;
        o["quality"] = std::string(quality_name(r.sample.quality));
        if (!r.sample.reason.empty()) o["reason"] = r.sample.reason;
        out.push_back(std::move(o));
        all_good = all_good && r.sample.quality == Quality::good;
      }
    }
    boost::json::array devs;
    for (const auto& d : devices) {
      boost::json::object o;
      o["source"] = d.source;
      o["state"] = device_state_name(*d.health.state);
      if (!d.health.detail.empty()) o["detail"] = d.health.detail;
      boost::json::object counters;
      for (const auto& [k, v] : d.health.counters) counters[k] = v;
      o["counters"] = std::move(counters);
      if (d.health.last_success) o["last_success"] = time_text(d.health.last_success);
      boost::json::array notes;
      for (const auto& n : d.health.notes) notes.push_back(boost::json::string(n));
      o["notes"] = std::move(notes);
      if (d.info) {
        o["device"] = {{"manufacturer", d.info->manufacturer},
                       {"model", d.info->model},
                       {"serial_number", d.info->serial_number},
                       {"version", d.info->version}};
      }
      devs.push_back(std::move(o));
    }
    boost::json::object doc;
    doc["readings"] = std::move(out);
    doc["devices"] = std::move(devs);
    std::cout << boost::json::serialize(doc) << '\n';
  } else {
    std::vector<std::vector<std::string>> table{{"SOURCE", "POINT", "VALUE", "UNIT", "QUALITY", "REASON"}};
    for (const auto& rows : results) {
      for (const auto& r : rows) {
        const bool bad = !has_value(r.sample.quality);
        const auto shown = bad ? DisplayValue{"-", r.unit} : display_value(r.sample.value, r.unit);
        table.push_back({r.source, r.point, shown.value, shown.unit,
                         std::string(quality_name(r.sample.quality)), r.sample.reason});
        all_good = all_good && r.sample.quality == Quality::good;
      }
    }
    print_table(std::cout, table, {false, false, true, false, false, false});
    if (!devices.empty()) {
      std::cout << '\n';
      // As `rackwatch devices` shows them: a line a device, then its
      // counters (each protocol has its own), wrapped to fit 100 columns.
      std::vector<std::vector<std::string>> health{{"SOURCE", "STATE", "LAST SUCCESS"}};
      for (const auto& d : devices) {
        health.push_back({d.source, std::string(device_state_name(*d.health.state)), time_text(d.health.last_success)});
      }
      std::ostringstream head;
      print_table(head, health);
      std::istringstream lines(head.str());
      std::string line;
      std::getline(lines, line);
      std::cout << line << '\n';
      for (const auto& d : devices) {
        std::getline(lines, line);
        std::cout << line << '\n';
        std::string out = "   ";
        for (const auto& [name, value] : d.health.counters) {
          const std::string item = " " + name + "=" + std::to_string(value);
          if (out.size() + item.size() > 98) {
            std::cout << out << '\n';
            out = "   ";
          }
          out += item;
        }
        if (out.size() > 3) std::cout << out << '\n';
      }
      for (const auto& d : devices) {
        if (!d.health.detail.empty()) std::cout << d.source << ": " << d.health.detail << '\n';
        for (const auto& n : d.health.notes) std::cout << d.source << ": " << n << '\n';
      }
    }
  }
  return all_good ? 0 : 1;
}

}  // namespace rackwatch::cli
