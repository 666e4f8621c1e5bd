#include "sources/modbus/modbus_profile.hpp"

#include <set>

#include <yaml-cpp/yaml.h>

#include "core/bounded_file.hpp"
#include "sources/profile_file.hpp"
#include "core/config_reader.hpp"
#include "sources/modbus/sunspec_config.hpp"

namespace rackwatch::modbus {


const std::vector<std::string_view> kRegisterPointKeys{
    "table", "address", "type", "order", "precision", "scale_factor", "bit", "sentinels"};

namespace {

std::optional<Table> parse_table(std::string_view name) {
  if (name == "holding") return Table::holding_register;
  if (name == "input") return Table::input_register;
  if (name == "coil") return Table::coil;
  if (name == "discrete") return Table::discrete_input;
  return std::nullopt;
}

bool is_bit_table(Table table) { return table == Table::coil || table == Table::discrete_input; }

bool is_integer(ValueType type) {
  return type != ValueType::f32 && type != ValueType::f64 && type != ValueType::bit &&
         type != ValueType::string;
}

std::optional<std::uint16_t> address(ConfigReader& r, const YAML::Node& node, std::string_view key,
                                     bool required) {
  auto v = r.integer(node, key, required);
  if (!v) return std::nullopt;
  if (*v < 0 || *v > 65535) {
    r.error(r.child(node, key), "'" + std::string(key) + "' must be a register address 0..65535");
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(*v);
}

// The shared defaults (sources/profile_file.hpp), and: a default type is
// for registers; a coil or discrete input is a bit.
YAML::Node with_register_defaults(const YAML::Node& point, const YAML::Node& defaults) {
  const bool own_type = static_cast<bool>(point["type"]);
  YAML::Node merged = with_defaults(point, defaults);
  if (!own_type && merged["table"] && merged["table"].IsScalar()) {
    const auto table = parse_table(merged["table"].Scalar());
    if (table && is_bit_table(*table)) merged.remove("type");
  }
  return merged;
}

std::optional<RegisterRange> parse_range(const YAML::Node& node, ConfigReader& r) {
  if (!node.IsMap()) {
    r.error(node, "an unreadable range is a mapping {table, first, last}");
    return std::nullopt;
  }
  r.check_keys(node, {"table", "first", "last"}, "an unreadable range");
  RegisterRange range;
  if (auto v = r.string(node, "table")) {
    auto t = parse_table(*v);
    if (!t) {
      r.error(r.child(node, "table"), "unknown table '" + *v + "' (known: holding, input, coil, discrete)");
      return std::nullopt;
    }
    range.table = *t;
  }
  auto first = address(r, node, "first", true);
  auto last = address(r, node, "last", false);
  if (!first) return std::nullopt;
  if (!last) last = first;
  if (*last < *first) {
    r.error(r.child(node, "last"), "'last' must not be below 'first'");
    return std::nullopt;
  }
  range.address = *first;
  // A range of 65536 registers does not fit; nobody marks the whole table.
  range.count = static_cast<std::uint16_t>(std::min(65535, *last - *first + 1));
  return range;
}

}  // namespace

std::optional<RegisterPoint> parse_register_point(const YAML::Node& node, ConfigReader& r) {
  RegisterPoint p;
  bool ok = true;
  if (auto v = r.string(node, "table")) {
    if (auto t = parse_table(*v)) {
      p.table = *t;
    } else {
      r.error(r.child(node, "table"), "unknown table '" + *v + "' (known: holding, input, coil, discrete)");
      ok = false;
    }
  }
  const bool bits = is_bit_table(p.table);
  if (bits) p.format.type = ValueType::bit;
  if (auto a = address(r, node, "address", true)) {
    p.address = *a;
  } else {
    ok = false;
  }
  if (auto v = r.string(node, "type")) {
    auto t = parse_value_type(*v);
    if (!t || *t == ValueType::string) {
      r.error(r.child(node, "type"),
              "unknown type '" + *v + "' (known: u16, s16, u32, s32, u64, s64, f32, f64, bit)");
      ok = false;
    } else if (bits && *t != ValueType::bit) {
      r.error(r.child(node, "type"), "a coil or discrete input is one bit: type must be bit");
      ok = false;
    } else {
      p.format.type = *t;
    }
  }
  if (auto v = r.string(node, "order")) {
    if (auto o = parse_word_order(*v)) {
      p.format.order = *o;
    } else {
      r.error(r.child(node, "order"), "unknown order '" + *v + "' (known: abcd, cdab, badc, dcba)");
      ok = false;
    }
  }
  if (auto v = r.integer(node, "bit")) {
    if (bits) {
      r.error(r.child(node, "bit"), "'bit' selects a bit of a register; a coil or discrete input has one");
      ok = false;
    } else if (p.format.type != ValueType::bit) {
      r.error(r.child(node, "bit"), "'bit' needs type: bit");
      ok = false;
    } else if (*v < 0 || *v > 15) {
      r.error(r.child(node, "bit"), "'bit' must be 0..15");
      ok = false;
    } else {
      p.format.bit = static_cast<unsigned>(*v);
    }
  }
  if (auto v = r.integer(node, "precision")) {
    if (!is_integer(p.format.type)) {
      r.error(r.child(node, "precision"), "'precision' applies to integer types only");
      ok = false;
    } else if (*v < 0 || *v > 64) {
      r.error(r.child(node, "precision"), "'precision' must be 0..64 fractional bits");
      ok = false;
    } else {
      p.format.scaling = Scaling::fixed_point;
      p.format.precision = static_cast<unsigned>(*v);
    }
  }
  if (auto a = address(r, node, "scale_factor", false)) {
    if (!is_integer(p.format.type)) {
      r.error(r.child(node, "scale_factor"), "'scale_factor' applies to integer types only");
      ok = false;
    } else if (p.format.scaling == Scaling::fixed_point) {
      r.error(r.child(node, "scale_factor"), "'scale_factor' and 'precision' do not go together");
      ok = false;
    } else {
      p.format.scaling = Scaling::scale_factor;
      p.scale_factor_address = *a;
    }
  } else if (r.child(node, "scale_factor").IsDefined()) {
    ok = false;
  }
  if (auto v = r.boolean(node, "sentinels")) p.format.sentinels = *v;
  if (ok && !bits && p.address + register_count(p.format.type) > 65536) {
    r.error(r.child(node, "address"), "the value's registers run past address 65535");
    ok = false;
  }
  if (!ok) return std::nullopt;
  return p;
}

const ProfilePoint* Profile::find(std::string_view name) const {
  for (const auto& p : points) {
    if (p.point.name == name) return &p;
  }
  return nullptr;
}

std::string Profile::point_names() const {
  std::string out;
  for (const auto& p : points) {
    if (!out.empty()) out += ", ";
    out += p.point.name;
  }
  return out;
}

std::optional<Profile> load_profile(const std::string& path, Diagnostics& diags) {
  auto yaml = read_profile_yaml(path, diags);
  if (!yaml) return std::nullopt;
  const YAML::Node root = *yaml;
  const auto before = diags.size();
  ConfigReader r(path, diags);
  if (!root.IsMap()) {
    r.error(root, "a profile is a mapping with description and points");
    return std::nullopt;
  }
  r.check_keys(root, {"description", "defaults", "unreadable", "points", "sunspec"}, "a profile");
  Profile profile;
  profile.file = path;
  if (auto v = r.string(root, "description", true)) profile.description = *v;

  std::vector<std::string_view> default_keys;
  for (auto k : kCommonPointKeys) {
    if (k != "name") default_keys.push_back(k);
  }
  for (auto k : kRegisterPointKeys) {
    if (k != "address") default_keys.push_back(k);
  }
  const auto defaults = read_defaults(root, r, default_keys);

  auto unreadable = r.child(root, "unreadable");
  if (unreadable.IsDefined()) {
    if (!unreadable.IsSequence()) {
      r.error(unreadable, "'unreadable' must be a list of {table, first, last}");
    } else {
      for (const auto& n : unreadable) {
        if (auto range = parse_range(n, r)) profile.unreadable.push_back(*range);
      }
    }
  }

  auto points = r.child(root, "points");
  if (points.IsSequence() && points.size() > kMaxPointsPerSource) {
    r.error(points, "a profile has at most " + std::to_string(kMaxPointsPerSource) + " points, this one " +
                        std::to_string(points.size()));
    return std::nullopt;
  }
  if (!points.IsDefined() || !points.IsSequence() || points.size() == 0) {
    r.error(points.IsDefined() ? points : root, "a profile needs a non-empty list 'points'");
  } else {
    std::vector<std::string_view> allowed = kCommonPointKeys;
    allowed.insert(allowed.end(), kRegisterPointKeys.begin(), kRegisterPointKeys.end());
    std::set<std::string> names;
    for (const auto& n : points) {
      if (!n.IsMap()) {
        r.error(n, "each point must be a mapping with at least a name and an address");
        continue;
      }
      r.check_keys(n, allowed, "a profile point");
      const auto merged = with_register_defaults(n, defaults);
      ProfilePoint p;
      p.point = parse_point_common(merged, r);
      if (!p.point.name.empty() && !names.insert(p.point.name).second) {
        r.error(r.child(n, "name"), "duplicate point name '" + p.point.name + "'");
      }
      if (p.point.unit == Unit::unspecified) {
        r.error(n, "point '" + p.point.name + "' needs a quantity or a unit");
      }
      auto registers = parse_register_point(merged, r);
      if (!registers) continue;
      p.registers = *registers;
      profile.points.push_back(std::move(p));
    }
  }
  profile.sunspec = parse_sunspec_model(root, profile.points, r);
  if (diags.size() > before) return std::nullopt;
  return profile;
}

}  // namespace rackwatch::modbus
