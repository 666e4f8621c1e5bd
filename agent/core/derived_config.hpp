// Derived points: values the agent computes from other points with a small
// expression language (core/expression.hpp), declared under `derived:`
// in the config. Their ids are "derived.NAME".
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/config.hpp"

namespace YAML {
class Node;
}

namespace rackwatch {

class ConfigReader;

// The device name of derived points in ids and the catalog; no source may take it.
inline constexpr std::string_view kDerivedDevice = "derived";

// Reads `derived:` (a list of points with an `expr`) into cfg.derived once
// the sources are read: every reference must name a point of a source or
// another derived point, and derived points must not depend on themselves.
// `text` is the config's text, for placing errors inside an expression.
void parse_derived(const YAML::Node& list, const std::string& text, ConfigReader& r, Config& cfg);

}  // namespace rackwatch
