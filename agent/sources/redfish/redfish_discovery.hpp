// Discovery: the walk from the service root to every reading the service
// holds, as points. It follows
// - Chassis → Sensors (or, on an older BMC without Sensors, the deprecated
//   Power and Thermal), EnvironmentMetrics, PowerSubsystem → PowerSupplies
//   and Batteries (and their Metrics), ThermalSubsystem → Fans, Pumps,
//   CoolantConnectors, LeakDetection and ThermalMetrics;
// - PowerEquipment → RackPDUs, FloorPDUs, PowerShelves, ElectricalBuses,
//   TransferSwitches, Switchgear → Metrics, Mains, Feeders, Subfeeds,
//   Branches and Outlets;
// - ThermalEquipment → CDUs, HeatExchangers, ImmersionUnits →
//   EnvironmentMetrics, coolant connectors, pumps, leak detectors.
// A Sensor is the point of its reading: an excerpt whose DataSourceUri
// names a Sensor found is that Sensor's copy (the mockups' copies lag their
// sensors) and is not a point again; an excerpt without a Sensor found is
// one. Links to absent resources (404) are counted and passed over.
//
// When the service root says it supports $expand (ExpandQuery NoLinks or
// ExpandAll), each collection is read with its members in one request
// ("?$expand=.($levels=1)"), and the points of those members are read the
// same way at every poll.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "core/result.hpp"
#include "sources/redfish/redfish_error.hpp"
#include "sources/redfish/redfish_fetcher.hpp"
#include "sources/redfish/redfish_readings.hpp"

namespace rackwatch::redfish {

struct DiscoveryOptions {
  std::size_t max_points = 0;
  bool expand = true;  // when the service supports it
};

struct Discovery {
  std::vector<FoundPoint> points;
  std::vector<std::string> skipped;  // what was left out, and why
  std::vector<std::string> absent;   // links that answered 404
  std::vector<std::string> quirks;   // what the service does against the schema, and how it was read
  std::string expand;                // the $expand query used; empty: none
  std::uint64_t requests = 0;
  std::uint64_t copies = 0;          // excerpts passed over for their Sensor
};

// The $expand query a service root offers for a collection and its
// members, or empty when it offers none.
std::string expand_query(const boost::json::value& root);

// True when both found the same points, read the same way.
bool same_points(const std::vector<FoundPoint>& a, const std::vector<FoundPoint>& b);

// Walks the service through `fetch`. Fails only when a request fails in a
// way other than 404 (the service is unreachable, refuses the login).
boost::asio::awaitable<Result<Discovery, Error>> discover(Fetcher& fetch, DiscoveryOptions options);

}  // namespace rackwatch::redfish
