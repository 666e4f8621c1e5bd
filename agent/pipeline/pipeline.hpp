// The agent's data path from a source's poll to what is sent, as one object
// of pure stages: conditioning → derived points → thresholds → report by
// exception. No I/O and no clock: times come in with the poll.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/catalog.hpp"
#include "core/config.hpp"
#include "core/reading.hpp"
#include "pipeline/thresholds.hpp"

namespace rackwatch {

class DerivedPoints;
class ReportFilter;

// An alarm raised or cleared on a catalog point.
struct PointAlarm {
  std::uint32_t point = 0;
  AlarmEvent event;
};

// What one poll gives: the samples to send (none when nothing is new) and
// the alarms it decided, in the order they were decided.
struct PollOutput {
  std::vector<Sample> samples;
  std::vector<PointAlarm> alarms;
  std::uint32_t bad_points = 0;  // of the source's own points
  std::string first_error;       // the reason of the first of those
};

class Pipeline {
 public:
  // Refers to `config` and `catalog`, which must outlive it.
  Pipeline(const Config& config, const Catalog& catalog);
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Takes over what `previous` (the pipeline of the config before a reload,
  // whose catalog is still alive) knows of the points that remain: latest
  // values, threshold states where the thresholds are unchanged, derived
  // state where the expression is unchanged, and what was last sent.
  void carry_over(Pipeline& previous);

  // One poll of source `source` (its index in the config), one reading per
  // configured point, taken at `tick`.
  PollOutput process(std::size_t source, TimePoint tick, const std::vector<RawReading>& readings);

  // The source's readings conditioned, without touching any state: what a
  // poll on demand shows.
  std::vector<Sample> condition_only(std::size_t source, const std::vector<RawReading>& readings) const;

  // The latest sample of every point, by catalog index; a point never read
  // has a default Sample (time zero).
  const std::vector<Sample>& latest() const { return latest_; }
  // Whether an alarm of this kind is active on the point.
  bool alarm_active(std::uint32_t point, AlarmKind kind) const;
  const Catalog& catalog() const { return catalog_; }

 private:
  std::vector<PointAlarm> decide_alarms(TimePoint tick, const std::vector<Sample>& samples);

  const Config& config_;
  const Catalog& catalog_;
  std::vector<Sample> latest_;
  std::vector<std::optional<PointThresholds>> thresholds_;  // by catalog index
  std::unique_ptr<DerivedPoints> derived_;
  std::unique_ptr<ReportFilter> report_;
};

}  // namespace rackwatch
