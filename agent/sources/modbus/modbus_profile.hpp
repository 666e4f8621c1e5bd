// Device profiles: a device model's registers described once, as YAML data
// (config/profiles/README.md has the format), and their lookup by name.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.hpp"
#include "core/diagnostics.hpp"
#include "sources/modbus/modbus_point.hpp"
#include "sources/modbus/sunspec_settings.hpp"

namespace YAML {
class Node;
}

namespace rackwatch {
class ConfigReader;
}

namespace rackwatch::modbus {

struct ProfilePoint {
  PointConfig point;
  RegisterPoint registers;
};

struct Profile {
  std::string file;
  std::string description;
  std::vector<ProfilePoint> points;
  std::vector<RegisterRange> unreadable;  // never read, not even through a gap
  // A SunSpec model's profile: the model, and the data start its addresses assume.
  std::optional<SunSpecModel> sunspec;

  const ProfilePoint* find(std::string_view name) const;
  std::string point_names() const;  // "a, b, c" for messages
};

// The register keys of a point (table, address, type, ...), beyond the
// common point keys.
extern const std::vector<std::string_view> kRegisterPointKeys;

// Reads a point's register keys; reports problems through `reader`.
std::optional<RegisterPoint> parse_register_point(const YAML::Node& node, ConfigReader& reader);

// Loads a profile file; every problem goes to `diags` as FILE:LINE:COL.
std::optional<Profile> load_profile(const std::string& path, Diagnostics& diags);

}  // namespace rackwatch::modbus
