#include "sources/snmp/snmp_profile.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <utility>

#include <yaml-cpp/yaml.h>

#include "core/config_reader.hpp"
#include "sources/profile_file.hpp"

namespace rackwatch::snmp {

namespace {

const std::vector<std::string_view> kTableKeys{"name", "index", "columns", "label", "points"};
const std::vector<std::string_view> kTemplateKeys{"value", "where", "ok_when", "decimals", "entity_scale"};

std::vector<std::string_view> joined(std::vector<std::string_view> a, const std::vector<std::string_view>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::optional<Oid> oid_at(const YAML::Node& map, const char* key, ConfigReader& r, bool required) {
  auto v = r.string(map, key, required);
  if (!v) return std::nullopt;
  auto oid = parse_oid(*v);
  if (!oid) r.error(r.child(map, key), "'" + std::string(key) + "' must be a numeric OID, found '" + *v + "'");
  return oid;
}

// The position of an alias among the table's columns, or an error at the key.
std::optional<std::size_t> column_of(const YAML::Node& map, const char* key, const TableSpec& t, ConfigReader& r,
                                     bool required) {
  auto v = r.string(map, key, required);
  if (!v) return std::nullopt;
  for (std::size_t c = 0; c < t.column_names.size(); ++c) {
    if (t.column_names[c] == *v) return c;
  }
  std::string known;
  for (const auto& n : t.column_names) known += (known.empty() ? "" : ", ") + n;
  r.error(r.child(map, key), "'" + std::string(key) + "' names no column of table '" + t.name + "' (it has: " +
                                 known + ")");
  return std::nullopt;
}

// {name: value or [values]}: each name an index part or a column alias.
std::vector<RowTest> row_tests(const YAML::Node& map, const char* key, const TableSpec& t, ConfigReader& r) {
  std::vector<RowTest> out;
  const auto node = r.child(map, key);
  if (!node.IsDefined()) return out;
  if (!node.IsMap()) {
    r.error(node, "'" + std::string(key) + "' must be a mapping {index part or column: value or [values]}");
    return out;
  }
  for (const auto& kv : node) {
    RowTest test;
    test.name = kv.first.Scalar();
    bool found = false;
    for (std::size_t p = 0; p < t.index.size() && !found; ++p) {
      if (t.index[p] == test.name) test = {true, p, test.name, {}}, found = true;
    }
    for (std::size_t c = 0; c < t.column_names.size() && !found; ++c) {
      if (t.column_names[c] == test.name) test = {false, c, test.name, {}}, found = true;
    }
    if (!found) {
      r.error(kv.first, "'" + test.name + "' is neither an index part nor a column of table '" + t.name + "'");
      continue;
    }
    // Integers only: 1.5 would be cut to 1, and .nan or 1e300 have no
    // int64 at all (the cast would be undefined).
    auto add = [&](const YAML::Node& v) {
      const auto n = r.as_number(v, "a value of '" + test.name + "'");
      if (!n) return;
      if (std::trunc(*n) != *n || std::fabs(*n) > 9.0e15) {
        r.error(v, "a value of '" + test.name + "' must be an integer, found '" + v.Scalar() + "'");
        return;
      }
      test.values.push_back(static_cast<std::int64_t>(*n));
    };
    if (kv.second.IsSequence()) {
      for (const auto& v : kv.second) add(v);
    } else {
      add(kv.second);
    }
    out.push_back(std::move(test));
  }
  return out;
}

// Each {placeholder} of a name template is filled in per row from an index
// part or the label; any other would stay braces in every name made, which
// is no valid name, and the template would make no point.
void check_placeholders(const YAML::Node& point, const std::string& name, const TableSpec& t, ConfigReader& r) {
  for (auto open = name.find('{'); open != std::string::npos; open = name.find('{', open + 1)) {
    const auto close = name.find('}', open);
    if (close == std::string::npos) return;  // no placeholder: parse_point_common reports the name
    const auto key = name.substr(open + 1, close - open - 1);
    if (key == "label" || std::find(t.index.begin(), t.index.end(), key) != t.index.end()) continue;
    std::string parts;
    for (const auto& p : t.index) parts += (parts.empty() ? "" : ", ") + p;
    r.error(r.child(point, "name"), "point name template '" + name + "' has {" + key +
                                        "}, which is neither a part of the index of table '" + t.name + "' (" +
                                        parts + ") nor {label}");
  }
}

void parse_table(const YAML::Node& node, const YAML::Node& defaults, SnmpProfile& profile, ConfigReader& r) {
  if (!node.IsMap()) {
    r.error(node, "a table is a mapping with name, index, columns and points");
    return;
  }
  r.check_keys(node, kTableKeys, "a table");
  TableSpec t;
  if (auto v = r.string(node, "name", true)) t.name = *v;
  if (auto parts = r.string_list(node, "index", true)) {
    t.index = *parts;
    if (t.index.empty()) r.error(r.child(node, "index"), "'index' names at least one part");
  }
  const auto columns = r.child(node, "columns");
  if (!columns.IsMap() || columns.size() == 0) {
    r.error(columns.IsDefined() ? columns : node, "'columns' must be a mapping of aliases to column OIDs");
    return;
  }
  for (const auto& kv : columns) {
    auto text = r.as_string(kv.second, "a column OID");
    auto oid = text ? parse_oid(*text) : std::nullopt;
    if (!oid) {
      if (text) r.error(kv.second, "column '" + kv.first.Scalar() + "' must be a numeric OID, found '" + *text + "'");
      continue;
    }
    t.column_names.push_back(kv.first.Scalar());
    t.columns.push_back(std::move(*oid));
  }
  if (r.child(node, "label").IsDefined()) t.label = column_of(node, "label", t, r, false);
  const auto points = r.child(node, "points");
  if (!points.IsSequence() || points.size() == 0) {
    r.error(points.IsDefined() ? points : node, "a table needs a non-empty list 'points' of templates");
    return;
  }
  std::set<std::string> names;
  for (const auto& n : points) {
    if (!n.IsMap()) {
      r.error(n, "each template must be a mapping with at least a name and a value column");
      continue;
    }
    r.check_keys(n, joined(kCommonPointKeys, kTemplateKeys), "a table point");
    const auto merged = with_defaults(n, defaults);
    TablePoint tp;
    tp.point = parse_point_common(merged, r, true);
    if (!tp.point.name.empty() && !names.insert(tp.point.name).second) {
      r.error(r.child(n, "name"), "duplicate template '" + tp.point.name + "' in table '" + t.name + "'");
    }
    if (tp.point.unit == Unit::unspecified) r.error(n, "point '" + tp.point.name + "' needs a quantity or a unit");
    check_placeholders(n, tp.point.name, t, r);
    if (auto c = column_of(n, "value", t, r, true)) tp.value = *c;
    tp.where = row_tests(n, "where", t, r);
    tp.ok_when = row_tests(n, "ok_when", t, r);
    if (r.child(n, "decimals").IsDefined()) tp.decimals = column_of(n, "decimals", t, r, false);
    if (r.child(n, "entity_scale").IsDefined()) tp.entity_scale = column_of(n, "entity_scale", t, r, false);
    t.points.push_back(std::move(tp));
  }
  profile.tables.push_back(std::move(t));
}

}  // namespace

std::optional<SnmpProfile> load_snmp_profile(const std::string& path, Diagnostics& diags) {
  auto yaml = read_profile_yaml(path, diags);
  if (!yaml) return std::nullopt;
  const YAML::Node root = *yaml;
  const auto before = diags.size();
  ConfigReader r(path, diags);
  if (!root.IsMap()) {
    r.error(root, "an SNMP profile is a mapping with description, snmp, and points or tables");
    return std::nullopt;
  }
  r.check_keys(root, {"description", "snmp", "defaults", "points", "tables"}, "an SNMP profile");
  SnmpProfile profile;
  profile.file = path;
  profile.name = std::filesystem::path(path).stem().string();
  if (auto v = r.string(root, "description", true)) profile.description = *v;

  const auto snmp = r.child(root, "snmp");
  if (!snmp.IsMap()) {
    r.error(snmp.IsDefined() ? snmp : root, "an SNMP profile has a mapping 'snmp' (with 'match' for profile: auto, "
                                            "or empty: {})");
  } else {
    r.check_keys(snmp, {"match"}, "'snmp'");
    const auto match = r.child(snmp, "match");
    if (match.IsDefined()) {
      r.check_keys(match, {"sys_object_id", "sys_descr"}, "'match'");
      if (auto list = r.string_list(match, "sys_object_id")) {
        for (const auto& text : *list) {
          if (auto oid = parse_oid(text)) {
            profile.match_oids.push_back(std::move(*oid));
          } else {
            r.error(r.child(match, "sys_object_id"), "'" + text + "' is not a numeric OID");
          }
        }
      }
      if (auto list = r.string_list(match, "sys_descr")) profile.match_descr = *list;
    }
  }

  std::vector<std::string_view> default_keys;
  for (auto k : kCommonPointKeys) {
    if (k != "name") default_keys.push_back(k);
  }
  const auto defaults = read_defaults(root, r, default_keys);

  const auto points = r.child(root, "points");
  if (points.IsDefined()) {
    if (!points.IsSequence()) {
      r.error(points, "'points' must be a list");
    } else {
      std::set<std::string> names;
      for (const auto& n : points) {
        if (!n.IsMap()) {
          r.error(n, "each point must be a mapping with at least a name and an oid");
          continue;
        }
        r.check_keys(n, joined(kCommonPointKeys, {"oid"}), "a profile point");
        const auto merged = with_defaults(n, defaults);
        auto point = parse_point_common(merged, r);
        if (!point.name.empty() && !names.insert(point.name).second) {
          r.error(r.child(n, "name"), "duplicate point name '" + point.name + "'");
        }
        if (point.unit == Unit::unspecified) r.error(n, "point '" + point.name + "' needs a quantity or a unit");
        auto oid = oid_at(n, "oid", r, true);
        if (!oid) continue;
        profile.points.push_back(std::move(point));
        profile.oids.push_back({std::move(*oid)});
      }
    }
  }
  const auto tables = r.child(root, "tables");
  if (tables.IsDefined()) {
    if (!tables.IsSequence()) {
      r.error(tables, "'tables' must be a list");
    } else {
      for (const auto& t : tables) parse_table(t, defaults, profile, r);
    }
  }
  if (!points.IsDefined() && !tables.IsDefined()) r.error(root, "an SNMP profile needs 'points', 'tables' or both");
  if (diags.size() > before) return std::nullopt;
  return profile;
}

bool SnmpSettings::finds_points() const { return auto_profile || (profile && !profile->tables.empty()); }

ProfileChoice choose_profile(const std::vector<std::shared_ptr<const SnmpProfile>>& candidates,
                             std::shared_ptr<const SnmpProfile> fallback, const std::optional<Oid>& sys_object_id,
                             std::string_view sys_descr) {
  // What the device said, as the start of each answer.
  const std::string said = sys_object_id ? "sysObjectID " + format_oid(*sys_object_id) : "the device gave no sysObjectID";
  std::shared_ptr<const SnmpProfile> best;
  const Oid* best_prefix = nullptr;
  if (sys_object_id) {
    for (const auto& p : candidates) {
      for (const auto& prefix : p->match_oids) {
        if (starts_with(*sys_object_id, prefix) && (!best_prefix || prefix.size() > best_prefix->size())) {
          best = p;
          best_prefix = &prefix;
        }
      }
    }
  }
  if (best) return {best, said + " is under " + format_oid(*best_prefix) + " (" + best->file + ")"};
  for (const auto& p : candidates) {
    for (const auto& text : p->match_descr) {
      if (!text.empty() && sys_descr.find(text) != std::string_view::npos) {
        return {p, said + (sys_object_id ? " matches no profile" : "") + "; sysDescr contains \"" + text + "\" (" +
                       p->file + ")"};
      }
    }
  }
  return {fallback, said + (sys_object_id ? " and sysDescr match" : "; its sysDescr matches") +
                        " no vendor profile: the standard ENTITY-SENSOR-MIB (" +
                        (fallback ? fallback->file : std::string("none")) + ")"};
}

}  // namespace rackwatch::snmp
