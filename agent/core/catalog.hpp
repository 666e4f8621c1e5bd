// Every point of a config, polled and derived, numbered once: catalog index
// ↔ point id ↔ point config ↔ source ↔ interval, and the mapping from an
// earlier catalog at a reload. Point ids are made here and nowhere else.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/config.hpp"

namespace rackwatch {

// The id of a point: "{source}.{point}", or "derived.{name}".
std::string point_id(std::string_view device, std::string_view point);

struct CatalogPoint {
  std::string id;
  std::string_view device;            // the source's name, or "derived"
  const PointConfig* config = nullptr;
  std::optional<std::size_t> source;  // index into Config::sources; none for a derived point
  std::size_t position = 0;           // index in its source's points, or in Config::derived
  Millis interval{0};
  bool derived() const { return !source; }
};

class Catalog {
 public:
  // Refers into `config`, which must outlive the catalog (the agent keeps
  // the two together and replaces both at a reload).
  explicit Catalog(const Config& config);
  Catalog(const Catalog&) = delete;
  Catalog& operator=(const Catalog&) = delete;

  std::size_t size() const { return points_.size(); }
  const CatalogPoint& operator[](std::uint32_t index) const { return points_[index]; }
  const std::vector<CatalogPoint>& points() const { return points_; }

  // The index of a source's first point; its points follow in config order.
  std::uint32_t first_point(std::size_t source) const { return first_point_.at(source); }
  // The index of the first derived point; they follow in config order.
  std::uint32_t first_derived() const { return first_derived_; }
  std::uint32_t index_of_derived(std::size_t position) const {
    return first_derived_ + static_cast<std::uint32_t>(position);
  }
  std::uint32_t index_of(std::size_t source, std::size_t position) const {
    return first_point(source) + static_cast<std::uint32_t>(position);
  }
  std::optional<std::uint32_t> find(const std::string& id) const;
  // The index of a configured source, by name.
  std::optional<std::size_t> find_source(std::string_view name) const;

  // For each point of this catalog, its index in `previous`, when it was
  // there: how state follows its point across a reload.
  std::vector<std::optional<std::uint32_t>> carried_from(const Catalog& previous) const;

 private:
  std::vector<CatalogPoint> points_;
  std::vector<std::uint32_t> first_point_;
  std::uint32_t first_derived_ = 0;
  std::unordered_map<std::string, std::uint32_t> by_id_;
  std::vector<std::string_view> source_names_;
};

}  // namespace rackwatch
