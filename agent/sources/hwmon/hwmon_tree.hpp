// Finding a point's file in the hwmon sysfs tree: chips by the content of
// their `name` file, sensors by their `*_label` files. hwmonN numbers change
// across boots and driver reloads, so nothing here trusts them.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sources/hwmon/hwmon_attribute.hpp"

namespace rackwatch {

// How a configured point names its file.
struct HwmonSelector {
  enum class By { label, sensor, path };
  By by = By::sensor;
  std::string chip;                        // content of the chip's name file
  std::optional<unsigned> index;           // among chips of that name, in hwmonN order
  std::string label;                       // By::label: content of <kind><n>_label
  HwmonSensor sensor{HwmonKind::temp, 0};  // By::sensor; By::label uses its kind
  std::string attribute = "input";         // suffix of the value file
  std::string path;                        // By::path: relative to the root
};

// One chip directory (hwmonN, or hwmonN/device for drivers that keep their
// attributes there).
struct HwmonChip {
  std::string dir;
  std::string name;
  unsigned number = 0;  // the N of hwmonN
};

// Where a selector led, and what must still hold for the place to be right.
struct HwmonLocation {
  std::string file;      // the value file
  std::string chip_dir;  // empty for an explicit path
  std::string chip_name;
  std::string label_file;  // set when found by label
  std::string label;
};

struct HwmonResolution {
  std::optional<HwmonLocation> location;
  std::string error;  // why there is no location
};

// `relative` under `root`, joined with exactly one '/'.
std::string hwmon_join(const std::string& root, const std::string& relative);

// One poll's view of the tree: lists the chips at most once and reads each
// name file at most once, however many points ask.
class HwmonTree {
 public:
  explicit HwmonTree(std::string root) : root_(std::move(root)) {}

  HwmonResolution resolve(const HwmonSelector& selector);

  // False when the chip directory now holds another chip (or none), or the
  // label file another label: the hwmonN numbers have moved.
  bool is_current(const HwmonLocation& location);

  // The chips under the root, in hwmonN order; sets `error` when the root
  // cannot be listed.
  const std::vector<HwmonChip>& chips(std::string& error);

 private:
  std::optional<std::string> chip_name(const std::string& dir);
  HwmonResolution resolve_label(const HwmonSelector& selector,
                                const std::vector<const HwmonChip*>& candidates);

  std::string root_;
  bool listed_ = false;
  std::vector<HwmonChip> chips_;
  std::string list_error_;
  std::map<std::string, std::optional<std::string>> names_;
};

}  // namespace rackwatch
