// NativeEncoder::telemetry: the cost of turning one poll's samples into a
// Protobuf payload, per sample, and the payload's size per sample.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "publish/native_encoder.hpp"

namespace rackwatch {
namespace {

Config one_source_config(std::size_t points) {
  Config config;
  config.agent = {"hall-a", "r01", "bench-agent"};
  SourceConfig source;
  source.name = "pdu-a";
  source.type = "sim";
  source.interval = Millis{1'000};
  for (std::size_t i = 0; i < points; ++i) {
    PointConfig p;
    p.name = "point" + std::to_string(i);
    p.quantity = "power";
    p.unit = Unit::watt;
    p.location = "pdu-a/l1";
    source.points.push_back(std::move(p));
  }
  config.sources.push_back(std::move(source));
  return config;
}

// A poll as a source delivers it: one time for all points (a little after the
// tick), values of a few significant digits, `bad_percent` of them bad with a
// reason such as the pipeline writes.
std::vector<Sample> poll_samples(std::size_t points, std::size_t bad_percent, TimePoint tick) {
  std::vector<Sample> samples;
  samples.reserve(points);
  const TimePoint taken = tick + std::chrono::milliseconds{3};
  for (std::size_t i = 0; i < points; ++i) {
    const auto index = static_cast<std::uint32_t>(i);
    if (bad_percent > 0 && i % 100 < bad_percent) {
      samples.push_back(Sample{index, 0.0, Quality::bad, "above range: 61234.5 > 60000", taken});
    } else {
      samples.push_back(Sample{index, 15'000.0 + 1.37 * static_cast<double>(i), Quality::good, {}, taken});
    }
  }
  return samples;
}

void BM_EncodeTelemetry(benchmark::State& state) {
  const auto points = static_cast<std::size_t>(state.range(0));
  const auto bad_percent = static_cast<std::size_t>(state.range(1));
  const Config config = one_source_config(points);
  NativeEncoder encoder(config, AgentIdentity{"bench-agent", "hall-a", "r01",
                                              "0123456789abcdef0123456789abcdef", "0.1.0",
                                              "bench-host", Clock::now()});
  const TimePoint tick{std::chrono::milliseconds{1'767'225'600'000}};
  const auto samples = poll_samples(points, bad_percent, tick);
  std::uint64_t sequence = 0;
  std::size_t bytes = 0;
  for (auto _ : state) {
    Record m = encoder.telemetry("pdu-a", ++sequence, tick, samples);
    bytes = m.payload.size();
    benchmark::DoNotOptimize(m);
  }
  const auto n = static_cast<double>(points);
  state.counters["time/sample"] = benchmark::Counter(
      n, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  state.counters["bytes/sample"] = static_cast<double>(bytes) / n;
  state.counters["payload"] = static_cast<double>(bytes);
}

BENCHMARK(BM_EncodeTelemetry)
    ->ArgNames({"samples", "bad_pct"})
    ->Args({10, 0})
    ->Args({100, 0})
    ->Args({1000, 0})
    ->Args({1000, 10});

}  // namespace
}  // namespace rackwatch
