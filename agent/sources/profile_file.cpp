#include "sources/profile_file.hpp"

#include <filesystem>

#include "core/bounded_file.hpp"
#include "core/config.hpp"
#include "core/config_reader.hpp"

namespace rackwatch {

namespace fs = std::filesystem;

std::vector<std::string> profile_dirs(const std::string& config_file) {
  return {(fs::path(config_file).parent_path() / "profiles").string(), RACKWATCH_PROFILE_DIR};
}

std::optional<std::string> find_profile(const std::string& value, const std::string& config_file,
                                        std::vector<std::string>& tried) {
  auto exists = [&](const fs::path& p) {
    tried.push_back(p.string());
    std::error_code ec;
    return fs::is_regular_file(p, ec);
  };
  const bool is_path = value.find('/') != std::string::npos || (value.size() > 5 && value.ends_with(".yaml"));
  if (is_path) {
    fs::path p(value);
    if (p.is_relative()) p = fs::path(config_file).parent_path() / p;
    if (exists(p)) return p.string();
    return std::nullopt;
  }
  for (const auto& dir : profile_dirs(config_file)) {
    const auto p = fs::path(dir) / (value + ".yaml");
    if (exists(p)) return p.string();
  }
  return std::nullopt;
}

std::optional<YAML::Node> read_profile_yaml(const std::string& path, Diagnostics& diags) {
  auto file = read_bounded_file(path, kMaxConfigBytes);
  if (!file.text) {
    diags.error({path, 0, 0}, "cannot read profile: " + file.error);
    return std::nullopt;
  }
  if (!within_yaml_bounds(*file.text, path, diags)) return std::nullopt;
  try {
    return YAML::Load(*file.text);
  } catch (const YAML::Exception& e) {
    diags.error({path, e.mark.line + 1, e.mark.column + 1}, "YAML syntax: " + e.msg);
    return std::nullopt;
  }
}

std::optional<ProfileKind> profile_kind(const std::string& path) {
  Diagnostics ignored;
  auto yaml = read_profile_yaml(path, ignored);
  if (!yaml) return std::nullopt;
  return yaml->IsMap() && (*yaml)["snmp"].IsDefined() ? ProfileKind::snmp : ProfileKind::modbus;
}

YAML::Node read_defaults(const YAML::Node& root, ConfigReader& r, const std::vector<std::string_view>& allowed) {
  auto defaults = r.child(root, "defaults");
  if (!defaults.IsDefined()) return defaults;
  if (!defaults.IsMap()) {
    r.error(defaults, "'defaults' must be a mapping of point keys");
    return YAML::Node();
  }
  r.check_keys(defaults, allowed, "the profile's defaults");
  return defaults;
}

YAML::Node with_defaults(const YAML::Node& point, const YAML::Node& defaults) {
  YAML::Node merged = point;
  if (!defaults.IsMap()) return merged;
  for (const auto& kv : defaults) {
    const auto key = kv.first.Scalar();
    if (!merged[key]) merged[key] = kv.second;
  }
  return merged;
}

}  // namespace rackwatch
