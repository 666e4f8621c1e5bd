// Discovery: the walk from the service root to every reading the service
// holds, as points. It follows Chassis → Sensors, PowerEquipment →
// RackPDUs → Mains, Branches and Outlets, and ThermalEquipment → CDUs →
// coolant connectors, pumps and EnvironmentMetrics. A Sensor is the point
// of its reading: an excerpt whose DataSourceUri names a Sensor found is
// that Sensor's copy (the mockups' copies lag their sensors) and is not a
// point again; an excerpt without a Sensor found is one. Links to absent
// resources (404) are counted and passed over.
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

struct Discovery {
  std::vector<FoundPoint> points;
  std::vector<std::string> skipped;  // what was left out, and why
  std::vector<std::string> absent;   // links that answered 404
  std::uint64_t requests = 0;
  std::uint64_t copies = 0;          // excerpts passed over for their Sensor
};

// Walks the service through `fetch`. Fails only when a request fails in a
// way other than 404 (the service is unreachable, refuses the login).
boost::asio::awaitable<Result<Discovery, Error>> discover(Fetcher& fetch, std::size_t max_points);

}  // namespace rackwatch::redfish
