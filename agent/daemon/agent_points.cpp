// The agent's view of every point, polled and derived, and the stages that
// follow its config: derived points and report by exception.
#include "core/derived_config.hpp"
#include "daemon/agent.hpp"

namespace rackwatch {

void Agent::for_each_point(
    const std::function<void(std::uint32_t, const std::string&, const PointConfig&, Millis)>& f) const {
  for (std::size_t s = 0; s < config_.sources.size(); ++s) {
    const auto& sc = config_.sources[s];
    const auto first = encoder_->first_point(s);
    for (std::size_t k = 0; k < sc.points.size(); ++k) {
      f(first + static_cast<std::uint32_t>(k), sc.name + "." + sc.points[k].name, sc.points[k], sc.interval);
    }
  }
  const auto first = encoder_->first_derived();
  for (std::size_t i = 0; i < config_.derived.size(); ++i) {
    const auto& d = config_.derived[i];
    f(first + static_cast<std::uint32_t>(i), std::string(kDerivedDevice) + "." + d.point.name, d.point, d.interval);
  }
}

void Agent::init_derived(std::unique_ptr<DerivedPoints> old) {
  std::map<std::string, std::uint32_t> index_of;
  for (std::size_t s = 0; s < config_.sources.size(); ++s) {
    const auto& sc = config_.sources[s];
    for (std::size_t k = 0; k < sc.points.size(); ++k) {
      index_of[sc.name + "." + sc.points[k].name] = encoder_->first_point(s) + static_cast<std::uint32_t>(k);
    }
  }
  derived_ = std::make_unique<DerivedPoints>(config_, encoder_->first_derived(), index_of);
  if (old) derived_->keep_state(*old);
}

void Agent::init_report(const std::vector<std::string>& old_ids) {
  std::vector<std::optional<ReportRule>> rules(encoder_->point_count());
  std::vector<std::string> ids(encoder_->point_count());
  for_each_point([&](std::uint32_t index, const std::string& id, const PointConfig& pc, Millis) {
    rules[index] = ReportRule::of(pc);
    ids[index] = id;
  });
  auto next = std::make_unique<ReportFilter>(std::move(rules));
  if (report_) next->keep_state(*report_, old_ids, ids);
  report_ = std::move(next);
}

}  // namespace rackwatch
