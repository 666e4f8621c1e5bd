// What config loading needs of a source type: its `type:` name, its keys and
// the parsing of its own settings (SourceType, sources/source.hpp, adds the
// making of sources); and the set of them a config may name.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.hpp"

namespace YAML {
class Node;
}

namespace rackwatch {

class ConfigReader;

class SourceParser {
 public:
  virtual ~SourceParser() = default;

  // The `type:` value that selects this kind of source.
  virtual std::string_view name() const = 0;
  // Keys this type accepts in a source mapping and in each point, beyond the
  // common ones (name, type, interval, timeout, points / name, quantity, ...).
  virtual std::vector<std::string_view> source_keys() const = 0;
  virtual std::vector<std::string_view> point_keys() const = 0;
  // True when a source of this type may leave out `points` (its points then
  // come from elsewhere, a device profile) and parse() fills them in.
  virtual bool points_optional() const { return false; }

  // Reads and checks the type's own keys. `points` hold the common fields
  // already parsed and may be completed here (a type may infer a point's
  // quantity and unit); `point_nodes[i]` is the YAML of `points[i]`.
  // Reports problems through `reader`; returns the settings (may be partial
  // when problems were reported).
  virtual std::shared_ptr<const SourceSettings> parse(const YAML::Node& source,
                                                      const std::vector<YAML::Node>& point_nodes,
                                                      std::vector<PointConfig>& points,
                                                      ConfigReader& reader) const = 0;
};

// The source types a program was built with, as config loading looks them
// up. Core knows no protocol: the programs pass theirs in (sources/registry.hpp).
class SourceParsers {
 public:
  virtual ~SourceParsers() = default;
  // nullptr when no type has that name.
  virtual const SourceParser* find(std::string_view name) const = 0;
  // "hwmon, sim, ..." for error messages.
  virtual std::string names() const = 0;
};

}  // namespace rackwatch
