// A private Mosquitto broker for one test, on a free loopback port, with its
// config, log and (optional) persistence in its own temporary directory. It
// can be killed (SIGKILL), frozen (SIGSTOP) and restarted on the same port.
#pragma once

#include <signal.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "net.hpp"
#include "process.hpp"
#include "temp_dir.hpp"
#include "wait.hpp"

namespace rackwatch::test {

class Mosquitto {
 public:
  static constexpr const char* kBinary = "/usr/sbin/mosquitto";

  struct Options {
    // Keep sessions and retained messages across a kill/restart (saved to
    // the temporary directory every second).
    bool persistence = false;
    // Lines appended to the generated config (e.g. a TLS listener).
    std::string extra_config;
    // How long start() waits for the port to accept connections.
    std::chrono::milliseconds start_timeout{10'000};
  };

  Mosquitto() : Mosquitto(Options{}) {}
  // `env` ("NAME=value") is added to the broker's environment: e.g.
  // OPENSSL_CONF, to hold its TLS to what no config line can.
  explicit Mosquitto(Options options, std::vector<std::string> env = {})
      : options_(std::move(options)), env_(std::move(env)), dir_("mosquitto") {}

  Mosquitto(const Mosquitto&) = delete;
  Mosquitto& operator=(const Mosquitto&) = delete;

  // Starts the broker on `port`, or on a free port when 0, and returns once
  // the port accepts TCP connections. Throws std::runtime_error (with the
  // broker's log) if it does not come up.
  void start(std::uint16_t port = 0) {
    if (process_ && process_->running()) throw std::logic_error("mosquitto already running");
    // A free port can be taken between free_port() and the broker's bind;
    // only then is another port tried, and only when the caller let us pick.
    const int tries = port == 0 ? 3 : 1;
    std::string why;
    for (int i = 0; i < tries; ++i) {
      port_ = port == 0 ? free_port() : port;
      if (launch(why)) return;
    }
    throw std::runtime_error("mosquitto did not start on port " + std::to_string(port_) + ": " +
                             why + "\n--- log ---\n" + log());
  }

  // Starts it again on the port it had (after kill() or stop()), with
  // `extra_config` in place of the lines it had when given.
  void restart(std::optional<std::string> extra_config = std::nullopt) {
    if (port_ == 0) throw std::logic_error("mosquitto restart before start");
    if (extra_config) options_.extra_config = std::move(*extra_config);
    start(port_);
  }

  // SIGKILL: no clean close, sessions not saved (beyond autosave).
  void kill() {
    if (process_) process_->kill();
  }

  // SIGTERM (then SIGKILL): a clean shutdown.
  void stop() {
    if (process_) process_->stop();
  }

  // SIGSTOP / SIGCONT: the broker keeps its sockets but answers nothing, so
  // what a client sends stays unacknowledged.
  bool freeze() { return process_ && process_->signal(SIGSTOP); }
  bool thaw() { return process_ && process_->signal(SIGCONT); }

  // With persistence: waits until the broker has saved its database after
  // this call, so that what it held then (a subscriber's session, say)
  // survives a kill(). False if no save came within `timeout`.
  bool wait_saved(std::chrono::milliseconds timeout) {
    const auto db = dir_ / "mosquitto.db";
    std::error_code ec;
    const auto asked = std::filesystem::file_time_type::clock::now();
    return wait_until([&] { return std::filesystem::last_write_time(db, ec) > asked && !ec; }, timeout,
                      std::chrono::milliseconds{20});
  }

  bool running() { return process_ && process_->running(); }
  std::uint16_t port() const { return port_; }
  std::string uri() const { return "tcp://127.0.0.1:" + std::to_string(port_); }
  const std::filesystem::path& dir() const { return dir_.path(); }
  Process* process() { return process_.get(); }

  // The broker's log (all runs: restarts append), then what it printed
  // itself (start-up errors, before the log file is open).
  std::string log() const { return read(dir_ / "broker.log") + read(dir_ / "mosquitto.out"); }

 private:
  bool launch(std::string& why) {
    write_config();
    process_.reset();  // reaps a previous run (already dead: kill/stop)
    process_ = std::make_unique<Process>(
        std::vector<std::string>{kBinary, "-c", (dir_ / "mosquitto.conf").string()}, dir_.path(),
        Process::Options{env_, "mosquitto.out"});
    const bool up = wait_until(
        [this] { return !process_->running() || port_accepts(port_); }, options_.start_timeout,
        std::chrono::milliseconds{20});
    if (up && process_->running()) return true;
    why = process_->running() ? "port not accepting connections in time"
                              : "exited (" + Process::describe(process_->wait_exit({}).value_or(0)) +
                                    ")";
    process_->kill();
    return false;
  }

  void write_config() const {
    std::ofstream conf(dir_ / "mosquitto.conf", std::ios::trunc);
    conf << "# Written by the test: a private broker on loopback.\n"
         << "listener " << port_ << " 127.0.0.1\n"
         << "allow_anonymous true\n"
         // Started as root it would switch to user mosquitto, which cannot
         // write into this directory.
         << "user root\n"
         // A log file, not stdout: mosquitto flushes it line by line, while
         // its stdout into a file is block-buffered and lags behind.
         << "log_dest file " << (dir_ / "broker.log").string() << "\n"
         << "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n"
         << "connection_messages true\n"
         << "log_timestamp_format %H:%M:%S\n";
    if (options_.persistence) {
      conf << "persistence true\n"
           << "persistence_location " << dir_.path().string() << "/\n"
           << "autosave_interval 1\n";
    } else {
      conf << "persistence false\n";
    }
    conf << options_.extra_config << "\n";
  }

  static std::string read(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }

  Options options_;
  std::vector<std::string> env_;
  TempDir dir_;
  std::uint16_t port_ = 0;
  std::unique_ptr<Process> process_;
};

}  // namespace rackwatch::test
