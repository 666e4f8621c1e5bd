// agent_bench: the whole agent under load. Starts a private Mosquitto and a
// real rackwatchd on generated sim configs of N points, counts what reaches a
// subscriber, and measures the daemon's and the broker's CPU and memory from
// /proc over a fixed window after a warm-up. Prints numbers, asserts nothing.
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <mqtt/async_client.h>

#include "bench/sim_config.hpp"
#include "rackwatch/v1/telemetry.pb.h"
#include "support/mosquitto.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace rackwatch::bench {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

// NOTES.md, "Costs measured here": collectd 5.12 polling 1 000 Modbus
// registers at 1 s and publishing each value over MQTT.
constexpr double kCollectdUsPerValue = 51.0;
constexpr double kCollectdCorePercent = 5.0;
constexpr double kCollectdRssMb = 7.1;

struct Options {
  std::vector<std::size_t> points{100, 1'000, 10'000};
  std::size_t per_source = 100;
  int duration_s = 20;
  int warmup_s = 5;
  int repeat = 2;
};

[[noreturn]] void usage(int code) {
  (code == 0 ? std::cout : std::cerr)
      << "usage: agent_bench [--points LIST] [--per-source K] [--duration S] [--warmup S] [--repeat R]\n"
         "\n"
         "Runs rackwatchd against a private Mosquitto on generated sim configs\n"
         "(every source polled at 1 s) and prints its CPU and memory per run.\n"
         "\n"
         "  --points LIST    comma-separated point totals (default 100,1000,10000)\n"
         "  --per-source K   points per sim source, i.e. per message (default 100)\n"
         "  --duration S     measurement window in seconds (default 20)\n"
         "  --warmup S       seconds between the first telemetry and the window (default 5)\n"
         "  --repeat R       runs per point total (default 2)\n";
  std::exit(code);
}

std::size_t positive(const std::string& text, const std::string& what) {
  std::size_t used = 0;
  unsigned long long v = 0;
  try {
    v = std::stoull(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || v == 0) {
    std::cerr << "agent_bench: " << what << " must be a positive integer, not '" << text << "'\n";
    usage(2);
  }
  return static_cast<std::size_t>(v);
}

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(2);
      return argv[++i];
    };
    if (arg == "--points") {
      o.points.clear();
      std::stringstream list(value());
      for (std::string item; std::getline(list, item, ',');) o.points.push_back(positive(item, "--points"));
    } else if (arg == "--per-source") {
      o.per_source = positive(value(), arg);
    } else if (arg == "--duration") {
      o.duration_s = static_cast<int>(positive(value(), arg));
    } else if (arg == "--warmup") {
      const std::string v = value();
      o.warmup_s = v == "0" ? 0 : static_cast<int>(positive(v, arg));
    } else if (arg == "--repeat") {
      o.repeat = static_cast<int>(positive(value(), arg));
    } else if (arg == "--help" || arg == "-h") {
      usage(0);
    } else {
      std::cerr << "agent_bench: unknown argument '" << arg << "'\n";
      usage(2);
    }
  }
  if (o.points.empty()) usage(2);
  return o;
}

// ---- /proc ---------------------------------------------------------------

struct ProcSample {
  double cpu_s = 0.0;      // utime + stime of all threads, from /proc/PID/stat
  double exact_s = 0.0;    // the same from the process's CPU-time clock, in ns
  double rss_mb = 0.0;     // VmRSS
  double hwm_mb = 0.0;     // VmHWM
  int threads = 0;
};

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

ProcSample sample_process(pid_t pid) {
  ProcSample s;
  const std::filesystem::path dir = "/proc/" + std::to_string(pid);
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  const std::string stat = slurp(dir / "stat");
  const auto paren = stat.rfind(')');
  if (paren == std::string::npos) throw std::runtime_error("cannot read " + (dir / "stat").string());
  std::istringstream fields(stat.substr(paren + 2));
  std::vector<std::string> f;
  for (std::string t; fields >> t;) f.push_back(t);
  // After the name: state is field 3, utime 14, stime 15 (man 5 proc).
  constexpr std::size_t kUtime = 14 - 3;
  constexpr std::size_t kStime = 15 - 3;
  if (f.size() <= kStime) throw std::runtime_error("short " + (dir / "stat").string());
  const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  s.cpu_s = (std::stod(f[kUtime]) + std::stod(f[kStime])) / tick;

  // The kernel's own account of the whole process, dead threads included,
  // in nanoseconds: /proc's 10 ms ticks are too coarse for an agent that
  // spends a few milliseconds a second.
  clockid_t clock{};
  timespec ts{};
  if (::clock_getcpuclockid(pid, &clock) == 0 && ::clock_gettime(clock, &ts) == 0) {
    s.exact_s = static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
  }

  std::istringstream status(slurp(dir / "status"));
  for (std::string line; std::getline(status, line);) {
    auto kb = [&line] { return std::stod(line.substr(line.find(':') + 1)) / 1024.0; };
    if (line.rfind("VmRSS:", 0) == 0) s.rss_mb = kb();
    if (line.rfind("VmHWM:", 0) == 0) s.hwm_mb = kb();
    if (line.rfind("Threads:", 0) == 0) s.threads = std::stoi(line.substr(8));
  }
  return s;
}

double self_cpu_s() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto sec = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return sec(u.ru_utime) + sec(u.ru_stime);
}

// ---- the subscriber ------------------------------------------------------

// Counts the telemetry that arrives: messages, samples, bad samples,
// sequence gaps, and the delay from a poll's tick to its arrival.
class CountingSubscriber {
 public:
  struct Counts {
    std::uint64_t messages = 0;
    std::uint64_t samples = 0;
    std::uint64_t bad = 0;
    std::uint64_t gaps = 0;        // sequence numbers never seen
    std::uint64_t duplicates = 0;  // a sequence number at or below one seen before
    std::uint64_t undecodable = 0;
    double latency_sum_ms = 0.0;
    double latency_max_ms = 0.0;
  };

  CountingSubscriber(const std::string& uri, const std::string& topic)
      : client_(uri, "agent-bench-" + std::to_string(::getpid()), mqtt::create_options(MQTTVERSION_3_1_1),
                nullptr) {
    // Runs on Paho's thread: decode and count, never call into the client.
    client_.set_message_callback([this](mqtt::const_message_ptr m) { count(*m); });
    mqtt::connect_options options;
    options.set_mqtt_version(MQTTVERSION_3_1_1);
    options.set_clean_session(true);
    options.set_automatic_reconnect(false);
    if (!client_.connect(options)->wait_for(10s)) throw std::runtime_error("subscriber: no CONNACK");
    if (!client_.subscribe(topic, 1)->wait_for(10s)) throw std::runtime_error("subscriber: no SUBACK");
  }

  ~CountingSubscriber() {
    try {
      if (client_.is_connected()) client_.disconnect()->wait_for(2s);
    } catch (const mqtt::exception&) {
      // The broker may be gone already.
    }
  }

  CountingSubscriber(const CountingSubscriber&) = delete;
  CountingSubscriber& operator=(const CountingSubscriber&) = delete;

  Counts counts() const {
    std::lock_guard lock(mutex_);
    return counts_;
  }

  // The latency figures start again from here (the counters do not).
  void reset_latency() {
    std::lock_guard lock(mutex_);
    counts_.latency_sum_ms = 0.0;
    counts_.latency_max_ms = 0.0;
  }

 private:
  void count(const mqtt::message& m) {
    const auto now_ms = std::chrono::duration<double, std::milli>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    const bool ok = telemetry_.ParseFromString(m.get_payload());
    std::lock_guard lock(mutex_);
    if (!ok) {
      ++counts_.undecodable;
      return;
    }
    ++counts_.messages;
    counts_.samples += static_cast<std::uint64_t>(telemetry_.samples_size());
    for (const auto& s : telemetry_.samples()) {
      if (s.quality() != v1::QUALITY_GOOD) ++counts_.bad;
    }
    const auto seq = telemetry_.sequence();
    if (next_sequence_ != 0 && seq > next_sequence_) counts_.gaps += seq - next_sequence_;
    if (next_sequence_ != 0 && seq < next_sequence_) ++counts_.duplicates;
    next_sequence_ = std::max(next_sequence_, seq + 1);
    const double latency = now_ms - static_cast<double>(telemetry_.time_ms());
    counts_.latency_sum_ms += latency;
    counts_.latency_max_ms = std::max(counts_.latency_max_ms, latency);
  }

  mutable std::mutex mutex_;
  Counts counts_;
  std::uint64_t next_sequence_ = 0;
  v1::Telemetry telemetry_;  // only ever used on Paho's one callback thread
  // Last: destroyed first, so no callback runs into destroyed members.
  mqtt::async_client client_;
};

// ---- one run ------------------------------------------------------------

struct Result {
  std::size_t points = 0;
  std::size_t sources = 0;
  int run = 0;
  double window_s = 0.0;
  double messages = 0.0;
  double samples = 0.0;
  double cpu_s = 0.0;       // rackwatchd, from its CPU-time clock (ns)
  double cpu_stat_s = 0.0;  // the same from /proc/PID/stat (10 ms ticks), as a cross-check
  double rss_mb = 0.0;
  double rss_growth_kb = 0.0;
  double hwm_mb = 0.0;
  int threads = 0;
  double broker_cpu_s = 0.0;
  double self_cpu_s = 0.0;
  double latency_avg_ms = 0.0;
  double latency_max_ms = 0.0;
  std::uint64_t bad = 0;
  std::uint64_t lost = 0;
  std::uint64_t duplicates = 0;

  double per_s(double v) const { return v / window_s; }
  double core_pct(double cpu) const { return 100.0 * cpu / window_s; }
  double us_per_value() const { return samples > 0 ? 1e6 * cpu_s / samples : 0.0; }
  double us_per_message() const { return messages > 0 ? 1e6 * cpu_s / messages : 0.0; }
};

std::string bin(const std::string& name) { return std::string(RACKWATCH_BIN_DIR) + "/" + name; }

// Sleeps until the wall clock is half-way between two seconds: the sources
// tick on whole seconds, so a window of whole seconds that starts there
// holds exactly one tick per second of every source.
void sleep_to_half_second() {
  const auto now = std::chrono::system_clock::now();
  auto half = std::chrono::floor<std::chrono::seconds>(now) + 500ms;
  if (half <= now) half += 1s;
  std::this_thread::sleep_until(half);
}

std::optional<Result> run_once(const Options& o, std::size_t points, int run) {
  test::TempDir dir("rackwatch-bench");
  test::Mosquitto::Options broker_options;
  // A whole tick of messages for one subscriber must fit in the broker's
  // queue for it, or the broker drops what the agent delivered.
  broker_options.extra_config = "max_queued_messages 1000000\n";
  test::Mosquitto broker(broker_options);
  broker.start();

  SimConfigSpec spec;
  spec.broker = broker.uri();
  spec.points = points;
  spec.per_source = o.per_source;
  const auto config_path = dir / "bench.yaml";
  std::ofstream(config_path) << sim_config_yaml(spec);

  CountingSubscriber subscriber(broker.uri(), "rackwatch/v1/" + spec.site + "/" + spec.rack + "/telemetry");
  test::Process daemon({bin("rackwatchd"), "--config", config_path.string()}, dir.path());
  std::cerr << "  " << points << " points, run " << run << ": rackwatchd pid " << daemon.pid()
            << ", broker pid " << broker.process()->pid() << '\n';

  const bool started = test::wait_until(
      [&] { return subscriber.counts().messages > 0 || !daemon.running(); }, 60s, 50ms);
  if (!started || !daemon.running()) {
    std::cerr << "  no telemetry from rackwatchd" << (daemon.running() ? " within 60 s" : " (it exited)")
              << "; its log:\n"
              << daemon.log() << "\n  broker log:\n"
              << broker.log() << '\n';
    return std::nullopt;
  }

  std::this_thread::sleep_for(std::chrono::seconds{o.warmup_s});
  sleep_to_half_second();
  subscriber.reset_latency();
  const auto c0 = subscriber.counts();
  const auto d0 = sample_process(daemon.pid());
  const auto b0 = sample_process(broker.process()->pid());
  const double s0 = self_cpu_s();
  const auto t0 = SteadyClock::now();

  std::this_thread::sleep_until(t0 + std::chrono::seconds{o.duration_s});

  const auto c1 = subscriber.counts();
  const auto d1 = sample_process(daemon.pid());
  const auto b1 = sample_process(broker.process()->pid());
  const double s1 = self_cpu_s();
  const auto t1 = SteadyClock::now();

  Result r;
  r.points = points;
  r.sources = source_count(spec);
  r.run = run;
  r.window_s = std::chrono::duration<double>(t1 - t0).count();
  r.messages = static_cast<double>(c1.messages - c0.messages);
  r.samples = static_cast<double>(c1.samples - c0.samples);
  r.cpu_s = d1.exact_s - d0.exact_s;
  r.cpu_stat_s = d1.cpu_s - d0.cpu_s;
  r.rss_mb = d1.rss_mb;
  r.rss_growth_kb = (d1.rss_mb - d0.rss_mb) * 1024.0;
  r.hwm_mb = d1.hwm_mb;
  r.threads = d1.threads;
  r.broker_cpu_s = b1.exact_s - b0.exact_s;
  r.self_cpu_s = s1 - s0;
  r.latency_avg_ms = r.messages > 0 ? c1.latency_sum_ms / r.messages : 0.0;
  r.latency_max_ms = c1.latency_max_ms;
  r.bad = c1.bad - c0.bad;
  r.lost = c1.gaps - c0.gaps;
  r.duplicates = c1.duplicates - c0.duplicates;

  std::fprintf(stderr, "    %.0f values/s, %.3f us CPU a value, %.2f%% of a core, RSS %.1f MB, %d threads\n",
               r.per_s(r.samples), r.us_per_value(), r.core_pct(r.cpu_s), r.rss_mb, r.threads);

  const auto status = daemon.stop(10s);
  if (!status || !WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
    std::cerr << "  note: rackwatchd ended with "
              << (status ? test::Process::describe(*status) : std::string("no exit")) << '\n';
  }
  broker.stop();
  return r;
}

// ---- output ----------------------------------------------------------------

void print_table(const std::vector<Result>& results, const Options& o) {
  std::printf("\nrackwatchd under load: sim sources polled every 1 s, %zu point%s a source (one\n"
              "message a poll), %d s window after %d s warm-up; %u CPUs here.\n"
              "cpu ms = rackwatchd's CPU time in the window from its process CPU clock (ns);\n"
              "stat ms = the same from utime+stime in /proc/PID/stat (10 ms ticks), as a check;\n"
              "%%core, us/value and us/msg are from cpu ms.\n\n",
              o.per_source, o.per_source == 1 ? "" : "s", o.duration_s, o.warmup_s,
              std::thread::hardware_concurrency());
  std::printf("%7s %5s %3s | %7s %8s | %8s %8s %6s | %8s %7s | %6s %6s %7s | %7s %7s | %9s %5s\n",
              "points", "srcs", "run", "msg/s", "values/s", "cpu ms", "stat ms", "%core",
              "us/value", "us/msg", "RSS MB", "HWM MB", "dRSS kB", "broker%", "bk us/m",
              "lat ms av/max", "lost");
  for (const auto& r : results) {
    const double broker_us_msg = r.messages > 0 ? 1e6 * r.broker_cpu_s / r.messages : 0.0;
    std::printf("%7zu %5zu %3d | %7.1f %8.0f | %8.1f %8.0f %6.2f | %8.3f %7.1f | %6.1f %6.1f %7.0f | "
                "%7.2f %7.1f | %4.0f/%4.0f %5" PRIu64 "\n",
                r.points, r.sources, r.run, r.per_s(r.messages), r.per_s(r.samples), 1e3 * r.cpu_s,
                1e3 * r.cpu_stat_s, r.core_pct(r.cpu_s), r.us_per_value(), r.us_per_message(), r.rss_mb,
                r.hwm_mb, r.rss_growth_kb, r.core_pct(r.broker_cpu_s), broker_us_msg, r.latency_avg_ms,
                r.latency_max_ms, r.lost + r.duplicates);
  }
  for (const auto& r : results) {
    if (r.bad > 0) {
      std::printf("note: %zu points run %d: %" PRIu64 " samples of bad quality\n", r.points, r.run,
                  r.bad);
    }
  }
  std::printf("\n(us = microseconds; bk us/m = broker CPU per telemetry message, in and out to one\n"
              "QoS 1 subscriber; lat = tick to arrival at the subscriber; lost = sequence gaps\n"
              "plus duplicates.) The subscriber here used %.1f%% of a core on average.\n",
              [&] {
                double sum = 0.0;
                for (const auto& r : results) sum += r.core_pct(r.self_cpu_s);
                return results.empty() ? 0.0 : sum / static_cast<double>(results.size());
              }());
}

void print_comparison(const std::vector<Result>& results) {
  // The runs closest to collectd's 1 000 values/s.
  std::size_t best = results.front().points;
  for (const auto& r : results) {
    if (std::abs(static_cast<double>(r.points) - 1'000.0) < std::abs(static_cast<double>(best) - 1'000.0))
      best = r.points;
  }
  std::printf("\nAgainst collectd 5.12 (NOTES.md: 1 000 Modbus values/s, one MQTT message a value):\n");
  std::printf("  %-26s %10s %8s %8s\n", "", "us/value", "%core", "RSS MB");
  std::printf("  %-26s %10.1f %8.1f %8.1f\n", "collectd, 1 000 values/s", kCollectdUsPerValue,
              kCollectdCorePercent, kCollectdRssMb);
  for (const auto& r : results) {
    if (r.points != best) continue;
    char label[64];
    std::snprintf(label, sizeof label, "rackwatchd, %zu pts, run %d", r.points, r.run);
    const double ratio = r.us_per_value() > 0 ? kCollectdUsPerValue / r.us_per_value() : 0.0;
    char verdict[64];
    if (ratio >= 1.0) {
      std::snprintf(verdict, sizeof verdict, "%.*fx less CPU per value", ratio < 10.0 ? 1 : 0, ratio);
    } else if (ratio > 0.0) {
      std::snprintf(verdict, sizeof verdict, "%.1fx MORE CPU per value", 1.0 / ratio);
    } else {
      std::snprintf(verdict, sizeof verdict, "nothing measured");
    }
    std::printf("  %-26s %10.3f %8.2f %8.1f   (%s)\n", label, r.us_per_value(), r.core_pct(r.cpu_s),
                r.rss_mb, verdict);
  }
  std::printf("  Sources differ: collectd read Modbus registers over TCP; here the sim source\n"
              "  computes its values, so the figures compare the agent's own path (schedule,\n"
              "  condition, encode, queue, MQTT), not device I/O.\n");
}

}  // namespace
}  // namespace rackwatch::bench

int main(int argc, char** argv) {
  using namespace rackwatch::bench;
  const Options options = parse_args(argc, argv);
  if (!std::filesystem::exists(bin("rackwatchd")) ||
      !std::filesystem::exists(rackwatch::test::Mosquitto::kBinary)) {
    std::cerr << "agent_bench: needs " << bin("rackwatchd") << " and "
              << rackwatch::test::Mosquitto::kBinary << '\n';
    return 2;
  }
  std::vector<Result> results;
  int failures = 0;
  try {
    for (const auto points : options.points) {
      for (int run = 1; run <= options.repeat; ++run) {
        if (auto r = run_once(options, points, run)) {
          results.push_back(*r);
        } else {
          ++failures;
        }
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "agent_bench: " << e.what() << '\n';
    return 1;
  }
  if (results.empty()) return 1;
  print_table(results, options);
  print_comparison(results);
  return failures == 0 ? 0 : 1;
}
