#include "sources/hwmon/hwmon_config.hpp"

#include <array>
#include <initializer_list>
#include <optional>
#include <string_view>

#include "core/config_reader.hpp"
#include "sources/hwmon/hwmon_attribute.hpp"
#include "sources/hwmon/hwmon_read.hpp"

namespace rackwatch {
namespace {

// A large bound that still rejects typos such as a hwmonN number.
constexpr long long kMaxIndex = 255;

// What the point's selection says about its values, when anything.
struct Inferred {
  HwmonKind kind;
  std::string what;  // "temp1_input", "temp*_input labelled 'CPU'": for messages
};

// The first node among `keys` that the point defines (for placing messages).
YAML::Node first_defined(ConfigReader& r, const YAML::Node& point,
                         std::initializer_list<std::string_view> keys) {
  for (auto key : keys) {
    auto node = r.child(point, key);
    if (node.IsDefined()) return node;
  }
  return point;
}

std::optional<std::string> parse_root(const YAML::Node& source, ConfigReader& r) {
  auto root = r.string(source, "root");
  if (!root) return std::nullopt;
  if (root->empty() || root->front() != '/') {
    r.error(r.child(source, "root"),
            "'root' must be an absolute path (default " + std::string(kDefaultHwmonRoot) + ")");
    return std::nullopt;
  }
  return root;
}

bool path_escapes(std::string_view path) {
  // Reject ".." components: the path names a file under the root.
  std::size_t start = 0;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (path.substr(start, end - start) == "..") return true;
    start = end + 1;
  }
  return false;
}

class PointParser {
 public:
  PointParser(const YAML::Node& node, PointConfig& point, ConfigReader& r)
      : node_(node), point_(point), r_(r), what_("point '" + point.name + "'") {}

  HwmonSelector parse() {
    HwmonSelector sel;
    if (!choose_selection(sel)) return sel;
    std::optional<Inferred> inferred;
    if (sel.by == HwmonSelector::By::path) {
      inferred = parse_path(sel);
    } else {
      parse_chip(sel);
      parse_attribute(sel);
      inferred = sel.by == HwmonSelector::By::sensor ? parse_sensor(sel) : parse_label(sel);
    }
    if (inferred) complete_point(*inferred);
    return sel;
  }

 private:
  // Exactly one of label, sensor and path.
  bool choose_selection(HwmonSelector& sel) {
    constexpr std::array<std::pair<std::string_view, HwmonSelector::By>, 3> kWays{{
        {"label", HwmonSelector::By::label},
        {"sensor", HwmonSelector::By::sensor},
        {"path", HwmonSelector::By::path},
    }};
    std::string first;
    for (const auto& [key, by] : kWays) {
      auto node = r_.child(node_, key);
      if (!node.IsDefined()) continue;
      if (!first.empty()) {
        r_.error(node, what_ + ": give only one of label, sensor or path (found " + first +
                           " and " + std::string(key) + ")");
        return false;
      }
      first = key;
      sel.by = by;
    }
    if (first.empty()) {
      r_.error(node_, what_ + ": give one of label, sensor or path");
      return false;
    }
    return true;
  }

  std::optional<Inferred> parse_path(HwmonSelector& sel) {
    for (auto key : {"chip", "index", "attribute"}) {
      auto node = r_.child(node_, key);
      if (node.IsDefined()) {
        r_.error(node, what_ + ": '" + std::string(key) +
                           "' does not apply with 'path' (the path names the file)");
      }
    }
    auto path = r_.string(node_, "path");
    if (!path) return std::nullopt;
    if (path->empty() || path->front() == '/' || path_escapes(*path)) {
      r_.error(r_.child(node_, "path"),
               what_ + ": 'path' must be relative to the root, e.g. hwmon3/temp1_input");
      return std::nullopt;
    }
    sel.path = *path;
    const auto slash = path->rfind('/');
    const auto file = slash == std::string::npos ? *path : path->substr(slash + 1);
    auto parsed = parse_hwmon_file_name(file);
    // A file outside the naming scheme (or a flag) needs the user's quantity.
    if (!parsed || !is_hwmon_value_suffix(parsed->suffix)) return std::nullopt;
    return Inferred{parsed->sensor.kind, file};
  }

  void parse_chip(HwmonSelector& sel) {
    if (!r_.child(node_, "chip").IsDefined()) {
      r_.error(node_, what_ +
                          ": 'chip' is required (the content of the chip's name file, "
                          "e.g. coretemp), unless 'path' is given");
    } else if (auto chip = r_.string(node_, "chip")) {
      if (trim_sysfs(*chip).empty()) {
        r_.error(r_.child(node_, "chip"), what_ + ": 'chip' must not be empty");
      }
      sel.chip = std::string(trim_sysfs(*chip));
    }
    if (auto index = r_.integer(node_, "index")) {
      if (*index < 0 || *index > kMaxIndex) {
        r_.error(r_.child(node_, "index"), what_ + ": 'index' must be 0 to " +
                                               std::to_string(kMaxIndex) +
                                               " (which chip of that name, in hwmonN order)");
      } else {
        sel.index = static_cast<unsigned>(*index);
      }
    }
  }

  void parse_attribute(HwmonSelector& sel) {
    auto attribute = r_.string(node_, "attribute");
    if (!attribute) return;
    if (!is_hwmon_value_suffix(*attribute)) {
      r_.error(r_.child(node_, "attribute"), what_ + ": unknown attribute '" + *attribute +
                                                 "' (known: " + hwmon_value_suffixes() + ")");
      return;
    }
    sel.attribute = *attribute;
  }

  std::optional<Inferred> parse_sensor(HwmonSelector& sel) {
    auto sensor = r_.string(node_, "sensor");
    if (!sensor) return std::nullopt;
    auto parsed = parse_hwmon_sensor(*sensor);
    if (!parsed) {
      std::string hint;
      if (auto file = parse_hwmon_file_name(*sensor)) {
        hint = "; write sensor: " + hwmon_sensor_base(file->sensor) +
               " and attribute: " + file->suffix;
      }
      r_.error(r_.child(node_, "sensor"),
               what_ + ": sensor '" + *sensor + "' is not an hwmon sensor such as temp1 or " +
                   "power1 (kinds: " + hwmon_kind_prefixes() + ")" + hint);
      return std::nullopt;
    }
    sel.sensor = *parsed;
    return Inferred{parsed->kind, hwmon_sensor_base(*parsed) + "_" + sel.attribute};
  }

  // A label alone does not say which kind of sensor it labels: the point's
  // quantity (or unit) does.
  std::optional<Inferred> parse_label(HwmonSelector& sel) {
    auto label = r_.string(node_, "label");
    if (!label) return std::nullopt;
    sel.label = std::string(trim_sysfs(*label));
    if (sel.label.empty()) {
      r_.error(r_.child(node_, "label"), what_ + ": 'label' must not be empty");
      return std::nullopt;
    }
    if (point_.unit == Unit::unspecified) {
      r_.error(node_, what_ +
                          ": a point selected by label needs a quantity (temperature, "
                          "voltage, current, power, energy, humidity or fan_speed) to know "
                          "which kind of sensor to search");
      return std::nullopt;
    }
    auto kind = hwmon_kind_for_unit(point_.unit);
    if (!kind) {
      const auto shown = point_.quantity.empty() ? "unit " + std::string(unit_symbol(point_.unit))
                                                 : "quantity '" + point_.quantity + "'";
      r_.error(first_defined(r_, node_, {"quantity", "unit", "from_unit"}),
               what_ + ": hwmon has no sensors of " + shown);
      return std::nullopt;
    }
    sel.sensor.kind = *kind;
    return Inferred{*kind, std::string(hwmon_measure(*kind).prefix) + "*_" + sel.attribute +
                               " labelled '" + sel.label + "'"};
  }

  void complete_point(const Inferred& inferred) {
    const auto& measure = hwmon_measure(inferred.kind);
    const auto device = hwmon_device_unit(inferred.kind);
    if (!point_.quantity.empty() && point_.quantity != measure.quantity) {
      r_.error(r_.child(node_, "quantity"),
               what_ + ": quantity '" + point_.quantity + "' does not match " + inferred.what +
                   ", which measures " + std::string(measure.quantity));
      return;
    }
    if (point_.unit != Unit::unspecified && point_.unit != device.canonical) {
      r_.error(first_defined(r_, node_, {"unit", "from_unit"}),
               what_ + ": unit " + std::string(unit_symbol(point_.unit)) + " does not fit " +
                   inferred.what + ", which measures " + std::string(measure.quantity) + " in " +
                   std::string(unit_symbol(device.canonical)));
      return;
    }
    if (point_.quantity.empty()) point_.quantity = measure.quantity;
    point_.unit = device.canonical;
    // An explicit from_unit wins: it is the way out for a driver that does
    // not follow the ABI's units.
    if (!r_.child(node_, "from_unit").IsDefined()) point_.from = device;
  }

  const YAML::Node& node_;
  PointConfig& point_;
  ConfigReader& r_;
  std::string what_;
};

}  // namespace

std::shared_ptr<const HwmonSettings> parse_hwmon_settings(
    const YAML::Node& source, const std::vector<YAML::Node>& point_nodes,
    std::vector<PointConfig>& points, ConfigReader& reader) {
  auto settings = std::make_shared<HwmonSettings>();
  if (auto root = parse_root(source, reader)) settings->root = *root;
  for (std::size_t i = 0; i < points.size() && i < point_nodes.size(); ++i) {
    settings->points.push_back(PointParser(point_nodes[i], points[i], reader).parse());
  }
  return settings;
}

}  // namespace rackwatch
