// snmp_bench: the SNMP source's CPU per value for a 48-outlet rack PDU (the
// APC rPDU2 profile on tests/peers/snmp/apc-rpdu2.snmprec: 167 points, of
// which 144 are outlet rows), walked with GETBULK from a real agent
// (snmpsimd) on loopback. CPU is this process's (getrusage; the agent is
// another process). Two runs: polls back to back (the cost of a poll), and
// polls every --interval-ms as the agent would run them (the share of a
// core). Plain main; prints numbers, asserts nothing.
//
//   snmp_bench [--seconds S] [--interval-ms MS] [--max-repetitions N]
#include <sys/resource.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include "core/config.hpp"
#include "core/log.hpp"
#include "sources/builtin/builtin_types.hpp"
#include "sources/snmp/snmp_source.hpp"
#include "bench_support.hpp"
#include "support/read_text.hpp"
#include "support/snmpsim.hpp"
#include "support/temp_dir.hpp"

namespace rackwatch::bench {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

struct Tally {
  std::uint64_t good = 0;
  std::uint64_t bad = 0;
};

asio::awaitable<void> poll_once(Source& source, Tally& tally) {
  for (const auto& r : co_await source.poll()) (r.ok() ? tally.good : tally.bad) += 1;
}

void poll(asio::io_context& io, Source& source, Tally& tally) {
  asio::co_spawn(io, poll_once(source, tally), asio::detached);
  io.restart();
  io.run();
}

std::uint64_t counter(const Source& s, const std::string& name) {
  for (const auto& [k, v] : s.health().counters) {
    if (k == name) return v;
  }
  return 0;
}

int run(double seconds, int interval_ms, int max_repetitions) {
  log::set_level(log::Level::warning);
  test::Snmpsim::Options o;
  o.records = {{"apc-rpdu2", test::read_text(std::string(RACKWATCH_SOURCE_DIR) + "/tests/peers/snmp/apc-rpdu2.snmprec")}};
  test::Snmpsim agent(o);
  test::TempDir dir("rackwatch-snmp-bench");
  const auto community = dir.path() / "community";
  std::ofstream(community) << "apc-rpdu2\n";
  ::chmod(community.c_str(), 0600);
  const std::string text = "agent: {site: s, rack: r}\nmqtt: {brokers: [tcp://127.0.0.1:1883]}\nsources:\n"
                           "  - {name: pdu, type: snmp, interval: 1s, timeout: 1s, request_timeout: 1s, host: '" +
                           agent.endpoint() + "', community_file: " + community.string() +
                           ", profile: " + RACKWATCH_SOURCE_DIR + "/config/profiles/apc-rpdu2.yaml" +
                           ", max_repetitions: " + std::to_string(max_repetitions) + "}\n";
  Diagnostics diags;
  auto config = parse_config(text, (dir.path() / "rack.yaml").string(), builtin_source_types(), diags);
  if (!config) {
    diags.print(std::cerr);
    return 1;
  }
  asio::io_context io;
  asio::thread_pool pool(1);
  auto source = snmp::snmp_source_type().create(config->sources.at(0), SourceEnv{io.get_executor(), pool.get_executor()});
  Tally tally;
  for (int i = 0; i < 5; ++i) poll(io, *source, tally);  // the rows found, the agent warm
  const auto points = source->config().points.size();
  const auto requests0 = counter(*source, "requests");
  std::printf("pdu: APC rPDU2 profile, %zu points (%llu table points), max_repetitions %d: %.1f requests a poll\n",
              points, static_cast<unsigned long long>(counter(*source, "table_points")), max_repetitions,
              static_cast<double>(requests0) / 5.0);

  auto measure = [&](const char* what, int every_ms) {
    tally = {};
    std::uint64_t polls = 0;
    const auto cpu0 = cpu_seconds();
    const auto wall0 = Clock::now();
    const auto requests = counter(*source, "requests");
    const auto varbinds = counter(*source, "varbinds");
    auto next = wall0;
    while (std::chrono::duration<double>(Clock::now() - wall0).count() < seconds) {
      poll(io, *source, tally);
      ++polls;
      if (every_ms > 0) {
        next += std::chrono::milliseconds(every_ms);
        std::this_thread::sleep_until(next);
      }
    }
    const double wall = std::chrono::duration<double>(Clock::now() - wall0).count();
    const double cpu = cpu_seconds() - cpu0;
    const double values = static_cast<double>(tally.good);
    std::printf("%s: %llu polls in %.1f s, %llu good and %llu bad readings, %.1f requests and %.0f varbinds "
                "received a poll\n",
                what, static_cast<unsigned long long>(polls), wall, static_cast<unsigned long long>(tally.good),
                static_cast<unsigned long long>(tally.bad),
                static_cast<double>(counter(*source, "requests") - requests) / static_cast<double>(polls),
                static_cast<double>(counter(*source, "varbinds") - varbinds) / static_cast<double>(polls));
    std::printf("  client CPU: %.0f µs a poll, %.2f µs per value, %.3f %% of a core\n",
                cpu / static_cast<double>(polls) * 1e6, values > 0 ? cpu / values * 1e6 : 0.0, cpu / wall * 100.0);
  };
  measure("back to back", 0);
  measure(("every " + std::to_string(interval_ms) + " ms").c_str(), interval_ms);
  pool.join();
  return 0;
}

}  // namespace
}  // namespace rackwatch::bench

int main(int argc, char** argv) {
  double seconds = 10.0;
  int interval_ms = 1000;
  int max_repetitions = 10;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (std::strcmp(argv[i], "--interval-ms") == 0 && i + 1 < argc) {
      interval_ms = std::atoi(argv[++i]);
    } else if (std::strcmp(argv[i], "--max-repetitions") == 0 && i + 1 < argc) {
      max_repetitions = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: snmp_bench [--seconds S] [--interval-ms MS] [--max-repetitions 1..100]\n");
      return 2;
    }
  }
  if (seconds <= 0 || interval_ms < 1 || max_repetitions < 1 || max_repetitions > 100) {
    std::fprintf(stderr, "snmp_bench: --seconds and --interval-ms must be positive, --max-repetitions 1..100\n");
    return 2;
  }
  return rackwatch::bench::run(seconds, interval_ms, max_repetitions);
}
