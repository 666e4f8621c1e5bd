// The pure half of the Redfish source: which points a resource's JSON
// holds (a Sensor's Reading, the excerpts of an Outlet, a Circuit, a
// coolant connector, a pump) and a point's value in a body read later.
// No I/O, so that it is unit-tested and fuzzed alone.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "core/reading.hpp"
#include "core/result.hpp"
#include "sources/redfish/redfish_units.hpp"

namespace rackwatch::redfish {

// One point found in a resource, and where its value is read from.
struct FoundPoint {
  std::string name;        // a valid point name
  std::string resource;    // the URI whose body holds the value
  std::string pointer;     // a JSON pointer into that body: "/Reading", "/PowerWatts/Reading"
  std::string source_uri;  // an excerpt's DataSourceUri (the Sensor it copies); empty for a Sensor
  ReadingKind kind;
  std::string description;
};

// A valid point name made of `text`: other characters become '_', cut to
// 64 characters. Empty when nothing of it is usable.
std::string point_name(std::string_view text);

// A Sensor resource as a point, or why it is left out.
Result<FoundPoint, std::string> sensor_point(const boost::json::value& sensor, std::string_view uri);

// The excerpts of an equipment resource (Outlet, Circuit, CoolantConnector,
// Pump, EnvironmentMetrics): each property such as PowerWatts whose object
// has a Reading, as a point named `prefix`_power, ...
std::vector<FoundPoint> excerpt_points(const boost::json::value& body, std::string_view uri,
                                       std::string_view prefix);

// The value at `pointer` in `body` (the resource at `uri`): a number, or a
// failure that says why not (null, missing, not a number).
RawReading read_value(const boost::json::value& body, std::string_view pointer, std::string_view uri,
                      TimePoint now);

// The @odata.id of each member of a collection (none when it is not one).
std::vector<std::string> members(const boost::json::value& collection);
// The @odata.id of a link property such as "Sensors" or "Chassis".
std::optional<std::string> link(const boost::json::value& resource, std::string_view key);
// A string property, or empty.
std::string text(const boost::json::value& resource, std::string_view key);

}  // namespace rackwatch::redfish
