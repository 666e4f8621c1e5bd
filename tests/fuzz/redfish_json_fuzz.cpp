// Fuzz target: the Redfish JSON → points and readings mapping
// (agent/sources/redfish/redfish_readings.hpp) on arbitrary bodies, as any
// Redfish service, or anything answering in its place, can send. The bytes
// are parsed as JSON (a body that is not JSON stops there, as in the
// source); the value is then read as a Sensor, as equipment with excerpts,
// as a collection and for links. Checks: a point has a valid name, a
// resource, a pointer into the body and a known quantity; reading each
// point's value from the same body is a finite number or a reason.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <boost/json/parse.hpp>

#include "core/config.hpp"
#include "fuzz_check.hpp"
#include "sources/redfish/redfish_excerpts.hpp"
#include "sources/redfish/redfish_readings.hpp"

namespace {

using rackwatch::fuzz::require;
namespace rf = rackwatch::redfish;

void check(const rf::FoundPoint& p, const boost::json::value& body) {
  require(rackwatch::valid_name(p.name), "a point's name is valid");
  require(!p.resource.empty(), "a point has a resource");
  require(!p.pointer.empty() && p.pointer.front() == '/', "a point's pointer is a JSON pointer");
  require(rackwatch::find_quantity(p.kind.quantity).has_value(), "a point's quantity is known");
  const auto r = rf::read_value(body, p.pointer, p.resource, rackwatch::Clock::now());
  require(r.ok() ? !std::isnan(r.value) : !r.error.empty(),
          "a reading is a number or a reason");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  boost::system::error_code ec;
  const boost::json::value body = boost::json::parse(text, ec);
  if (ec) return 0;
  if (auto sensor = rf::sensor_point(body, "/redfish/v1/Chassis/1/Sensors/S")) {
    check(*sensor, body);
  } else {
    require(!sensor.error().empty(), "a sensor left out says why");
  }
  const auto points = rf::excerpt_points(body, "/redfish/v1/PowerEquipment/RackPDUs/1/Outlets/A1", "outlet_A1");
  for (const auto& p : points) check(p, body);
  for (const auto& m : rf::members(body)) require(!m.empty(), "a member has an id");
  (void)rf::link(body, "Sensors");
  (void)rf::point_name(text);
  return 0;
}
