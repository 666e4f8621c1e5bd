// The Sparkplug B 3.0 topic namespace of one edge node:
// spBv1.0/{group}/{type}/{edge node}[/{device}].
#pragma once

#include <string>
#include <string_view>

namespace rackwatch {

inline constexpr std::string_view kSparkplugNamespace = "spBv1.0";

struct SparkplugTopics {
  std::string group;
  std::string edge_node;

  // NBIRTH, NDATA, NDEATH, NCMD.
  std::string node(std::string_view type) const {
    return std::string(kSparkplugNamespace) + "/" + group + "/" + std::string(type) + "/" + edge_node;
  }
  // DBIRTH, DDATA, DDEATH, DCMD.
  std::string device(std::string_view type, const std::string& device) const {
    return node(type) + "/" + device;
  }
};

}  // namespace rackwatch
