#include "sources/hwmon/hwmon_tree.hpp"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <string_view>
#include <system_error>
#include <utility>

#include "sources/hwmon/hwmon_read.hpp"

namespace rackwatch {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kChipPrefix = "hwmon";

std::optional<unsigned> chip_number(std::string_view entry) {
  if (entry.size() <= kChipPrefix.size() || entry.substr(0, kChipPrefix.size()) != kChipPrefix) {
    return std::nullopt;
  }
  unsigned n = 0;
  const char* first = entry.data() + kChipPrefix.size();
  const char* last = entry.data() + entry.size();
  auto [end, ec] = std::from_chars(first, last, n);
  if (ec != std::errc{} || end != last) return std::nullopt;
  return n;
}

std::string describe_fs_error(const std::error_code& ec, const std::string& path) {
  if (ec.category() == std::generic_category() || ec.category() == std::system_category()) {
    return describe_read_error(ec.value(), path);
  }
  return ec.message() + ": " + path;
}

std::string value_file(const std::string& dir, const HwmonSensor& sensor,
                       const std::string& attribute) {
  return hwmon_join(dir, hwmon_sensor_base(sensor) + "_" + attribute);
}

}  // namespace

std::string hwmon_join(const std::string& root, const std::string& relative) {
  if (root.empty()) return relative;
  if (root.back() == '/') return root + relative;
  return root + "/" + relative;
}

std::optional<std::string> HwmonTree::chip_name(const std::string& dir) {
  auto it = names_.find(dir);
  if (it != names_.end()) return it->second;
  std::optional<std::string> name;
  auto file = read_small_file(hwmon_join(dir, "name"));
  if (file.ok()) name = std::string(trim_sysfs(file.text));
  names_.emplace(dir, name);
  return name;
}

const std::vector<HwmonChip>& HwmonTree::chips(std::string& error) {
  if (!listed_) {
    listed_ = true;
    std::error_code ec;
    fs::directory_iterator it(root_, ec);
    for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
      const auto entry = it->path().filename().string();
      const auto number = chip_number(entry);
      if (!number) continue;
      // Drivers that predate the hwmon core's own attributes keep name and
      // values in the parent device's directory.
      for (const auto& dir : {hwmon_join(root_, entry), hwmon_join(root_, entry + "/device")}) {
        if (auto name = chip_name(dir)) {
          chips_.push_back({dir, *name, *number});
          break;
        }
      }
    }
    if (ec) {
      chips_.clear();
      list_error_ = "cannot list hwmon chips: " + describe_fs_error(ec, root_);
    }
    std::sort(chips_.begin(), chips_.end(),
              [](const HwmonChip& a, const HwmonChip& b) { return a.number < b.number; });
  }
  error = list_error_;
  return chips_;
}

HwmonResolution HwmonTree::resolve(const HwmonSelector& selector) {
  if (selector.by == HwmonSelector::By::path) {
    return {HwmonLocation{hwmon_join(root_, selector.path), {}, {}, {}, {}}, {}};
  }
  std::string error;
  const auto& all = chips(error);
  if (!error.empty()) return {std::nullopt, error};

  std::vector<const HwmonChip*> candidates;
  for (const auto& chip : all) {
    if (chip.name == selector.chip) candidates.push_back(&chip);
  }
  if (candidates.empty()) {
    return {std::nullopt, "no hwmon chip named '" + selector.chip + "' under " + root_};
  }
  if (selector.index) {
    if (*selector.index >= candidates.size()) {
      return {std::nullopt, "no hwmon chip named '" + selector.chip + "' with index " +
                                std::to_string(*selector.index) + " under " + root_ + " (found " +
                                std::to_string(candidates.size()) + ")"};
    }
    candidates = {candidates[*selector.index]};
  }
  if (selector.by == HwmonSelector::By::label) return resolve_label(selector, candidates);

  // By sensor: several chips of one name and no index means the first.
  const auto& chip = *candidates.front();
  return {
      HwmonLocation{
          value_file(chip.dir, selector.sensor, selector.attribute), chip.dir, chip.name, {}, {}},
      {}};
}

HwmonResolution HwmonTree::resolve_label(const HwmonSelector& selector,
                                         const std::vector<const HwmonChip*>& candidates) {
  const auto kind = selector.sensor.kind;
  // Without an index, every chip of the name is searched: two-socket hosts
  // have two coretemp chips, told apart by their labels.
  for (const auto* chip : candidates) {
    std::vector<HwmonSensor> labelled;
    std::error_code ec;
    fs::directory_iterator it(chip->dir, ec);
    for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
      auto parsed = parse_hwmon_file_name(it->path().filename().string());
      if (parsed && parsed->suffix == "label" && parsed->sensor.kind == kind) {
        labelled.push_back(parsed->sensor);
      }
    }
    std::sort(labelled.begin(), labelled.end(),
              [](const HwmonSensor& a, const HwmonSensor& b) { return a.channel < b.channel; });
    for (const auto& sensor : labelled) {
      const auto label_file = hwmon_join(chip->dir, hwmon_sensor_base(sensor) + "_label");
      auto text = read_small_file(label_file);
      if (text.ok() && trim_sysfs(text.text) == selector.label) {
        return {HwmonLocation{value_file(chip->dir, sensor, selector.attribute), chip->dir,
                              chip->name, label_file, selector.label},
                {}};
      }
    }
  }
  return {std::nullopt, "chip '" + selector.chip + "' has no sensor labelled '" + selector.label +
                            "' (searched " + std::string(hwmon_measure(kind).prefix) + "*_label)"};
}

bool HwmonTree::is_current(const HwmonLocation& location) {
  if (location.chip_dir.empty()) return true;
  auto name = chip_name(location.chip_dir);
  if (!name || *name != location.chip_name) return false;
  if (location.label_file.empty()) return true;
  auto text = read_small_file(location.label_file);
  return text.ok() && trim_sysfs(text.text) == location.label;
}

}  // namespace rackwatch
