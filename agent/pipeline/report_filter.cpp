#include "pipeline/report_filter.hpp"

#include <cmath>

namespace rackwatch {

std::optional<ReportRule> ReportRule::of(const PointConfig& point) {
  if (!point.deadband && !point.max_age) return std::nullopt;
  ReportRule rule;
  rule.deadband = point.deadband.value_or(0);
  rule.percent = point.deadband_percent;
  rule.max_age = point.max_age.value_or(kDefaultMaxAge);
  return rule;
}

bool ReportFilter::pass(const Sample& sample, bool forced) {
  if (sample.point >= rules_.size() || !rules_[sample.point]) return true;
  const auto& rule = *rules_[sample.point];
  auto& last = sent_[sample.point];
  const bool news = [&] {
    if (forced || !last) return true;
    if (sample.quality != last->quality || sample.reason != last->reason) return true;
    if (sample.time - last->time >= rule.max_age) return true;
    if (sample.time < last->time) return true;  // the clock went back: start afresh
    const double band = rule.percent ? rule.deadband / 100.0 * std::abs(last->value) : rule.deadband;
    return std::abs(sample.value - last->value) > band;
  }();
  if (news) last = sample;
  return news;
}

std::vector<bool> ReportFilter::select(const std::vector<Sample>& samples, const std::vector<bool>& forced) {
  std::vector<bool> out(samples.size(), false);
  bool any = false;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    out[i] = pass(samples[i], i < forced.size() && forced[i]);
    any = any || out[i];
  }
  if (!any) return out;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const auto& s = samples[i];
    if (out[i] || s.point >= rules_.size() || !rules_[s.point] || !sent_[s.point]) continue;
    if ((s.time - sent_[s.point]->time) * 2 >= rules_[s.point]->max_age) {
      out[i] = true;
      sent_[s.point] = s;
    }
  }
  return out;
}

void ReportFilter::apply(std::vector<Sample>& samples, const std::vector<bool>& forced) {
  const auto send = select(samples, forced);
  std::size_t kept = 0;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    if (!send[i]) continue;
    if (kept != i) samples[kept] = std::move(samples[i]);  // never onto itself: that may empty a string
    ++kept;
  }
  samples.resize(kept);
}

void ReportFilter::keep_state(const ReportFilter& old, const std::vector<std::optional<std::uint32_t>>& from) {
  for (std::size_t i = 0; i < sent_.size() && i < from.size(); ++i) {
    if (!from[i] || *from[i] >= old.sent_.size() || !old.sent_[*from[i]]) continue;
    sent_[i] = *old.sent_[*from[i]];
    sent_[i]->point = static_cast<std::uint32_t>(i);
  }
}

}  // namespace rackwatch
