// A real SNMP agent for the tests: snmpsimd (Debian's snmpsim) serving
// .snmprec files the test writes, on 127.0.0.1 at a UDP port picked free.
// v2c: the community is a data file's name. v3: one user with the keys
// given, and the context name selects the data file (an empty context is
// not served). As root, snmpsimd must drop to nobody, so its data is made
// readable to all.
#pragma once

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/net.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace rackwatch::test {

class Snmpsim {
 public:
  struct V3User {
    std::string name;
    std::string auth_protocol = "SHA256";  // snmpsimd's names: MD5 SHA SHA224 SHA256 SHA384 SHA512
    std::string auth_key;
    std::string priv_protocol = "AES";     // DES 3DES AES AES192 AES192BLMT AES256 AES256BLMT
    std::string priv_key;
  };
  struct Options {
    // Data file name (the v2c community, the v3 context) -> .snmprec lines.
    std::map<std::string, std::string> records;
    std::optional<V3User> v3;
    std::uint16_t port = 0;  // 0: a free one
  };

  explicit Snmpsim(Options options) : options_(std::move(options)) { start(); }
  ~Snmpsim() {
    if (process_) process_->stop();
  }
  Snmpsim(const Snmpsim&) = delete;
  Snmpsim& operator=(const Snmpsim&) = delete;

  std::uint16_t port() const { return port_; }
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }
  const std::filesystem::path& dir() const { return dir_.path(); }
  std::string log() const { return process_ ? process_->log() : std::string(); }

  // The agent's process, to stop (SIGSTOP) or end it.
  Process& process() { return *process_; }

 private:
  void start() {
    namespace fs = std::filesystem;
    fs::permissions(dir_.path(), fs::perms::all, fs::perm_options::replace);
    const fs::path data = dir_.path() / "data";
    const fs::path cache = dir_.path() / "cache";
    fs::create_directories(data);
    fs::create_directories(cache);
    fs::permissions(data, fs::perms::all, fs::perm_options::replace);
    fs::permissions(cache, fs::perms::all, fs::perm_options::replace);
    for (const auto& [name, text] : options_.records) {
      const fs::path file = data / (name + ".snmprec");
      std::ofstream(file) << text;
      fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                                fs::perms::others_read,
                      fs::perm_options::replace);
    }
    port_ = options_.port ? options_.port : free_udp_port();
    // Each start makes an engine ID of its own: two agents are two engines.
    std::vector<std::string> argv{"snmpsimd", "--data-dir=" + data.string(), "--cache-dir=" + cache.string(),
                                  "--agent-udpv4-endpoint=127.0.0.1:" + std::to_string(port_),
                                  "--logging-method=stderr"};
    if (::geteuid() == 0) {
      argv.emplace_back("--process-user=nobody");
      argv.emplace_back("--process-group=nogroup");
    }
    if (options_.v3) {
      const auto& u = *options_.v3;
      argv.push_back("--v3-user=" + u.name);
      if (!u.auth_key.empty()) {
        argv.push_back("--v3-auth-key=" + u.auth_key);
        argv.push_back("--v3-auth-proto=" + u.auth_protocol);
      }
      if (!u.priv_key.empty()) {
        argv.push_back("--v3-priv-key=" + u.priv_key);
        argv.push_back("--v3-priv-proto=" + u.priv_protocol);
      }
    }
    process_ = std::make_unique<Process>(argv, dir_.path());
    // Ready once it says it listens (it indexes the data files first).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{30};
    while (process_->log().find("Listening at UDP/IPv4 endpoint") == std::string::npos) {
      if (!process_->running()) throw std::runtime_error("snmpsimd exited at start:\n" + process_->log());
      if (std::chrono::steady_clock::now() > deadline) {
        throw std::runtime_error("snmpsimd did not listen within 30 s:\n" + process_->log());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds{20});
    }
  }

  Options options_;
  TempDir dir_{"rackwatch-snmpsim"};
  std::uint16_t port_ = 0;
  std::unique_ptr<Process> process_;
};

}  // namespace rackwatch::test
