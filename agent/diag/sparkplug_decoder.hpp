// Decodes Sparkplug B 3.0 messages (spBv1.0/...) for `rackwatch tail`:
// remembers each edge node's and device's last birth (alias → name, type,
// unit) to name the data sent by alias, and checks each node's seq.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include <boost/json/object.hpp>

namespace rackwatch::cli {

// Whether `topic` is in the Sparkplug B namespace (spBv1.0/...).
bool is_sparkplug_topic(const std::string& topic);

class SparkplugDecoder {
 public:
  // One message as a JSON object (see README "rackwatch tail --json"): an
  // object with "error" when the topic or payload does not decode.
  boost::json::object decode(const std::string& topic, const std::string& payload);

  // The same message as text for people, one or more lines.
  std::string to_text(const boost::json::object& decoded) const;

 private:
  // What a birth said of one metric.
  struct Born {
    std::string name;
    std::uint32_t datatype = 0;
    std::string unit;  // engUnit; empty for none
  };
  struct Births {
    std::map<std::uint64_t, Born> by_alias;
    std::map<std::string, Born> by_name;
  };
  struct Node {
    std::optional<std::uint64_t> next_seq;  // unknown until a message from the node
    std::optional<std::uint64_t> bd_seq;    // of the last NBIRTH
    Births node;
    std::map<std::string, Births> devices;
  };
  std::map<std::string, Node> nodes_;  // by "group/edge_node"
};

}  // namespace rackwatch::cli
