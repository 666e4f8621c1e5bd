// The pure half of the Redfish source: a Sensor as a point (with its
// thresholds), a point's value in a body read later, and the few JSON
// helpers discovery walks with. The excerpts of equipment resources are in
// redfish_excerpts.hpp. No I/O, so that it is unit-tested and fuzzed alone.
#pragma once

#include <optional>
#include <utility>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "core/reading.hpp"
#include "core/result.hpp"
#include "core/threshold_config.hpp"
#include "sources/redfish/redfish_units.hpp"

namespace rackwatch::redfish {

// Text values a point reads as numbers: a LeakDetector's DetectorState
// "OK" → 0, "Warning" → 1.
using States = std::vector<std::pair<std::string, double>>;

// One point found in a resource, and where its value is read from.
struct FoundPoint {
  std::string name;        // a valid point name
  std::string resource;    // the URI of the resource that holds the value
  std::string pointer;     // a JSON pointer into that resource: "/Reading", "/PowerWatts/Reading"
  // The expanded collection ("...?$expand=.($levels=1)") whose Members carry
  // the resource; empty when the resource is read by itself.
  std::string via;
  std::string source_uri;  // an excerpt's DataSourceUri (the Sensor it copies); empty for a Sensor
  ReadingKind kind;
  std::string description;
  States states;  // empty: the value is a number
  std::optional<ThresholdConfig> thresholds;  // the service's own, in the canonical unit
};

// A valid point name made of `text`: other characters become '_', cut to
// 64 characters. Empty when nothing of it is usable.
std::string point_name(std::string_view text);

// A Sensor resource as a point, or why it is left out.
Result<FoundPoint, std::string> sensor_point(const boost::json::value& sensor, std::string_view uri);

// A Sensor's Thresholds (LowerCaution, UpperCritical, ...; a Fatal one
// stands in for a missing Critical) in the canonical unit of `kind`, with
// the widest HysteresisReading and the shortest DwellTime. None when the
// sensor has none.
std::optional<ThresholdConfig> sensor_thresholds(const boost::json::value& sensor, const ReadingKind& kind);

// The value at `pointer` in `body` (the resource at `uri`): a number, a
// text of `states`, or a failure that says why not (null, missing, not a
// number, a text not in `states`).
RawReading read_value(const boost::json::value& body, std::string_view pointer, std::string_view uri,
                      TimePoint now, const States& states = {});

// The value of `p` in `body`, the body of `p.via` when it has one (the
// member whose @odata.id is p.resource is looked up) or else of p.resource.
RawReading read_point(const boost::json::value& body, const FoundPoint& p, TimePoint now);

// The member of an expanded collection whose @odata.id is `uri`, or null.
const boost::json::value* expanded_member(const boost::json::value& collection, std::string_view uri);
// True when a collection's members came expanded (each has more than its
// @odata.id), so that nothing more needs reading.
bool members_expanded(const boost::json::value& collection);
// A member of an object, or null.
const boost::json::value* member(const boost::json::value& v, std::string_view key);

// The @odata.id of each member of a collection (none when it is not one).
std::vector<std::string> members(const boost::json::value& collection);
// The @odata.id of a link property such as "Sensors" or "Chassis".
std::optional<std::string> link(const boost::json::value& resource, std::string_view key);
// A string property, or empty.
std::string text(const boost::json::value& resource, std::string_view key);

}  // namespace rackwatch::redfish
