// traffic_bench: what report by exception saves. Runs a real rackwatchd on a
// config (by default config/demo.yaml, the simulated rack) against a private
// Mosquitto twice — as written, and with every `deadband` and `max_age`
// removed (every sample of every poll sent) — and prints messages and bytes
// per minute on each topic. Prints numbers, asserts nothing.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

#include <mqtt/async_client.h>
#include <yaml-cpp/yaml.h>

#include "rackwatch/v1/telemetry.pb.h"
#include "support/mosquitto.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace rackwatch::bench {
namespace {

using namespace std::chrono_literals;

struct Options {
  std::string config = std::string(RACKWATCH_SOURCE_DIR) + "/config/demo.yaml";
  int seconds = 120;
  int warmup = 10;
  bool steady = false;  // sim sources: no swing, 0.5 kW of noise
};

[[noreturn]] void usage(int code) {
  (code == 0 ? std::cout : std::cerr)
      << "usage: traffic_bench [--config FILE] [--seconds S] [--warmup S] [--steady]\n"
         "\n"
         "Runs rackwatchd on FILE (default config/demo.yaml) against a private\n"
         "Mosquitto, once as written and once with report by exception off,\n"
         "and prints messages and bytes per minute by topic.\n"
         "\n"
         "  --seconds S   measurement window of each run (default 120)\n"
         "  --warmup S    seconds after the first telemetry before it (default 10)\n"
         "  --steady      a steady rack: sim sources without the load swing and\n"
         "                with 0.5 kW of noise instead of the config's\n";
  std::exit(code);
}

// Bytes of an MQTT 3.1.1 PUBLISH on the wire: fixed header (1 + remaining
// length in 1-4 bytes), topic (2 + length), packet id at QoS > 0, payload.
std::size_t wire_bytes(const mqtt::message& m) {
  const std::size_t remaining = 2 + m.get_topic().size() + (m.get_qos() > 0 ? 2 : 0) + m.get_payload().size();
  std::size_t header = 2;
  for (std::size_t r = remaining; r >= 128; r /= 128) ++header;
  return header + remaining;
}

class TopicCounter {
 public:
  struct Count {
    std::uint64_t messages = 0;
    std::uint64_t payload = 0;
    std::uint64_t wire = 0;
  };

  TopicCounter(const std::string& uri, const std::string& filter)
      : client_(uri, "traffic-bench-" + std::to_string(::getpid()), mqtt::create_options(MQTTVERSION_3_1_1),
                nullptr) {
    client_.set_message_callback([this](mqtt::const_message_ptr m) {
      const auto topic = m->get_topic();
      const auto kind = topic.substr(topic.rfind('/') + 1);
      std::lock_guard lock(mutex_);
      auto& c = counts_[kind];
      ++c.messages;
      c.payload += m->get_payload().size();
      c.wire += wire_bytes(*m);
      if (kind == "catalog" && catalog_.ParseFromString(m->get_payload())) return;
      if (kind != "telemetry" || !telemetry_.ParseFromString(m->get_payload())) return;
      for (const auto& sample : telemetry_.samples()) {
        const auto i = static_cast<int>(sample.point());
        ++samples_[i < catalog_.points_size() ? catalog_.points(i).id() : "#" + std::to_string(i)];
      }
    });
    mqtt::connect_options options;
    options.set_mqtt_version(MQTTVERSION_3_1_1);
    options.set_clean_session(true);
    if (!client_.connect(options)->wait_for(10s)) throw std::runtime_error("subscriber: no CONNACK");
    if (!client_.subscribe(filter, 1)->wait_for(10s)) throw std::runtime_error("subscriber: no SUBACK");
  }
  ~TopicCounter() {
    try {
      if (client_.is_connected()) client_.disconnect()->wait_for(2s);
    } catch (const mqtt::exception&) {
    }
  }
  std::map<std::string, Count> counts() const {
    std::lock_guard lock(mutex_);
    return counts_;
  }
  // Samples received, by point id.
  std::map<std::string, std::uint64_t> samples() const {
    std::lock_guard lock(mutex_);
    return samples_;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, Count> counts_;
  std::map<std::string, std::uint64_t> samples_;
  v1::Catalog catalog_;  // Paho's callback thread only
  v1::Telemetry telemetry_;
  mqtt::async_client client_;  // last: destroyed first
};

void strip_report_keys(YAML::Node points) {
  if (!points.IsSequence()) return;
  for (auto p : points) {
    if (!p.IsMap()) continue;
    p.remove("deadband");
    p.remove("max_age");
  }
}

// The config with the broker, outbox and diag socket moved to this run's
// directory, and report by exception removed when `every_poll`.
std::string prepared(const Options& o, const std::string& broker, const std::filesystem::path& dir,
                     bool every_poll) {
  YAML::Node root = YAML::LoadFile(o.config);
  root["mqtt"]["brokers"] = std::vector<std::string>{broker};
  root["outbox"]["dir"] = (dir / "outbox").string();
  root["diag"]["socket"] = (dir / "diag.sock").string();
  if (o.steady) {
    for (auto s : root["sources"]) {
      if (s["type"].as<std::string>() != "sim") continue;
      s["load"]["swing_kw"] = 0;
      s["load"]["noise_kw"] = 0.5;
    }
  }
  if (every_poll) {
    for (auto s : root["sources"]) strip_report_keys(s["points"]);
    strip_report_keys(root["derived"]);
  }
  YAML::Emitter out;
  out << root;
  return out.c_str();
}

struct Run {
  std::map<std::string, TopicCounter::Count> counts;
  std::map<std::string, std::uint64_t> samples;  // by point, in the window
  double minutes = 0;
};

Run run_once(const Options& o, bool every_poll) {
  test::TempDir dir("rackwatch-traffic");
  test::Mosquitto broker;
  broker.start();
  const auto config_path = dir / "agent.yaml";
  std::ofstream(config_path) << prepared(o, broker.uri(), dir.path(), every_poll);
  const auto site_rack = [&] {
    const auto root = YAML::LoadFile(o.config);
    return root["agent"]["site"].as<std::string>() + "/" + root["agent"]["rack"].as<std::string>();
  }();
  TopicCounter counter(broker.uri(), "rackwatch/v1/" + site_rack + "/#");
  test::Process daemon({std::string(RACKWATCH_BIN_DIR) + "/rackwatchd", "--config", config_path.string()},
                       dir.path());
  if (!test::wait_until([&] { return counter.counts().contains("telemetry") || !daemon.running(); }, 60s)) {
    throw std::runtime_error("no telemetry within 60 s:\n" + daemon.log());
  }
  if (!daemon.running()) throw std::runtime_error("rackwatchd stopped:\n" + daemon.log());
  std::this_thread::sleep_for(std::chrono::seconds(o.warmup));
  const auto before = counter.counts();
  const auto samples_before = counter.samples();
  const auto start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(o.seconds));
  const auto after = counter.counts();
  Run r;
  for (const auto& [id, n] : counter.samples()) {
    r.samples[id] = n - (samples_before.contains(id) ? samples_before.at(id) : 0);
  }
  r.minutes = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / 60.0;
  for (const auto& [topic, c] : after) {
    auto b = before.contains(topic) ? before.at(topic) : TopicCounter::Count{};
    r.counts[topic] = {c.messages - b.messages, c.payload - b.payload, c.wire - b.wire};
  }
  return r;
}

void print(const char* label, const Run& r) {
  TopicCounter::Count all;
  for (const auto& [topic, c] : r.counts) {
    if (c.messages == 0) continue;  // retained state sent before the window
    std::printf("  %-22s %-10s %10.1f msg/min %12.0f B/min payload %12.0f B/min on the wire\n", label,
                topic.c_str(), static_cast<double>(c.messages) / r.minutes, static_cast<double>(c.payload) / r.minutes,
                static_cast<double>(c.wire) / r.minutes);
    all.messages += c.messages;
    all.payload += c.payload;
    all.wire += c.wire;
  }
  std::printf("  %-22s %-10s %10.1f msg/min %12.0f B/min payload %12.0f B/min on the wire\n", label, "all",
              static_cast<double>(all.messages) / r.minutes, static_cast<double>(all.payload) / r.minutes,
              static_cast<double>(all.wire) / r.minutes);
  // The chattiest points: where a wider deadband would save the most.
  std::vector<std::pair<std::uint64_t, std::string>> top;
  std::uint64_t total = 0;
  for (const auto& [id, n] : r.samples) {
    top.emplace_back(n, id);
    total += n;
  }
  std::sort(top.rbegin(), top.rend());
  std::printf("  %-22s %10.1f samples/min in all; most sent:", label, static_cast<double>(total) / r.minutes);
  for (std::size_t i = 0; i < top.size() && i < 6; ++i) {
    std::printf("%s %s %.1f", i == 0 ? "" : ",", top[i].second.c_str(), static_cast<double>(top[i].first) / r.minutes);
  }
  std::printf("\n");
}

double per_minute(const Run& r, const std::string& topic, bool bytes) {
  if (!r.counts.contains(topic)) return 0;
  const auto& c = r.counts.at(topic);
  return static_cast<double>(bytes ? c.wire : c.messages) / r.minutes;
}

}  // namespace
}  // namespace rackwatch::bench

int main(int argc, char** argv) {
  using namespace rackwatch::bench;
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(2);
      return argv[++i];
    };
    if (a == "--config") o.config = value();
    else if (a == "--seconds") o.seconds = std::atoi(value().c_str());
    else if (a == "--warmup") o.warmup = std::atoi(value().c_str());
    else if (a == "--steady") o.steady = true;
    else if (a == "-h" || a == "--help") usage(0);
    else usage(2);
  }
  if (o.seconds <= 0 || o.warmup < 0) usage(2);
  try {
    std::printf("traffic of %s%s over %d s after %d s of warm-up, each run\n", o.config.c_str(),
                o.steady ? " at steady load" : "", o.seconds, o.warmup);
    const auto all = run_once(o, true);
    print("every poll", all);
    const auto rbe = run_once(o, false);
    print("report by exception", rbe);
    const double m0 = per_minute(all, "telemetry", false);
    const double m1 = per_minute(rbe, "telemetry", false);
    const double b0 = per_minute(all, "telemetry", true);
    const double b1 = per_minute(rbe, "telemetry", true);
    std::printf("  telemetry: %.1f -> %.1f msg/min (%.1fx fewer), %.0f -> %.0f B/min on the wire (%.1fx fewer)\n", m0,
                m1, m1 > 0 ? m0 / m1 : 0.0, b0, b1, b1 > 0 ? b0 / b1 : 0.0);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "traffic_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
