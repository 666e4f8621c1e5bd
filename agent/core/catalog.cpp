#include "core/catalog.hpp"

#include "core/derived_config.hpp"

namespace rackwatch {

std::string point_id(std::string_view device, std::string_view point) {
  std::string id;
  id.reserve(device.size() + 1 + point.size());
  id.append(device).append(".").append(point);
  return id;
}

Catalog::Catalog(const Config& config) {
  std::size_t total = config.derived.size();
  for (const auto& sc : config.sources) total += sc.points.size();
  points_.reserve(total);
  by_id_.reserve(total);
  for (std::size_t s = 0; s < config.sources.size(); ++s) {
    const auto& sc = config.sources[s];
    first_point_.push_back(static_cast<std::uint32_t>(points_.size()));
    source_names_.push_back(sc.name);
    for (std::size_t k = 0; k < sc.points.size(); ++k) {
      points_.push_back({point_id(sc.name, sc.points[k].name), sc.name, &sc.points[k], s, k, sc.interval});
    }
  }
  first_derived_ = static_cast<std::uint32_t>(points_.size());
  for (std::size_t i = 0; i < config.derived.size(); ++i) {
    const auto& d = config.derived[i];
    points_.push_back({point_id(kDerivedDevice, d.point.name), kDerivedDevice, &d.point, std::nullopt, i, d.interval});
  }
  for (std::uint32_t i = 0; i < points_.size(); ++i) by_id_.emplace(points_[i].id, i);
}

std::optional<std::uint32_t> Catalog::find(const std::string& id) const {
  const auto it = by_id_.find(id);
  if (it == by_id_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::size_t> Catalog::find_source(std::string_view name) const {
  for (std::size_t s = 0; s < source_names_.size(); ++s) {
    if (source_names_[s] == name) return s;
  }
  return std::nullopt;
}

std::vector<std::optional<std::uint32_t>> Catalog::carried_from(const Catalog& previous) const {
  std::vector<std::optional<std::uint32_t>> out(points_.size());
  for (std::size_t i = 0; i < points_.size(); ++i) out[i] = previous.find(points_[i].id);
  return out;
}

}  // namespace rackwatch
