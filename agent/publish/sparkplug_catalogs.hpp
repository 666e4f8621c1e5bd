// The catalogs a Sparkplug node has seen, by id: telemetry stored for one
// of them (before a reload or a restart) is sent by the current births'
// aliases, found by point id. A point that is no longer configured has no
// metric to carry it.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "publish/sparkplug_encoder.hpp"

namespace rackwatch {

namespace v1 {
class Catalog;
class Sample;
class Telemetry;
}  // namespace v1

class SparkplugCatalogs {
 public:
  // Kept: a few reloads' worth; an outbox rarely spans more.
  static constexpr std::size_t kKept = 64;

  void remember(const v1::Catalog& catalog);
  // The point ids of catalog `id`, by index; null when not seen.
  const std::vector<std::string>* points(const std::string& id) const;

 private:
  std::map<std::string, std::vector<std::string>> points_;
  std::deque<std::string> order_;  // oldest first
};

// Removes the samples `drop` says, keeping the others in order.
void sparkplug_drop_samples(v1::Telemetry& telemetry, const std::function<bool(const v1::Sample&)>& drop);

// Rewrites `telemetry`'s point indexes from the catalog whose point ids are
// `from` to `to`'s, by id, and its catalog id to `to`'s; samples of points
// `to` lacks are removed and counted in `unmapped`.
void sparkplug_remap(v1::Telemetry& telemetry, const std::vector<std::string>& from, const SparkplugLayout& to,
                     std::uint64_t& unmapped);

}  // namespace rackwatch
