#include "sources/redfish/redfish_readings.hpp"

#include <array>
#include <cctype>
#include <cmath>

#include <boost/json/object.hpp>
#include <boost/json/string.hpp>

namespace rackwatch::redfish {

namespace json = boost::json;

namespace {

constexpr std::size_t kMaxName = 64;

// The excerpt properties that carry a reading, what they measure, and the
// suffix their point is named with.
struct Excerpt {
  std::string_view key;
  std::string_view suffix;
  std::string_view quantity;
  std::string_view unit;
};

constexpr std::array kExcerpts{
    Excerpt{"Voltage", "voltage", "voltage", "V"},
    Excerpt{"CurrentAmps", "current", "current", "A"},
    Excerpt{"PowerWatts", "power", "power", "W"},
    Excerpt{"EnergykWh", "energy", "energy", "kW.h"},
    Excerpt{"FrequencyHz", "frequency", "frequency", "Hz"},
    Excerpt{"FlowLitersPerMinute", "flow", "flow", "L/min"},
    Excerpt{"SupplyTemperatureCelsius", "supply_temp", "temperature", "Cel"},
    Excerpt{"ReturnTemperatureCelsius", "return_temp", "temperature", "Cel"},
    Excerpt{"DeltaTemperatureCelsius", "delta_temp", "temperature", "Cel"},
    Excerpt{"SupplyPressurekPa", "supply_pressure", "pressure", "kPa"},
    Excerpt{"ReturnPressurekPa", "return_pressure", "pressure", "kPa"},
    Excerpt{"DeltaPressurekPa", "delta_pressure", "pressure", "kPa"},
    Excerpt{"HeatRemovedkW", "heat_removed", "power", "kW"},
    Excerpt{"PumpSpeedPercent", "speed", "ratio", "%"},
    Excerpt{"TemperatureCelsius", "temperature", "temperature", "Cel"},
    Excerpt{"HumidityPercent", "humidity", "humidity", "%RH"},
};

const json::object* object_of(const json::value& v) { return v.if_object(); }

const json::value* member(const json::value& v, std::string_view key) {
  const auto* o = object_of(v);
  return o ? o->if_contains(key) : nullptr;
}

}  // namespace

std::string point_name(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (out.size() == kMaxName) break;
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
    out.push_back(ok ? c : '_');
  }
  if (out.find_first_not_of('_') == std::string::npos) return {};
  return out;
}

std::string text(const json::value& resource, std::string_view key) {
  const auto* v = member(resource, key);
  if (!v || !v->is_string()) return {};
  return std::string(v->get_string());
}

std::optional<std::string> link(const json::value& resource, std::string_view key) {
  const auto* v = member(resource, key);
  if (!v) return std::nullopt;
  auto id = text(*v, "@odata.id");
  if (id.empty()) return std::nullopt;
  return id;
}

std::vector<std::string> members(const json::value& collection) {
  std::vector<std::string> out;
  const auto* list = member(collection, "Members");
  if (!list || !list->is_array()) return out;
  for (const auto& m : list->get_array()) {
    auto id = text(m, "@odata.id");
    if (!id.empty()) out.push_back(std::move(id));
  }
  return out;
}

Result<FoundPoint, std::string> sensor_point(const json::value& sensor, std::string_view uri) {
  if (!object_of(sensor)) return std::string(uri) + ": not a JSON object";
  std::string id = text(sensor, "Id");
  if (id.empty()) {
    const auto slash = uri.find_last_of('/');
    id = std::string(slash == std::string_view::npos ? uri : uri.substr(slash + 1));
  }
  FoundPoint p;
  p.name = point_name(id);
  if (p.name.empty()) return std::string(uri) + ": no usable Id for a point name";
  if (!member(sensor, "Reading")) return std::string(uri) + ": no Reading";
  auto kind = sensor_kind(text(sensor, "ReadingType"), text(sensor, "ReadingUnits"));
  if (!kind) return std::string(uri) + ": " + kind.error();
  p.kind = std::move(kind).value();
  p.resource = std::string(uri);
  p.pointer = "/Reading";
  p.description = text(sensor, "Name");
  return p;
}

std::vector<FoundPoint> excerpt_points(const json::value& body, std::string_view uri, std::string_view prefix) {
  std::vector<FoundPoint> out;
  for (const auto& e : kExcerpts) {
    const auto* excerpt = member(body, e.key);
    if (!excerpt || !member(*excerpt, "Reading")) continue;
    FoundPoint p;
    p.name = point_name(std::string(prefix) + "_" + std::string(e.suffix));
    if (p.name.empty()) continue;
    p.resource = std::string(uri);
    p.pointer = "/" + std::string(e.key) + "/Reading";
    p.source_uri = text(*excerpt, "DataSourceUri");
    p.kind = {std::string(e.quantity), find_quantity(e.quantity)->unit, *device_unit(e.unit)};
    const auto name = text(body, "Name");
    p.description = (name.empty() ? std::string(prefix) : name) + " " + std::string(e.key);
    out.push_back(std::move(p));
  }
  return out;
}

RawReading read_value(const json::value& body, std::string_view pointer, std::string_view uri, TimePoint now) {
  boost::system::error_code ec;
  const json::value* v = body.find_pointer(pointer, ec);
  const std::string where = std::string(uri) + " " + std::string(pointer);
  if (!v) return RawReading::failure(where + " is missing", now);
  if (v->is_null()) {
    // A sensor that is absent or disabled says so in its Status.
    std::string why = where + " is null: the device has no value";
    const auto* status = member(body, "Status");
    if (const auto state = status ? text(*status, "State") : std::string(); !state.empty() && state != "Enabled") {
      why += " (Status.State " + state + ")";
    }
    return RawReading::failure(why, now);
  }
  if (v->is_double()) {
    // JSON has no NaN, but Boost.JSON (1.81) reads a zero with an exponent
    // past 308 ("0e400") as one: 0 times an infinite power of ten.
    if (std::isnan(v->get_double())) return RawReading::failure(where + " is not a number (NaN)", now);
    return RawReading::success(v->get_double(), now);
  }
  if (v->is_int64()) return RawReading::success(static_cast<double>(v->get_int64()), now);
  if (v->is_uint64()) return RawReading::success(static_cast<double>(v->get_uint64()), now);
  return RawReading::failure(where + " is not a number", now);
}

}  // namespace rackwatch::redfish
