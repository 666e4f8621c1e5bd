// ModbusPeer: runs tests/peers' `modbus_peer` (a libmodbus server) for a
// test, on a free loopback TCP port (Modbus TCP, or RTU frames over TCP as a
// serial device server carries them) or on a pseudo-terminal, and reads back
// what it served. No libmodbus here: tests of the agent need none.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/process.hpp"
#include "support/run.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace rackwatch::test {

// One line of the served log (format: tests/peers/README.md).
struct ServedRequest {
  std::uint64_t seq = 0;
  double clock = 0;         // generator clock the values were computed at
  int unit = 0;
  std::string table;        // coil, discrete, holding, input, or fcN
  std::uint16_t addr = 0;
  std::uint16_t count = 0;
  std::string outcome;      // ok, exception, dropped, ignored, closed, short, wrong-tid, bad-crc, split, stale-first, ...
  std::vector<std::uint32_t> data;  // the values served, or the exception code
};

class ModbusPeer {
 public:
  struct Options {
    bool rtu = false;                 // RTU on a pty pair (19200 8E1 unless extra_args say)
    bool rtu_over_tcp = false;        // RTU frames on TCP connections (port as for TCP)
    std::string map;                  // map text for every served unit
    std::vector<int> units;           // empty: answer every unit id
    std::vector<std::pair<int, std::string>> unit_maps;  // unit id -> its own map text
    bool manual_clock = true;         // generators follow set_clock(), starting at 0
    std::vector<std::string> extra_args;  // fault options, --gateway-exceptions, ...
    std::uint16_t port = 0;           // TCP, RTU over TCP: 0 picks a free one; another peer's port to take its place
  };

  explicit ModbusPeer(Options options) : options_(std::move(options)) { start(); }

  ModbusPeer(const ModbusPeer&) = delete;
  ModbusPeer& operator=(const ModbusPeer&) = delete;

  // "127.0.0.1:PORT" (TCP, RTU over TCP) and its parts.
  std::string endpoint() const { return host_ + ":" + std::to_string(port_); }
  const std::string& host() const { return host_; }
  std::uint16_t port() const { return port_; }
  // The client's end of the pty pair (RTU).
  const std::string& pty_path() const { return pty_path_; }

  // Sets the generator clock (seconds) for every request from now on. The
  // file is replaced by rename, so a request sees the old or the new value.
  void set_clock(double seconds) { replace_file("clock", std::to_string(seconds) + "\n"); }

  // Replaces the fault options (one per line, e.g. "drop-every 1"); empty
  // text heals. Takes effect from the next request; "every N" counts anew.
  void set_faults(const std::string& text) { replace_file("faults", text); }

  // Every request the peer has logged so far, in order.
  std::vector<ServedRequest> served() const {
    std::vector<ServedRequest> out;
    std::ifstream in(dir_ / "served.log");
    for (std::string line; std::getline(in, line);) {
      std::istringstream words(line);
      ServedRequest r;
      unsigned addr = 0;
      unsigned count = 0;
      if (!(words >> r.seq >> r.clock >> r.unit >> r.table >> addr >> count >> r.outcome)) {
        throw std::runtime_error("modbus_peer: bad served line: " + line);
      }
      r.addr = static_cast<std::uint16_t>(addr);
      r.count = static_cast<std::uint16_t>(count);
      for (std::uint32_t v; words >> v;) r.data.push_back(v);
      out.push_back(std::move(r));
    }
    return out;
  }

  // The last served request, if any.
  std::optional<ServedRequest> last_served() const {
    auto all = served();
    if (all.empty()) return std::nullopt;
    return all.back();
  }

  // TCP connections accepted so far (TCP, RTU over TCP).
  int connections_accepted() const {
    int count = 0;
    std::istringstream lines(process_->log());
    for (std::string line; std::getline(lines, line);) count += line.rfind("accepted connection ", 0) == 0 ? 1 : 0;
    return count;
  }

  // SIGTERM and wait; the raw wait status.
  std::optional<int> stop() { return process_->stop(); }
  bool running() { return process_->running(); }
  std::string log() const { return process_->log(); }
  const std::filesystem::path& dir() const { return dir_.path(); }

 private:
  void replace_file(const std::string& name, const std::string& text) {
    const auto tmp = dir_ / (name + ".tmp");
    std::ofstream(tmp, std::ios::binary | std::ios::trunc) << text;
    std::filesystem::rename(tmp, dir_ / name);
  }

  void start() {
    std::vector<std::string> argv{bin("modbus_peer")};
    if (options_.rtu) {
      argv.insert(argv.end(), {"--rtu-pty", "--baud", "19200", "--parity", "E", "--data-bits", "8",
                               "--stop-bits", "1"});
    } else if (options_.rtu_over_tcp) {
      argv.insert(argv.end(), {"--rtu-over-tcp", "127.0.0.1:" + std::to_string(options_.port)});
    } else {
      argv.insert(argv.end(), {"--tcp", "127.0.0.1:" + std::to_string(options_.port)});
    }
    write_file(dir_ / "default.map", options_.map);
    argv.insert(argv.end(), {"--map", (dir_ / "default.map").string()});
    for (int unit : options_.units) argv.insert(argv.end(), {"--unit", std::to_string(unit)});
    for (const auto& [unit, text] : options_.unit_maps) {
      const auto file = dir_ / ("unit" + std::to_string(unit) + ".map");
      write_file(file, text);
      argv.insert(argv.end(), {"--unit", std::to_string(unit) + "=" + file.string()});
    }
    argv.insert(argv.end(), {"--exit-with-parent", "--served-log", (dir_ / "served.log").string(), "--faults-file",
                             (dir_ / "faults").string()});
    if (options_.manual_clock) {
      set_clock(0);
      argv.insert(argv.end(), {"--clock-file", (dir_ / "clock").string()});
    }
    argv.insert(argv.end(), options_.extra_args.begin(), options_.extra_args.end());

    process_ = std::make_unique<Process>(argv, dir_.path());
    const std::string prefix = options_.rtu            ? "listening rtu "
                               : options_.rtu_over_tcp ? "listening rtu-over-tcp "
                                                       : "listening tcp ";
    std::string endpoint;
    const bool up = wait_until(
        [&] {
          const std::string text = process_->log();
          const auto at = text.find(prefix);
          if (at == std::string::npos) return false;
          const auto end = text.find('\n', at);
          if (end == std::string::npos) return false;
          endpoint = text.substr(at + prefix.size(), end - at - prefix.size());
          return true;
        },
        std::chrono::seconds{5});
    if (!up) {
      throw std::runtime_error("modbus_peer did not start listening; its log:\n" + process_->log());
    }
    if (options_.rtu) {
      pty_path_ = endpoint;
    } else {
      const auto colon = endpoint.rfind(':');
      host_ = endpoint.substr(0, colon);
      port_ = static_cast<std::uint16_t>(std::stoul(endpoint.substr(colon + 1)));
    }
  }

  Options options_;
  TempDir dir_{"modbus-peer"};
  std::unique_ptr<Process> process_;
  std::string host_;
  std::uint16_t port_ = 0;
  std::string pty_path_;
};

}  // namespace rackwatch::test
