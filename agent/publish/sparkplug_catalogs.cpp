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

void sparkplug_drop_samples(v1::Telemetry& telemetry, const std::function<bool(const v1::Sample&)>& drop) {
  auto* samples = telemetry.mutable_samples();
  int kept = 0;
  for (int i = 0; i < samples->size(); ++i) {
    if (drop(samples->Get(i))) continue;
    if (kept != i) samples->SwapElements(kept, i);
    ++kept;
  }
  samples->DeleteSubrange(kept, samples->size() - kept);
}

void sparkplug_remap(v1::Telemetry& telemetry, const std::vector<std::string>& from, const SparkplugLayout& to,
                     std::uint64_t& unmapped) {
  // A sample of a point `to` lacks has no metric; the others take `to`'s index.
  sparkplug_drop_samples(telemetry, [&](const v1::Sample& s) {
    const bool known = s.point() < from.size() && to.index_of.count(from[s.point()]) != 0;
    if (!known) ++unmapped;
    return !known;
  });
  for (auto& s : *telemetry.mutable_samples()) s.set_point(to.index_of.at(from[s.point()]));
  telemetry.set_catalog_id(to.catalog_id);
}

}  // namespace rackwatch
