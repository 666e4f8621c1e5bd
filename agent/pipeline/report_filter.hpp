// Report by exception: a point's sample is sent when it says something new —
// its first, a change of quality or reason, a move beyond the deadband from
// the last value sent, or when max_age has passed since that one. A sample
// that raised or cleared an alarm is always sent. Pure: samples in, a yes or
// no out; the state is the last sample sent of each point.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/reading.hpp"

namespace rackwatch {

struct ReportRule {
  double deadband = 0;  // 0: any change is news
  bool percent = false;  // of the last value sent
  Millis max_age = kDefaultMaxAge;

  // The point's rule, or none (every sample sent) when it sets neither key.
  static std::optional<ReportRule> of(const PointConfig& point);
  friend bool operator==(const ReportRule&, const ReportRule&) = default;
};

class ReportFilter {
 public:
  // One rule per catalog index.
  explicit ReportFilter(std::vector<std::optional<ReportRule>> rules) : rules_(std::move(rules)), sent_(rules_.size()) {}

  // Whether `sample` is sent; `forced` (an alarm decided on it) says yes.
  // A yes makes it the point's last sample sent.
  bool pass(const Sample& sample, bool forced = false);

  // The samples of one message to send: those that pass, and — when any
  // does, so the message goes anyway — those past half their max_age, which
  // would otherwise soon need a message of their own. `forced[i]`: an alarm
  // was decided on samples[i].
  std::vector<bool> select(const std::vector<Sample>& samples, const std::vector<bool>& forced);
  // The same, keeping only the samples to send, in their order.
  void apply(std::vector<Sample>& samples, const std::vector<bool>& forced);

  // Takes over the last samples sent by `old`, so a reload does not resend
  // every steady value. `from[i]`: point i's index in `old`, if it was there.
  void keep_state(const ReportFilter& old, const std::vector<std::optional<std::uint32_t>>& from);

  std::size_t size() const { return rules_.size(); }

 private:
  std::vector<std::optional<ReportRule>> rules_;
  std::vector<std::optional<Sample>> sent_;
};

}  // namespace rackwatch
