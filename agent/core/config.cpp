#include "core/config.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/bounded_file.hpp"
#include "core/config_reader.hpp"
#include "core/derived_config.hpp"
#include "core/hash.hpp"
#include "core/mqtt_config.hpp"
#include "core/host.hpp"
#include "core/source_parser.hpp"

namespace rackwatch {

std::string_view fsync_policy_name(FsyncPolicy p) {
  switch (p) {
    case FsyncPolicy::always: return "always";
    case FsyncPolicy::interval: return "interval";
    case FsyncPolicy::never: return "never";
  }
  return "?";
}

std::string_view mqtt_protocol_name(MqttProtocol p) { return p == MqttProtocol::v5 ? "5" : "3.1.1"; }

std::string_view mqtt_format_name(MqttFormat f) { return f == MqttFormat::sparkplug ? "sparkplug" : "native"; }

std::string_view tls_version_name(TlsVersion v) { return v == TlsVersion::v1_3 ? "1.3" : "1.2"; }

bool valid_name(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

namespace {

void parse_agent(const YAML::Node& node, ConfigReader& r, AgentConfig& out) {
  if (!node.IsDefined()) {
    r.error(node, "missing required section 'agent'");
    return;
  }
  if (!node.IsMap()) {
    r.error(node, "'agent' must be a mapping with site, rack and id");
    return;
  }
  r.check_keys(node, {"site", "rack", "id"}, "agent");
  auto check = [&](std::string_view key, bool required) -> std::string {
    auto v = r.string(node, key, required);
    if (!v) return {};
    if (!valid_name(*v)) {
      r.error(r.child(node, key), "agent " + std::string(key) + " '" + *v +
                                      "' must be 1-64 letters, digits, '-' or '_' (it is a topic level)");
    }
    return *v;
  };
  out.site = check("site", true);
  out.rack = check("rack", true);
  out.id = check("id", false);
  if (out.id.empty()) out.id = host_name();
  if (out.id.empty()) out.id = "rackwatch";
}

void parse_diag(const YAML::Node& node, ConfigReader& r, DiagConfig& out) {
  if (!node.IsDefined()) return;
  if (!node.IsMap()) {
    r.error(node, "'diag' must be a mapping");
    return;
  }
  r.check_keys(node, {"socket"}, "diag");
  if (auto v = r.string(node, "socket")) {
    if (v->empty() || v->front() != '/') {
      r.error(r.child(node, "socket"), "diag 'socket' must be an absolute path");
    } else if (v->size() > 100) {
      // sockaddr_un holds 108 bytes with the terminating NUL.
      r.error(r.child(node, "socket"), "diag 'socket' must be at most 100 characters (a Unix socket path limit)");
    } else {
      out.socket = *v;
    }
  }
}

void parse_outbox(const YAML::Node& node, ConfigReader& r, OutboxConfig& out) {
  out.dir_mark = r.mark(node);
  if (!node.IsDefined()) return;  // all defaults
  if (!node.IsMap()) {
    r.error(node, "'outbox' must be a mapping");
    return;
  }
  r.check_keys(node, {"dir", "max_size", "fsync", "fsync_interval"}, "outbox");
  if (auto v = r.string(node, "dir")) {
    if (v->empty() || v->front() != '/') {
      r.error(r.child(node, "dir"), "outbox 'dir' must be an absolute path");
    }
    out.dir = *v;
    out.dir_mark = r.mark(r.child(node, "dir"));
  }
  if (auto n = r.child(node, "max_size"); n.IsDefined()) {
    auto bytes = n.IsScalar() ? parse_size(n.Scalar()) : std::nullopt;
    if (!bytes) {
      r.error(n, "'max_size': expected a size such as 64MiB, 512KiB or a number of bytes, found " +
                     (n.IsScalar() ? "'" + n.Scalar() + "'" : std::string("a non-scalar")));
    } else if (*bytes < (64ull << 10) || *bytes > (1ull << 40)) {
      r.error(n, "'max_size' must be between 64KiB and 1TiB");
    } else {
      out.max_bytes = *bytes;
    }
  }
  if (auto v = r.string(node, "fsync")) {
    if (*v == "always") {
      out.fsync = FsyncPolicy::always;
    } else if (*v == "interval") {
      out.fsync = FsyncPolicy::interval;
    } else if (*v == "never") {
      out.fsync = FsyncPolicy::never;
    } else {
      r.error(r.child(node, "fsync"), "'fsync' must be always, interval or never, found '" + *v + "'");
    }
  }
  if (auto d = r.duration(node, "fsync_interval")) {
    if (*d < Millis{10} || *d > Millis{60'000}) {
      r.error(r.child(node, "fsync_interval"), "'fsync_interval' must be between 10ms and 60s");
    } else {
      out.fsync_interval = *d;
    }
  }
}

const std::vector<std::string_view> kCommonSourceKeys{"name", "type", "interval", "timeout",
                                                      "points"};
std::vector<std::string_view> joined(const std::vector<std::string_view>& a,
                                     const std::vector<std::string_view>& b) {
  auto out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

std::optional<SourceConfig> parse_source(const YAML::Node& node, const SourceParsers& types,
                                         ConfigReader& r) {
  if (!node.IsMap()) {
    r.error(node, "each source must be a mapping with name, type, interval and points");
    return std::nullopt;
  }
  SourceConfig s;
  s.mark = r.mark(node);
  if (auto v = r.string(node, "name", true)) {
    if (!valid_name(*v)) {
      r.error(r.child(node, "name"), "source name '" + *v + "' must be 1-64 letters, digits, '-' or '_'");
    }
    s.name = *v;
  }
  const SourceParser* type = nullptr;
  if (auto v = r.string(node, "type", true)) {
    s.type = *v;
    type = types.find(*v);
    if (!type) {
      r.error(r.child(node, "type"), "unknown source type '" + *v + "' (known: " + types.names() + ")");
    }
  }
  r.check_keys(node, type ? joined(kCommonSourceKeys, type->source_keys()) : kCommonSourceKeys,
               "source '" + s.name + "'");
  if (auto d = r.duration(node, "interval", true)) {
    if (*d < kMinInterval || *d > kMaxInterval) {
      r.error(r.child(node, "interval"), "interval " + std::to_string(d->count()) +
                                             "ms is out of range (100ms to 1h)");
    }
    s.interval = *d;
  }
  s.timeout = std::min(s.interval, Millis{5'000});
  if (auto d = r.duration(node, "timeout")) {
    if (*d < Millis{10} || *d > s.interval) {
      r.error(r.child(node, "timeout"), "timeout " + std::to_string(d->count()) +
                                            "ms must be at least 10ms and at most the interval (" +
                                            std::to_string(s.interval.count()) + "ms)");
    }
    s.timeout = *d;
  }
  auto points = r.child(node, "points");
  std::vector<YAML::Node> point_nodes;
  if (!points.IsDefined()) {
    if (!type || !type->points_optional()) r.error(node, "source '" + s.name + "' has no 'points'");
  } else if (!points.IsSequence() || points.size() == 0) {
    r.error(points, "'points' must be a non-empty list");
  } else if (points.size() > kMaxPointsPerSource) {
    r.error(points, "'points' has " + std::to_string(points.size()) + " entries; at most " +
                        std::to_string(kMaxPointsPerSource) + " are allowed in one source");
  } else {
    std::set<std::string> names;
    for (const auto& pn : points) {
      if (!pn.IsMap()) {
        r.error(pn, "each point must be a mapping with at least a name");
        continue;
      }
      r.check_keys(pn, type ? joined(kCommonPointKeys, type->point_keys()) : kCommonPointKeys,
                   "point of source '" + s.name + "'");
      auto p = parse_point_common(pn, r);
      if (!p.name.empty() && !names.insert(p.name).second) {
        r.error(r.child(pn, "name"), "duplicate point name '" + p.name + "' in source '" + s.name + "'");
      }
      point_nodes.push_back(pn);
      s.points.push_back(std::move(p));
    }
  }
  const auto problems_before = r.diags().size();
  if (type) s.settings = type->parse(node, point_nodes, s.points, r);
  // A type that found problems has said what is wrong with its points.
  const bool type_complained = r.diags().size() > problems_before;
  for (std::size_t i = 0; i < s.points.size() && !type_complained; ++i) {
    if (s.points[i].unit == Unit::unspecified) {
      r.error(point_nodes[i], "point '" + s.points[i].name + "' needs a quantity or a unit");
    }
  }
  YAML::Emitter e;
  e << node;
  s.fingerprint = e.c_str();
  return s;
}

}  // namespace

namespace {

// `key` of `map` as a number that is not NaN or infinite; reported otherwise.
std::optional<double> finite_number(const YAML::Node& map, std::string_view key, ConfigReader& r) {
  auto v = r.number(map, key);
  if (v && !std::isfinite(*v)) {
    r.error(r.child(map, key), "'" + std::string(key) + "' must be a finite number");
    return std::nullopt;
  }
  return v;
}

ThresholdConfig parse_thresholds(const YAML::Node& node, ConfigReader& r) {
  ThresholdConfig t;
  if (!node.IsMap()) {
    r.error(node, "'thresholds' must be a mapping (low_critical, low_caution, high_caution, high_critical, "
                  "hysteresis, delay, alarm_when, severity, failed_delay, stale_after, sensor_failed)");
    return t;
  }
  r.check_keys(node, {"low_critical", "low_caution", "high_caution", "high_critical", "hysteresis", "delay",
                      "alarm_when", "severity", "failed_delay", "stale_after", "sensor_failed"},
               "thresholds");
  auto finite = [&](std::string_view key) { return finite_number(node, key, r); };
  t.low_critical = finite("low_critical");
  t.low_caution = finite("low_caution");
  t.high_caution = finite("high_caution");
  t.high_critical = finite("high_critical");
  // In order from the bottom: low_critical <= low_caution < high_caution <= high_critical.
  const std::array<std::pair<const char*, std::optional<double>>, 4> order{
      {{"low_critical", t.low_critical}, {"low_caution", t.low_caution}, {"high_caution", t.high_caution},
       {"high_critical", t.high_critical}}};
  std::optional<std::pair<const char*, double>> below;
  for (const auto& [name, v] : order) {
    if (!v) continue;
    if (below && *v < below->second) {
      r.error(r.child(node, name), std::string("'") + name + "' must not be below '" + below->first + "'");
    }
    below = std::pair{name, *v};
  }
  if (auto v = finite("hysteresis")) {
    if (*v < 0) r.error(r.child(node, "hysteresis"), "'hysteresis' must not be negative");
    t.hysteresis = *v;
  }
  if (auto d = r.duration(node, "delay")) t.delay = *d;
  if (auto v = finite("alarm_when")) t.alarm_state = *v;
  if (auto v = r.string(node, "severity")) {
    if (*v == "caution") t.state_severity = Severity::caution;
    else if (*v == "critical") t.state_severity = Severity::critical;
    else r.error(r.child(node, "severity"), "'severity' must be caution or critical, found '" + *v + "'");
  }
  if (auto d = r.duration(node, "failed_delay")) t.failed_delay = *d;
  if (auto v = r.integer(node, "stale_after")) {
    if (*v < 0 || *v > 1000) r.error(r.child(node, "stale_after"), "'stale_after' must be 0..1000 intervals");
    else t.stale_after = static_cast<unsigned>(*v);
  }
  if (auto v = r.boolean(node, "sensor_failed")) t.sensor_failed = *v;
  return t;
}

// `deadband: 0.5` (in the point's unit) or `deadband: 2%` (of the last value
// sent), and `max_age: 1m`.
void parse_report(const YAML::Node& node, ConfigReader& r, PointConfig& p) {
  const auto band = r.child(node, "deadband");
  if (band.IsDefined() && band.IsScalar()) {
    std::string text = band.Scalar();
    const bool percent = !text.empty() && text.back() == '%';
    if (percent) text.pop_back();
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v) || v < 0) {
      r.error(band, "'deadband' must be a number >= 0 in the point's unit, or a percentage such as 2%; found '" +
                        band.Scalar() + "'");
    } else if (percent && v > 100) {
      r.error(band, "'deadband' must be at most 100%, found '" + band.Scalar() + "'");
    } else {
      p.deadband = v;
      p.deadband_percent = percent;
    }
  } else if (band.IsDefined()) {
    r.error(band, "'deadband' must be a number or a percentage such as 2%");
  }
  if (auto d = r.duration(node, "max_age")) {
    if (*d < Millis{1'000} || *d > Millis{86'400'000}) {
      r.error(r.child(node, "max_age"), "'max_age' must be between 1s and 24h");
    } else {
      p.max_age = *d;
    }
  }
}

}  // namespace

const std::vector<std::string_view> kCommonPointKeys{
    "name", "quantity", "unit", "from_unit", "scale", "offset", "min", "max",
    "invalid", "location", "description", "thresholds", "deadband", "max_age"};

namespace {

// A name template with each {part} as a one-digit number, as the shortest
// name it can make.
std::string sample_name(const std::string& name) {
  std::string out;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const auto close = name[i] == '{' ? name.find('}', i) : std::string::npos;
    if (close == std::string::npos) {
      out += name[i];
      continue;
    }
    out += '1';
    i = close;
  }
  return out;
}

}  // namespace

PointConfig parse_point_common(const YAML::Node& node, ConfigReader& r, bool name_template) {
  PointConfig p;
  p.mark = r.mark(node);
  if (auto v = r.string(node, "name", true)) {
    if (!valid_name(name_template ? sample_name(*v) : *v)) {
      r.error(r.child(node, "name"), std::string(name_template ? "point name template" : "point name") + " '" + *v +
                                         "' must be 1-64 letters, digits, '-' or '_'" +
                                         (name_template ? ", with {part} for a part of the row's index" : ""));
    }
    p.name = *v;
  }
  if (auto v = r.string(node, "quantity")) {
    if (auto q = find_quantity(*v)) {
      p.quantity = *v;
      p.unit = q->unit;
    } else {
      r.error(r.child(node, "quantity"), "unknown quantity '" + *v + "' (known: " + quantity_names() + ")");
    }
  }
  if (auto v = r.string(node, "unit")) {
    if (auto u = parse_canonical_unit(*v)) {
      if (p.unit != Unit::unspecified && *u != p.unit) {
        r.error(r.child(node, "unit"), "unit '" + *v + "' does not fit quantity '" + p.quantity +
                                           "' (expected " + std::string(unit_symbol(p.unit)) + ")");
      }
      p.unit = *u;
      p.from = {*u, 1.0, 0.0};
    } else if (auto du = parse_device_unit(*v)) {
      r.error(r.child(node, "unit"), "unit '" + *v + "' is not canonical: write unit: " +
                                         std::string(unit_symbol(du->canonical)) + " and from_unit: " + *v);
    } else {
      r.error(r.child(node, "unit"), "unknown unit '" + *v + "'");
    }
  }
  if (auto v = r.string(node, "from_unit")) {
    if (auto du = parse_device_unit(*v)) {
      if (p.unit == Unit::unspecified) p.unit = du->canonical;
      if (du->canonical != p.unit) {
        r.error(r.child(node, "from_unit"), "from_unit '" + *v + "' cannot be converted to " +
                                                std::string(unit_symbol(p.unit)));
      }
      p.from = *du;
    } else {
      r.error(r.child(node, "from_unit"), "unknown unit '" + *v + "'");
    }
  } else if (p.unit != Unit::unspecified) {
    p.from = {p.unit, 1.0, 0.0};
  }
  auto finite = [&](std::string_view key) { return finite_number(node, key, r); };
  if (auto v = finite("scale")) {
    if (*v == 0) r.error(r.child(node, "scale"), "'scale' must not be 0");
    p.scale = *v;
  }
  if (auto v = finite("offset")) p.offset = *v;
  p.min = finite("min");
  p.max = finite("max");
  if (p.min && p.max && *p.min > *p.max) {
    r.error(r.child(node, "min"), "'min' must not be above 'max'");
  }
  if (auto v = r.number_list(node, "invalid")) {
    if (v->size() > kMaxListItems) {
      r.error(r.child(node, "invalid"), "'invalid' lists " + std::to_string(v->size()) + " values; at most " +
                                            std::to_string(kMaxListItems));
    }
    p.invalid = *v;
  }
  auto text = [&](std::string_view key, std::string& dst) {
    auto v = r.string(node, key);
    if (!v) return;
    if (v->size() > kMaxTextBytes) {
      r.error(r.child(node, key), "'" + std::string(key) + "' is " + std::to_string(v->size()) +
                                      " bytes long; at most " + std::to_string(kMaxTextBytes));
      return;
    }
    dst = *v;
  };
  text("location", p.location);
  text("description", p.description);
  if (auto t = r.child(node, "thresholds"); t.IsDefined()) p.thresholds = parse_thresholds(t, r);
  parse_report(node, r, p);
  return p;
}

std::optional<Config> parse_config(const std::string& text, const std::string& file,
                                   const SourceParsers& types, Diagnostics& diags) {
  if (!within_yaml_bounds(text, file, diags)) return std::nullopt;
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    diags.error({file, e.mark.line + 1, e.mark.column + 1}, "YAML syntax: " + e.msg);
    return std::nullopt;
  }
  ConfigReader r(file, diags);
  Config cfg;
  cfg.file = file;
  if (!root.IsMap()) {
    r.error(root, "the config must be a mapping with agent, mqtt and sources");
    return std::nullopt;
  }
  r.check_keys(root, {"agent", "mqtt", "outbox", "diag", "sources", "derived"}, "the top level");
  parse_agent(r.child(root, "agent"), r, cfg.agent);
  parse_mqtt(r.child(root, "mqtt"), r, cfg.mqtt);
  parse_outbox(r.child(root, "outbox"), r, cfg.outbox);
  parse_diag(r.child(root, "diag"), r, cfg.diag);
  cfg.content_hash = fnv1a(text);
  if (cfg.mqtt.client_id.empty()) cfg.mqtt.client_id = "rackwatch-" + cfg.agent.id;
  // Sparkplug ids default to the site and the rack (valid names, so valid ids).
  if (cfg.mqtt.sparkplug.group_id.empty()) cfg.mqtt.sparkplug.group_id = cfg.agent.site;
  if (cfg.mqtt.sparkplug.edge_node_id.empty()) cfg.mqtt.sparkplug.edge_node_id = cfg.agent.rack;

  auto sources = r.child(root, "sources");
  if (!sources.IsDefined()) {
    r.error(root, "missing required section 'sources'");
  } else if (!sources.IsSequence() || sources.size() == 0) {
    r.error(sources, "'sources' must be a non-empty list");
  } else if (sources.size() > kMaxSources) {
    r.error(sources, "'sources' has " + std::to_string(sources.size()) + " entries; at most " +
                         std::to_string(kMaxSources) + " are allowed");
  } else {
    std::set<std::string> names;
    for (const auto& sn : sources) {
      auto s = parse_source(sn, types, r);
      if (!s) continue;
      if (!s->name.empty() && !names.insert(s->name).second) {
        r.error(r.child(sn, "name"), "duplicate source name '" + s->name + "'");
      }
      cfg.sources.push_back(std::move(*s));
    }
  }
  parse_derived(r.child(root, "derived"), text, r, cfg);
  if (!diags.empty()) return std::nullopt;
  return cfg;
}

std::optional<Config> load_config(const std::string& path, const SourceParsers& types,
                                  Diagnostics& diags) {
  auto file = read_bounded_file(path, kMaxConfigBytes);
  if (!file.text) {
    diags.error({path, 0, 0}, "cannot read config file: " + file.error);
    return std::nullopt;
  }
  return parse_config(*file.text, path, types, diags);
}

}  // namespace rackwatch
