// Runs a command to completion and captures its exit code, stdout and
// stderr: for tests of the `rackwatch` command line.
#pragma once

#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace rackwatch::test {

struct RunResult {
  int exit_code = -1;  // -1 when it did not exit by itself in time
  std::string out;
  std::string err;
};

// Runs argv with stdin from /dev/null; kills it after `timeout`.
inline RunResult run(const std::vector<std::string>& argv,
                     std::chrono::milliseconds timeout = std::chrono::seconds{30},
                     const std::string& stdin_file = "/dev/null") {
  TempDir dir("rackwatch-run");
  // The shell splits stdout from stderr; arguments are passed as $1.. so
  // nothing is re-parsed.
  std::vector<std::string> sh{"/bin/sh", "-c",
                              "exec \"$@\" <\"$RW_IN\" >\"$RW_OUT\" 2>\"$RW_ERR\"", "sh"};
  sh.insert(sh.end(), argv.begin(), argv.end());
  Process::Options options;
  options.env = {"RW_IN=" + stdin_file, "RW_OUT=" + (dir / "out").string(),
                 "RW_ERR=" + (dir / "err").string()};
  Process p(sh, dir.path(), options);
  RunResult r;
  auto status = p.wait_exit(timeout);
  if (!status) p.kill();
  if (status && WIFEXITED(*status)) r.exit_code = WEXITSTATUS(*status);
  auto slurp = [](const std::filesystem::path& f) {
    std::ifstream in(f, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  };
  r.out = slurp(dir / "out");
  r.err = slurp(dir / "err");
  return r;
}

inline std::string bin(const std::string& name) { return std::string(RACKWATCH_BIN_DIR) + "/" + name; }
inline std::string source_path(const std::string& rel) {
  return std::string(RACKWATCH_SOURCE_DIR) + "/" + rel;
}

inline void write_file(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

// `rackwatch ARGS... --socket SOCKET`: a verb against a running agent.
// The head of a test agent's config: its identity, the broker, and the
// outbox and diag socket inside the test's own directory; `sources:` follows.
inline std::string agent_config_head(const std::string& site, const std::string& rack, const std::string& id,
                                     const std::string& broker, const std::filesystem::path& dir) {
  return "agent: {site: " + site + ", rack: " + rack + ", id: " + id + "}\nmqtt: {brokers: [" + broker +
         "]}\noutbox: {dir: " + (dir / "outbox").string() + "}\ndiag: {socket: " + (dir / "diag.sock").string() +
         "}\n";
}

inline RunResult rackwatch_verb(const std::string& socket, std::vector<std::string> args) {
  args.insert(args.begin(), bin("rackwatch"));
  args.insert(args.end(), {"--socket", socket});
  return run(args);
}

// protoc's own decoder on `payload` as message `type` (rackwatch.v1.X) of
// telemetry.proto: a subscriber's view with nothing but the .proto file.
// `scratch` is a directory for the payload file.
inline RunResult protoc_decode(const std::string& type, const std::string& payload,
                               const std::filesystem::path& scratch) {
  const auto file = scratch / "payload.bin";
  write_file(file, payload);
  return run({"/bin/sh", "-c", "cd \"$0\" && protoc --decode=" + type + " proto/rackwatch/v1/telemetry.proto < \"$1\"",
              std::string(RACKWATCH_SOURCE_DIR), file.string()});
}

}  // namespace rackwatch::test
