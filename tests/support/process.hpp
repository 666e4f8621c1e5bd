// A child process started by a test (a broker, the daemon, a device peer):
// its stdout and stderr go to a log file, and it is always reaped. It only
// ever signals the one process it started, and only until it has reaped it
// (a reaped pid may already belong to someone else).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

extern char** environ;

namespace rackwatch::test {

class Process {
 public:
  struct Options {
    // Added to (or replacing in) the test's own environment: "NAME=value".
    std::vector<std::string> env;
    // File name of the log inside the log directory; default: the program's
    // base name plus ".log". An existing log is appended to, so a process
    // restarted with the same name keeps one log.
    std::string log_name;
  };

  // Starts argv[0] (searched in PATH when it has no '/') with stdin from
  // /dev/null and stdout+stderr appended to LOG_DIR/log_name. Throws
  // std::system_error when it cannot be started.
  Process(std::vector<std::string> argv, const std::filesystem::path& log_dir)
      : Process(std::move(argv), log_dir, Options{}) {}

  Process(std::vector<std::string> argv, const std::filesystem::path& log_dir,
          const Options& options) {
    if (argv.empty()) throw std::invalid_argument("Process: empty argv");
    log_path_ = log_dir / (options.log_name.empty()
                               ? std::filesystem::path(argv[0]).filename().string() + ".log"
                               : options.log_name);

    std::vector<char*> args;
    for (auto& arg : argv) args.push_back(arg.data());
    args.push_back(nullptr);

    std::vector<std::string> env_strings = merged_environment(options.env);
    std::vector<char*> env;
    for (auto& entry : env_strings) env.push_back(entry.data());
    env.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    const std::string log = log_path_.string();
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);

    // The child starts with default signal handling and no blocked signals,
    // whatever the test runner set up.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigset_t all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

    const int rc = argv[0].find('/') == std::string::npos
                       ? ::posix_spawnp(&pid_, args[0], &actions, &attr, args.data(), env.data())
                       : ::posix_spawn(&pid_, args[0], &actions, &attr, args.data(), env.data());
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      pid_ = -1;
      throw std::system_error(rc, std::generic_category(), "spawn " + argv[0]);
    }
  }

  // Kills (SIGKILL) and reaps the process if it is still there.
  ~Process() {
    if (!reaped()) {
      ::kill(pid_, SIGKILL);
      reap(true);
    }
  }

  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }

  // True until the process has exited (and been reaped here).
  bool running() {
    reap(false);
    return !reaped();
  }

  // Sends `sig` if the process is still ours to signal; false otherwise.
  bool signal(int sig) {
    reap(false);
    if (reaped()) return false;
    return ::kill(pid_, sig) == 0;
  }

  // Waits up to `timeout` for the process to exit. Returns its raw wait
  // status (test it with WIFEXITED/WEXITSTATUS/WIFSIGNALED/WTERMSIG), or
  // nullopt if it is still running.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      reap(false);
      if (reaped()) return status_;
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds{5});
    }
  }

  // SIGTERM, then SIGKILL if it has not exited within `timeout`. Returns the
  // raw wait status (nullopt only if even SIGKILL did not end it in 5 s).
  std::optional<int> stop(std::chrono::milliseconds timeout = std::chrono::seconds{5}) {
    if (signal(SIGTERM)) {
      ::kill(pid_, SIGCONT);  // a stopped process only sees SIGTERM once resumed
      if (auto status = wait_exit(timeout)) return status;
    }
    if (!reaped()) {
      // A stopped (SIGSTOP) process dies of SIGKILL too.
      ::kill(pid_, SIGKILL);
    }
    return wait_exit(std::chrono::seconds{5});
  }

  // SIGKILL and reap: the abrupt end a crash or power loss would give.
  std::optional<int> kill() {
    if (signal(SIGKILL)) return wait_exit(std::chrono::seconds{5});
    return status_;
  }

  // Everything the process wrote to stdout and stderr so far.
  std::string log() const {
    std::ifstream in(log_path_, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }

  const std::filesystem::path& log_path() const { return log_path_; }

  // Readable form of a raw wait status, for assertion messages.
  static std::string describe(int status) {
    if (WIFEXITED(status)) return "exited " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
    return "status " + std::to_string(status);
  }

 private:
  bool reaped() const { return status_.has_value() || pid_ <= 0; }

  void reap(bool block) {
    if (reaped()) return;
    int status = 0;
    pid_t rc;
    do {
      rc = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
    } while (rc < 0 && errno == EINTR);
    if (rc == pid_) {
      status_ = status;
    } else if (rc < 0 && errno == ECHILD) {
      status_ = -1;  // reaped elsewhere: no longer ours to signal
    }
  }

  static std::vector<std::string> merged_environment(const std::vector<std::string>& extra) {
    std::map<std::string, std::string> vars;
    auto add = [&vars](const std::string& entry) {
      const auto eq = entry.find('=');
      if (eq != std::string::npos) vars[entry.substr(0, eq)] = entry;
    };
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) add(*e);
    for (const auto& entry : extra) add(entry);
    std::vector<std::string> out;
    for (auto& [name, entry] : vars) out.push_back(std::move(entry));
    return out;
  }

  pid_t pid_ = -1;
  std::optional<int> status_;
  std::filesystem::path log_path_;
};

}  // namespace rackwatch::test
