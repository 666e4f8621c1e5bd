// Device profiles as files: where a `profile:` value is looked for, the
// directories `profile: auto` searches, and a profile's YAML read within the
// bounds of a config file. What a profile holds is each protocol's own.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "core/diagnostics.hpp"

namespace rackwatch {

class ConfigReader;

// The directories profiles are looked up in, in order: profiles/ beside the
// config file, then the installed profiles.
std::vector<std::string> profile_dirs(const std::string& config_file);

// The file a `profile:` value names, for a config file at `config_file`:
// a value with '/' or ending in ".yaml" is a path relative to the config's
// directory; a name is NAME.yaml in the profile_dirs(), the first found.
// Nothing when not found; `tried` lists where it looked.
std::optional<std::string> find_profile(const std::string& value, const std::string& config_file,
                                        std::vector<std::string>& tried);

// Which protocol's profile a file holds: an SNMP profile has a mapping
// `snmp:`; every other profile is a Modbus one. Nothing when the file cannot
// be read as YAML.
enum class ProfileKind : std::uint8_t { modbus, snmp };
std::optional<ProfileKind> profile_kind(const std::string& path);

// A profile file's YAML, read within the bounds of a config; every problem
// goes to `diags` as FILE:LINE:COL.
std::optional<YAML::Node> read_profile_yaml(const std::string& path, Diagnostics& diags);

// A profile's `defaults:` mapping, checked: `allowed` are the keys a
// default may set (a point's keys but those that make it one point, such as
// its name). Undefined when absent or not a mapping (then said).
YAML::Node read_defaults(const YAML::Node& root, ConfigReader& reader, const std::vector<std::string_view>& allowed);

// A profile's `defaults` apply to every point for the keys it leaves out.
// Added into the point's own node (YAML nodes are references), so that
// every value keeps the line it was written on.
YAML::Node with_defaults(const YAML::Node& point, const YAML::Node& defaults);

}  // namespace rackwatch
