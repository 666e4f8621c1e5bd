#include "pipeline/pipeline.hpp"

#include <algorithm>
#include <iterator>

#include "pipeline/condition.hpp"
#include "pipeline/derived.hpp"
#include "pipeline/report_filter.hpp"

namespace rackwatch {

Pipeline::Pipeline(const Config& config, const Catalog& catalog)
    : config_(config),
      catalog_(catalog),
      latest_(catalog.size()),
      thresholds_(catalog.size()),
      derived_(std::make_unique<DerivedPoints>(config, catalog)) {
  std::vector<std::optional<ReportRule>> rules(catalog.size());
  for (std::uint32_t i = 0; i < catalog.size(); ++i) {
    const auto& pc = *catalog[i].config;
    rules[i] = ReportRule::of(pc);
    if (pc.thresholds && pc.thresholds->any()) thresholds_[i].emplace(*pc.thresholds);
  }
  report_ = std::make_unique<ReportFilter>(std::move(rules));
}

Pipeline::~Pipeline() = default;

void Pipeline::carry_over(Pipeline& previous) {
  const auto from = catalog_.carried_from(previous.catalog_);
  for (std::uint32_t i = 0; i < from.size(); ++i) {
    if (!from[i]) continue;
    latest_[i] = previous.latest_[*from[i]];
    latest_[i].point = i;
    // An active alarm is neither lost nor raised twice while its limits stay.
    auto& old = previous.thresholds_[*from[i]];
    if (thresholds_[i] && old && old->config() == thresholds_[i]->config()) thresholds_[i] = std::move(old);
  }
  derived_->keep_state(*previous.derived_);
  report_->keep_state(*previous.report_, from);
}

std::vector<Sample> Pipeline::condition_only(std::size_t source, const std::vector<RawReading>& readings) const {
  const auto& sc = config_.sources[source];
  std::vector<Sample> samples;
  const auto n = std::min(readings.size(), sc.points.size());
  samples.reserve(n);
  for (std::size_t k = 0; k < n; ++k) {
    samples.push_back(condition(sc.points[k], catalog_.index_of(source, k), readings[k]));
  }
  return samples;
}

PollOutput Pipeline::process(std::size_t source, TimePoint tick, const std::vector<RawReading>& readings) {
  PollOutput out;
  out.samples = condition_only(source, readings);
  for (const auto& sample : out.samples) {
    latest_[sample.point] = sample;
    if (has_value(sample.quality)) continue;
    if (out.bad_points++ == 0) out.first_error = sample.reason;
  }
  // Derived points that depend on this source ride in its message.
  auto derived = derived_->evaluate(source, latest_, tick);
  out.samples.insert(out.samples.end(), std::make_move_iterator(derived.begin()),
                     std::make_move_iterator(derived.end()));
  // Alarms first: a sample that raised or cleared one is always sent.
  out.alarms = decide_alarms(tick, out.samples);
  std::vector<bool> alarmed(out.samples.size(), false);
  for (std::size_t i = 0; i < out.samples.size(); ++i) {
    alarmed[i] = std::any_of(out.alarms.begin(), out.alarms.end(),
                             [&](const PointAlarm& a) { return a.point == out.samples[i].point; });
  }
  report_->apply(out.samples, alarmed);
  return out;
}

std::vector<PointAlarm> Pipeline::decide_alarms(TimePoint tick, const std::vector<Sample>& samples) {
  std::vector<PointAlarm> out;
  for (const auto& sample : samples) {
    auto& thr = thresholds_[sample.point];
    if (!thr) continue;
    for (const auto& e : thr->advance(tick, catalog_[sample.point].interval)) out.push_back({sample.point, e});
    for (const auto& e : thr->update(sample)) out.push_back({sample.point, e});
  }
  return out;
}

bool Pipeline::alarm_active(std::uint32_t point, AlarmKind kind) const {
  return point < thresholds_.size() && thresholds_[point] && thresholds_[point]->active(kind);
}

}  // namespace rackwatch
