// Runs a fuzz target's LLVMFuzzerTestOneInput over saved inputs without
// libFuzzer, so the committed corpora are regression tests under any compiler.
//
//   <target>_replay PATH...   each PATH a file, or a directory whose files
//                             (not hidden, not recursive) are all run
//
// Exit 0 when every input ran; 1 when a path is missing or a directory holds
// no input (a corpus that silently vanished must not pass), or an input
// threw. A crash names the input on stderr before the process dies.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

// Under AddressSanitizer (GCC says so with a macro, Clang with a feature).
#if defined(__SANITIZE_ADDRESS__)
#define RACKWATCH_REPLAY_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RACKWATCH_REPLAY_ASAN 1
#endif
#endif
#ifdef RACKWATCH_REPLAY_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

namespace fs = std::filesystem;

// The input being run, for crash messages. A signal handler may only write()
// bytes prepared beforehand, hence a fixed buffer and not a std::string.
std::array<char, 4096> g_current{};
std::size_t g_current_len = 0;

constexpr std::array kFatalSignals{SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
std::array<struct sigaction, kFatalSignals.size()> g_previous{};

void say_current() {
  // Once: a sanitizer that reports a fault ends through its death callback too.
  static volatile sig_atomic_t said = 0;
  if (said) return;
  said = 1;
  static constexpr char kPrefix[] = "replay: crashed on input ";
  // Nothing sensible is left to do when stderr itself fails.
  [[maybe_unused]] auto a = ::write(STDERR_FILENO, kPrefix, sizeof kPrefix - 1);
  [[maybe_unused]] auto b = ::write(STDERR_FILENO, g_current.data(), g_current_len);
  [[maybe_unused]] auto c = ::write(STDERR_FILENO, "\n", 1);
}

extern "C" void on_fatal_signal(int sig) {
  say_current();
  // Hand the signal to whoever had it before (a sanitizer's report, or the
  // default action). Returning re-runs a faulting instruction, and abort()
  // raises again, either way into the restored handler.
  for (std::size_t i = 0; i < kFatalSignals.size(); ++i) {
    if (kFatalSignals[i] == sig) ::sigaction(sig, &g_previous[i], nullptr);
  }
}

void install_crash_reporting() {
  struct sigaction sa {};
  sa.sa_handler = on_fatal_signal;
  sigemptyset(&sa.sa_mask);
  for (std::size_t i = 0; i < kFatalSignals.size(); ++i) {
    ::sigaction(kFatalSignals[i], &sa, &g_previous[i]);
  }
#ifdef RACKWATCH_REPLAY_ASAN
  // AddressSanitizer ends the process itself (no signal) after its report.
  __sanitizer_set_death_callback(say_current);
#endif
}

void set_current(const std::string& path) {
  g_current_len = std::min(path.size(), g_current.size());
  std::memcpy(g_current.data(), path.data(), g_current_len);
}

bool read_file(const fs::path& path, std::vector<char>& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

// The inputs PATH stands for, sorted so that runs are repeatable.
bool collect(const fs::path& path, std::vector<fs::path>& inputs) {
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) {
    inputs.push_back(path);
    return true;
  }
  if (!fs::is_directory(path, ec)) {
    std::fprintf(stderr, "replay: no such file or directory: %s\n", path.c_str());
    return false;
  }
  std::vector<fs::path> found;
  for (const auto& entry : fs::directory_iterator(path, ec)) {
    const auto name = entry.path().filename().string();
    if (entry.is_regular_file(ec) && !name.empty() && name.front() != '.') found.push_back(entry.path());
  }
  if (ec) {
    std::fprintf(stderr, "replay: cannot list %s: %s\n", path.c_str(), ec.message().c_str());
    return false;
  }
  if (found.empty()) {
    std::fprintf(stderr, "replay: no inputs in %s\n", path.c_str());
    return false;
  }
  std::sort(found.begin(), found.end());
  inputs.insert(inputs.end(), found.begin(), found.end());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE_OR_DIRECTORY...\n", argv[0]);
    return 2;
  }
  std::vector<fs::path> inputs;
  bool ok = true;
  for (int i = 1; i < argc; ++i) ok = collect(argv[i], inputs) && ok;
  if (!ok) return 1;

  install_crash_reporting();
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  Clock::duration slowest{};
  std::string slowest_name;
  std::vector<char> bytes;
  for (const auto& path : inputs) {
    if (!read_file(path, bytes)) {
      std::fprintf(stderr, "replay: cannot read %s\n", path.c_str());
      return 1;
    }
    set_current(path.string());
    // An exact-size heap copy: a sanitizer then catches a read past the end.
    auto data = std::make_unique<std::uint8_t[]>(bytes.size());
    std::memcpy(data.get(), bytes.data(), bytes.size());
    const auto t0 = Clock::now();
    try {
      LLVMFuzzerTestOneInput(data.get(), bytes.size());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "replay: exception escaped on input %s: %s\n", path.c_str(), e.what());
      return 1;
    } catch (...) {
      std::fprintf(stderr, "replay: exception escaped on input %s\n", path.c_str());
      return 1;
    }
    if (const auto took = Clock::now() - t0; took > slowest) {
      slowest = took;
      slowest_name = path.filename().string();
    }
  }
  using Ms = std::chrono::duration<double, std::milli>;
  std::printf("replay: ran %zu inputs in %.0f ms (slowest %.1f ms: %s)\n", inputs.size(),
              Ms(Clock::now() - start).count(), Ms(slowest).count(), slowest_name.c_str());
  return 0;
}
