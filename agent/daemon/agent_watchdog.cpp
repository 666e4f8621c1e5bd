// What the watchdog asks of the agent: where each source runner is.
#include "sources/source_runner.hpp"
#include "daemon/agent.hpp"

namespace rackwatch {

std::vector<RunnerProgress> Agent::progress() const {
  std::vector<RunnerProgress> out;
  out.reserve(runners_.size());
  for (const auto& runner : runners_) {
    if (!runner) continue;
    if (auto p = runner->progress()) out.push_back(std::move(*p));
  }
  return out;
}

}  // namespace rackwatch
