// Decodes what an agent publishes on the native topics into named values
// with units, remembering each rack's catalogs by id. Used by `tail`, which
// goes through receive(): it also holds telemetry until its catalog comes,
// and reports gaps and duplicates in each boot's sequence numbers.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "diag/sequence_tracker.hpp"

namespace rackwatch::cli {

struct TopicParts {
  std::string site;
  std::string rack;
  std::string kind;        // status, catalog, telemetry, snapshot, alarm, alarms
  std::string catalog_id;  // of {base}/catalog/{id}; empty otherwise
};

// Splits "{prefix}/{site}/{rack}/{kind}" and "{prefix}/{site}/{rack}/catalog/{id}";
// nullopt when the topic is not ours.
std::optional<TopicParts> split_topic(const std::string& prefix, const std::string& topic);

struct WireDecoderOptions {
  // How long telemetry and snapshots whose catalog is unknown wait for it;
  // 0: printed at once, unnamed.
  std::chrono::milliseconds hold{0};
  std::size_t max_held = 1000;        // beyond, the oldest goes out unnamed
  std::size_t catalogs_per_rack = 64;  // beyond, the least recently used is forgotten
  std::string catalog_cache;          // a directory; empty: catalogs stay in memory
};

class WireDecoder {
 public:
  using Clock = std::chrono::steady_clock;

  // Reads the catalog cache, if any: see take_warnings() for what failed.
  explicit WireDecoder(std::string prefix, WireDecoderOptions options = {});

  // One message as a JSON object (see README "rackwatch tail --json"); an
  // object with "error" when the payload does not decode. Learns catalogs
  // and statuses; never holds.
  boost::json::object decode(const std::string& topic, const std::string& payload);

  // One message as it arrives: what is ready to print now, in order. That
  // is the message (unless it is held), messages its catalog releases, and
  // "gap" and "duplicate" reports.
  std::vector<boost::json::object> receive(const std::string& topic, const std::string& payload, bool retained,
                                           Clock::time_point now);
  // Held messages whose hold ended by `now`, unnamed.
  std::vector<boost::json::object> expire(Clock::time_point now);
  // Every held message, unnamed (when tail stops).
  std::vector<boost::json::object> release_all();
  // When the next hold ends; nullopt when nothing is held.
  std::optional<Clock::time_point> next_expiry() const;
  std::size_t held() const { return held_.size(); }

  // Problems with the catalog cache since the last call, one line each.
  std::vector<std::string> take_warnings();

  // The same message as text for people, one or more lines.
  std::string to_text(const boost::json::object& decoded) const;

 private:
  struct CatalogPoint {
    std::string id;
    std::string unit;
  };
  struct KnownCatalog {
    std::vector<CatalogPoint> points;
    std::uint64_t used = 0;
  };
  struct Held {
    std::string topic;
    std::string payload;
    bool retained = false;
    Clock::time_point until;
    std::string base;
    std::string catalog_id;
  };
  void remember(const std::string& base, const std::string& catalog_id, std::vector<CatalogPoint> points);
  const std::vector<CatalogPoint>* catalog(const std::string& base, const std::string& catalog_id);
  bool learn_catalog_payload(const std::string& site, const std::string& rack, const std::string& payload);
  boost::json::object decode_held(const Held& h);
  boost::json::object report(const std::string& site, const std::string& rack, const SequenceReport& r) const;

  std::string prefix_;
  WireDecoderOptions options_;
  std::map<std::string, std::map<std::string, KnownCatalog>> catalogs_;  // rack base → id → points
  std::map<std::string, std::string> status_boot_;  // rack base → boot of its latest status
  std::uint64_t use_clock_ = 0;
  std::deque<Held> held_;
  SequenceTracker sequences_;
  std::vector<std::string> warnings_;
};

}  // namespace rackwatch::cli
