// Decodes what an agent publishes on the native topics into named values
// with units, remembering each rack's retained catalog. Used by `tail`.
#pragma once

#include <map>
#include <optional>
#include <string>

#include <boost/json/object.hpp>

namespace rackwatch::cli {

struct TopicParts {
  std::string site;
  std::string rack;
  std::string kind;  // status, catalog, telemetry, alarm
};

// Splits "{prefix}/{site}/{rack}/{kind}"; nullopt when the topic is not ours.
std::optional<TopicParts> split_topic(const std::string& prefix, const std::string& topic);

class WireDecoder {
 public:
  explicit WireDecoder(std::string prefix) : prefix_(std::move(prefix)) {}

  // One message as a JSON object (see README "rackwatch tail --json"); an
  // object with "error" when the payload does not decode.
  boost::json::object decode(const std::string& topic, const std::string& payload);

  // The same message as text for people, one or more lines.
  std::string to_text(const boost::json::object& decoded) const;

 private:
  struct CatalogPoint {
    std::string id;
    std::string unit;
  };
  std::string prefix_;
  std::map<std::string, std::map<std::string, std::vector<CatalogPoint>>> catalogs_;  // rack base → id → points
};

}  // namespace rackwatch::cli
