// condition(), the pipeline stage every reading goes through: time per
// reading on the good path and on each bad path, applied to one poll of
// readings as the agent does (into a reserved vector of Samples).
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <vector>

#include "pipeline/condition.hpp"

namespace rackwatch {
namespace {

constexpr std::size_t kPollSize = 100;

enum class Path { good, read_error, sentinel, out_of_range, not_a_number };

// A PDU phase power as a Modbus map gives it: tenths of a kW, 0xFFFF for
// "not available", and a range check.
PointConfig phase_power() {
  PointConfig p;
  p.name = "l1_power";
  p.quantity = "power";
  p.unit = Unit::watt;
  p.from = DeviceUnit{Unit::watt, 1'000.0, 0.0};  // kW
  p.scale = 0.1;
  p.min = 0.0;
  p.max = 60'000.0;
  p.invalid = {65'535.0, 32'768.0};
  return p;
}

RawReading reading(Path path, TimePoint t) {
  switch (path) {
    case Path::good: return RawReading::success(412.0, t);  // 41.2 kW
    case Path::read_error:
      // As long as a real one: no small-string optimisation.
      return RawReading::failure("cannot read /sys/class/hwmon/hwmon3/power1_input: No such device", t);
    case Path::sentinel: return RawReading::success(65'535.0, t);
    case Path::out_of_range: return RawReading::success(900.0, t);  // 90 kW > 60 kW
    case Path::not_a_number: return RawReading::success(std::numeric_limits<double>::quiet_NaN(), t);
  }
  return {};
}

void BM_Condition(benchmark::State& state, Path path) {
  const std::vector<PointConfig> points(kPollSize, phase_power());
  const TimePoint t = Clock::now();
  const std::vector<RawReading> readings(kPollSize, reading(path, t));
  for (auto _ : state) {
    std::vector<Sample> samples;
    samples.reserve(readings.size());
    for (std::size_t k = 0; k < readings.size(); ++k) {
      samples.push_back(condition(points[k], static_cast<std::uint32_t>(k), readings[k]));
    }
    benchmark::DoNotOptimize(samples.data());
    benchmark::ClobberMemory();
  }
  state.counters["time/reading"] = benchmark::Counter(
      static_cast<double>(kPollSize),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

BENCHMARK_CAPTURE(BM_Condition, good, Path::good);
BENCHMARK_CAPTURE(BM_Condition, read_error, Path::read_error);
BENCHMARK_CAPTURE(BM_Condition, sentinel, Path::sentinel);
BENCHMARK_CAPTURE(BM_Condition, out_of_range, Path::out_of_range);
BENCHMARK_CAPTURE(BM_Condition, not_a_number, Path::not_a_number);

}  // namespace
}  // namespace rackwatch
