#include "publish/sparkplug_catalogs.hpp"

#include "rackwatch/v1/telemetry.pb.h"

namespace rackwatch {

void SparkplugCatalogs::remember(const v1::Catalog& catalog) {
  auto [it, added] = points_.try_emplace(catalog.catalog_id());
  if (!added) return;
  it->second.reserve(static_cast<std::size_t>(catalog.points_size()));
  for (const auto& p : catalog.points()) it->second.push_back(p.id());
  order_.push_back(catalog.catalog_id());
  if (order_.size() > kKept) {
    points_.erase(order_.front());
    order_.pop_front();
  }
}

const std::vector<std::string>* SparkplugCatalogs::points(const std::string& id) const {
  const auto it = points_.find(id);
  return it == points_.end() ? nullptr : &it->second;
}

void sparkplug_remap(v1::Telemetry& telemetry, const std::vector<std::string>& from, const SparkplugLayout& to,
                     std::uint64_t& unmapped) {
  auto* samples = telemetry.mutable_samples();
  int kept = 0;
  for (int i = 0; i < samples->size(); ++i) {
    auto& s = *samples->Mutable(i);
    const auto found = s.point() < from.size() ? to.index_of.find(from[s.point()]) : to.index_of.end();
    if (found == to.index_of.end()) {
      ++unmapped;
      continue;
    }
    s.set_point(found->second);
    if (kept != i) samples->SwapElements(kept, i);
    ++kept;
  }
  samples->DeleteSubrange(kept, samples->size() - kept);
  telemetry.set_catalog_id(to.catalog_id);
}

}  // namespace rackwatch
