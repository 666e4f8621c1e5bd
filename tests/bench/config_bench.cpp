// parse_config: what loading (and later reloading) a configuration costs,
// for the demo rack and for generated sim configs of 1 000 and 10 000 points.
#include <benchmark/benchmark.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "bench/sim_config.hpp"
#include "core/config.hpp"
#include "sources/builtin/builtin_types.hpp"
#include "support/read_text.hpp"

namespace rackwatch {
namespace {

void parse(benchmark::State& state, const std::string& text, const std::string& file) {
  std::size_t points = 0;
  for (auto _ : state) {
    Diagnostics diags;
    auto config = parse_config(text, file, builtin_source_types(), diags);
    if (!config) {
      state.SkipWithError(("config does not parse: " + diags.items().front().message).c_str());
      break;
    }
    points = 0;
    for (const auto& s : config->sources) points += s.points.size();
    benchmark::DoNotOptimize(config);
  }
  state.counters["points"] = static_cast<double>(points);
  state.counters["bytes"] = static_cast<double>(text.size());
}

void BM_ParseConfigDemo(benchmark::State& state) {
  const std::string file = std::string(RACKWATCH_SOURCE_DIR) + "/config/demo.yaml";
  parse(state, test::read_text(file), file);
}

BENCHMARK(BM_ParseConfigDemo)->Unit(benchmark::kMillisecond);

void BM_ParseConfigSim(benchmark::State& state) {
  bench::SimConfigSpec spec;
  spec.points = static_cast<std::size_t>(state.range(0));
  spec.per_source = 100;
  parse(state, bench::sim_config_yaml(spec), "generated.yaml");
}

BENCHMARK(BM_ParseConfigSim)->ArgName("points")->Arg(1'000)->Arg(10'000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace rackwatch
