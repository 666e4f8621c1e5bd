// modbus_bench: the client's CPU per decoded point in the 300-point gateway
// case (four unit ids behind one Modbus TCP gateway, tests/support/
// modbus_gateway.hpp), against the libmodbus peer on loopback. Ticks run
// back to back, every source polled at once as the scheduler does; CPU is
// this process's (the peer is another process). Plain main; prints numbers,
// asserts nothing.
//
//   modbus_bench [--seconds S] [--max-registers N]
//
// --max-registers 2 allows no read longer than a 32-bit value: close to a
// read per point (222 reads for 300 points), the cost of not coalescing.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include "core/config.hpp"
#include "core/log.hpp"
#include "sources/modbus/modbus_source.hpp"
#include "bench_support.hpp"
#include "support/modbus_gateway.hpp"
#include "support/modbus_peer.hpp"
#include "support/temp_dir.hpp"
#include "sources/builtin/builtin_types.hpp"

namespace rackwatch::bench {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

int run(double seconds, int max_registers) {
  log::set_level(log::Level::warning);
  test::ModbusPeer::Options options;
  options.manual_clock = false;
  for (int unit = 1; unit <= test::kGatewayUnits; ++unit) options.unit_maps.push_back({unit, test::unit_map(unit)});
  test::ModbusPeer peer(options);

  test::TempDir dir("rackwatch-modbus-bench");
  std::string text = "agent: {site: s, rack: r}\nmqtt: {brokers: [tcp://127.0.0.1:1883]}\nsources:\n";
  for (int unit = 1; unit <= test::kGatewayUnits; ++unit) {
    const auto file = dir.path() / ("unit" + std::to_string(unit) + ".yaml");
    std::ofstream(file) << test::unit_profile(unit);
    text += "  - {name: dev" + std::to_string(unit) + ", type: modbus, interval: 1s, tcp: '" + peer.endpoint() +
            "', unit: " + std::to_string(unit) + ", profile: " + file.string() + (unit == 4 ? ", max_gap: 1" : "") +
            ", max_registers: " + std::to_string(max_registers) + "}\n";
  }
  Diagnostics diags;
  auto config = parse_config(text, (dir.path() / "rack.yaml").string(), builtin_source_types(), diags);
  if (!config) {
    diags.print(std::cerr);
    return 1;
  }
  asio::io_context io;
  asio::thread_pool pool(1);
  const SourceEnv env{io.get_executor(), pool.get_executor()};
  std::vector<std::shared_ptr<Source>> sources;
  std::size_t points = 0;
  for (const auto& sc : config->sources) {
    sources.push_back(modbus::modbus_source_type().create(sc, env));
    points += sc.points.size();
  }

  std::uint64_t ticks = 0;
  std::uint64_t good = 0;
  std::uint64_t bad = 0;
  auto tick = [&] {
    for (auto& s : sources) {
      asio::co_spawn(
          io,
          [&, s]() -> asio::awaitable<void> {
            for (const auto& r : co_await s->poll()) (r.ok() ? good : bad) += 1;
          },
          asio::detached);
    }
    io.restart();
    io.run();
    ++ticks;
  };
  for (int i = 0; i < 20; ++i) tick();  // connect, warm up
  ticks = good = bad = 0;

  const auto cpu0 = cpu_seconds();
  const auto wall0 = Clock::now();
  while (std::chrono::duration<double>(Clock::now() - wall0).count() < seconds) tick();
  const double wall = std::chrono::duration<double>(Clock::now() - wall0).count();
  const double cpu = cpu_seconds() - cpu0;

  const auto& link = dynamic_cast<const modbus::ModbusSource&>(*sources.front()).link();
  const double decoded = static_cast<double>(good);
  std::printf("gateway: %d units, %zu points, max_registers %d: %d reads a tick (minimum %d)\n",
              test::kGatewayUnits, points, max_registers,
              static_cast<int>(link.counters().requests / (ticks + 20)), test::kGatewayMinimumReads);
  std::printf("ticks: %llu in %.2f s (%.0f µs wall a tick, loopback round trips included)\n",
              static_cast<unsigned long long>(ticks), wall, wall / static_cast<double>(ticks) * 1e6);
  std::printf("readings: %llu good, %llu bad\n", static_cast<unsigned long long>(good),
              static_cast<unsigned long long>(bad));
  std::printf("client CPU: %.1f µs a tick, %.0f ns per decoded point\n", cpu / static_cast<double>(ticks) * 1e6,
              decoded > 0 ? cpu / decoded * 1e9 : 0.0);
  pool.join();
  return bad == 0 ? 0 : 1;
}

}  // namespace
}  // namespace rackwatch::bench

int main(int argc, char** argv) {
  double seconds = 3.0;
  int max_registers = 125;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (std::strcmp(argv[i], "--max-registers") == 0 && i + 1 < argc) {
      max_registers = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: modbus_bench [--seconds S] [--max-registers 2..125]\n");
      return 2;
    }
  }
  if (seconds <= 0 || max_registers < 2 || max_registers > 125) {
    std::fprintf(stderr, "modbus_bench: --seconds must be positive, --max-registers 2..125\n");
    return 2;
  }
  return rackwatch::bench::run(seconds, max_registers);
}
