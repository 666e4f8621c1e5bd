// Fuzz target: the Redfish JSON → points and readings mapping
// (agent/sources/redfish/redfish_readings.hpp) on arbitrary bodies, as any
// Redfish service, or anything answering in its place, can send.
//
// Two ways from the bytes to a body:
//  - bytes that parse as JSON are that body (real bodies in the corpus);
//  - any other bytes are read as choices (byte_reader.hpp) that build a
//    boost::json::value shaped like a Redfish resource: objects keyed
//    mostly by the properties the mapping reads (and those of the
//    resources it is to read next), with values of the kind each property
//    holds — numbers of every size, null, unit and type strings, Status,
//    excerpts, thresholds, links, lists — and now and then anything else.
//    Mutated JSON almost never parses again; this way most inputs reach
//    the mapping instead of stopping at the parser. Byte 0 picks the
//    Sensor's URI (bits 0-1) and the excerpts' name prefix (bits 2-3); the
//    rest is the value (Builder below).
// The body is then read as a Sensor, as equipment with excerpts, as a
// collection and for links. Checks: a point has a valid name, a resource, a
// pointer that finds a value in the body it came from, a known quantity in
// its canonical unit and a device unit mapped into it; reading each point's
// value from the same body is a number (an infinity, but no NaN) or a
// reason; point names made of any text are valid or empty.
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "byte_reader.hpp"
#include "core/config.hpp"
#include "fuzz_check.hpp"
#include "sources/redfish/redfish_discovery.hpp"
#include "sources/redfish/redfish_excerpts.hpp"
#include "sources/redfish/redfish_readings.hpp"

namespace {

using rackwatch::fuzz::ByteReader;
using rackwatch::fuzz::require;
namespace json = boost::json;
namespace rf = rackwatch::redfish;
using namespace std::string_view_literals;

// ---------------------------------------------------------------- checks

constexpr std::array<std::string_view, 4> kSensorUris{
    "/redfish/v1/Chassis/1/Sensors/S",
    "/redfish/v1/Chassis/1/Sensors/",  // no last segment for a missing Id
    "/redfish/v1/Chassis/1/Sensors/Inlet Temp #1",
    "/redfish/v1/Chassis/1/Sensors/VeryLongSensorIdThatIsCutAtSixtyFourCharactersWhenItBecomesAPointName",
};
constexpr std::array<std::string_view, 4> kPrefixes{
    "outlet_A1", "", "__", "cdu1_primary_connector_with_a_name_long_enough_to_be_cut_at_64_chars"};
constexpr std::string_view kExcerptUri = "/redfish/v1/PowerEquipment/RackPDUs/1/Outlets/A1";

// The links discovery follows (redfish_discovery.cpp).
constexpr std::string_view kLinks[] = {
    "Sensors", "Chassis", "PowerEquipment", "ThermalEquipment", "RackPDUs", "Mains", "Branches",
    "Outlets", "CDUs", "EnvironmentMetrics", "PrimaryCoolantConnectors", "SecondaryCoolantConnectors",
    "Pumps", "PowerSubsystem", "ThermalSubsystem", "PowerSupplies", "Batteries", "Fans", "Metrics",
    "ThermalMetrics", "LeakDetectors", "LeakDetection", "CoolantConnectors", "PowerShelves", "FloorPDUs",
    "ElectricalBuses", "TransferSwitches", "Switchgear", "Feeders", "Subfeeds", "HeatExchangers",
    "ImmersionUnits", "Power", "Thermal"};

void check_name(const std::string& name) {
  require(name.empty() || rackwatch::valid_name(name), "a point name is valid or empty");
}

void check(const rf::FoundPoint& p, const json::value& body) {
  require(rackwatch::valid_name(p.name), "a point's name is valid");
  require(!p.resource.empty(), "a point has a resource");
  require(!p.pointer.empty() && p.pointer.front() == '/', "a point's pointer is a JSON pointer");
  boost::system::error_code ec;
  require(body.find_pointer(p.pointer, ec) != nullptr, "a point's pointer finds a value where it was found");
  const auto quantity = rackwatch::find_quantity(p.kind.quantity);
  require(quantity.has_value(), "a point's quantity is known");
  require(quantity->unit == p.kind.unit, "a point's unit is its quantity's");
  require(p.kind.from.canonical == p.kind.unit, "a point's device unit maps into its unit");
  require(std::isfinite(p.kind.from.factor) && p.kind.from.factor != 0 && std::isfinite(p.kind.from.offset),
          "a device unit's map is finite and not constant");
  const auto r = rf::read_value(body, p.pointer, p.resource, rackwatch::Clock::now(), p.states);
  require(r.ok() ? std::isfinite(r.value) : !r.error.empty(), "a reading is a finite number or a reason");
  if (p.thresholds) {
    const auto& t = *p.thresholds;
    const auto low = t.low_caution ? t.low_caution : t.low_critical;
    const auto high = t.high_caution ? t.high_caution : t.high_critical;
    require(!low || !high || *low < *high, "a point's low limits are below its high ones");
    require(!t.low_caution || !t.low_critical || *t.low_critical <= *t.low_caution, "low limits are in order");
    require(!t.high_caution || !t.high_critical || *t.high_caution <= *t.high_critical, "high limits are in order");
    require(std::isfinite(t.hysteresis) && t.hysteresis >= 0, "a hysteresis is finite and not negative");
    require(t.delay.count() >= 0, "a dwell time is not negative");
  }
}

// The same point read from an expanded collection that carries `body` as
// its member gives the same reading.
void check_expanded(const rf::FoundPoint& p, const json::value& body) {
  if (!body.is_object()) return;
  json::object member = body.as_object();
  member["@odata.id"] = p.resource;
  json::object collection;
  collection["Members"] = json::array{member};
  rf::FoundPoint via = p;
  via.via = "/redfish/v1/x?$expand=.";
  const auto now = rackwatch::Clock::now();
  const auto direct = rf::read_value(member, p.pointer, p.resource, now, p.states);
  const auto expanded = rf::read_point(collection, via, now);
  require(direct.ok() == expanded.ok(), "an expanded member reads as the resource itself");
  require(!direct.ok() || direct.value == expanded.value, "an expanded member's value is the resource's");
}

void map(const json::value& body, std::string_view sensor_uri, std::string_view prefix) {
  if (auto sensor = rf::sensor_point(body, sensor_uri)) {
    check(*sensor, body);
  } else {
    require(!sensor.error().empty(), "a sensor left out says why");
  }
  for (const auto& p : rf::excerpt_points(body, kExcerptUri, prefix)) {
    check(p, body);
    check_expanded(p, body);
  }
  for (const auto& p : rf::leak_points(body, kExcerptUri, prefix)) check(p, body);
  for (const auto& p : rf::leak_group_points(body, kExcerptUri, prefix)) check(p, body);
  for (const auto& p : rf::health_points(body, kExcerptUri, prefix)) check(p, body);
  std::vector<std::string> skipped;
  for (const auto& p : rf::legacy_points(body, kExcerptUri, prefix, skipped)) check(p, body);
  for (const auto& why : skipped) require(!why.empty(), "an entry left out says why");
  const auto expand = rf::expand_query(body);
  require(expand.empty() || expand.rfind("$expand=", 0) == 0, "an expand query is one");
  for (const auto& m : rf::members(body)) require(!m.empty(), "a member has an id");
  for (const auto key : kLinks) {
    if (const auto l = rf::link(body, key)) require(!l->empty(), "a link has an id");
  }
  check_name(rf::point_name(rf::text(body, "Id")));
  check_name(rf::point_name(rf::text(body, "Name")));
}

// ------------------------------------------------------ structured bodies

// What a property holds, so that its value is mostly of that kind.
enum class Shape {
  any,         // anything
  number,      // a reading: numbers of every size, sometimes null or a string
  units,       // ReadingUnits: UCUM, field spellings, garbage
  type,        // ReadingType
  state,       // Status.State
  health,      // Status.Health
  uri,         // @odata.id, DataSourceUri
  text,        // Id, Name, MemberId
  resource,    // an object with any of the properties
  excerpt,     // {"Reading": ..., "DataSourceUri": ...}
  status,      // {"State": ..., "Health": ...}
  thresholds,  // {"UpperCritical": {...}, ...}
  threshold,   // {"Reading": ..., "Activation": ...}
  link,        // {"@odata.id": ...}
  members,     // [link, ...]
  list,        // [resource, ...]: PowerControl, Temperatures, Fans, ...
  excerpts,    // [excerpt, ...]: FanSpeedsPercent, TemperatureReadingsCelsius
};

struct Key {
  std::string_view name;
  Shape shape;
};

// The properties the mapping reads (redfish_readings.cpp, redfish_units.cpp,
// redfish_discovery.cpp), then those of the resources it is to read next:
// Sensor thresholds and ranges, the deprecated Power and Thermal resources,
// PowerSupplyMetrics, EnvironmentMetrics, ThermalMetrics, as the DMTF
// schemas name them.
constexpr std::array kKeys{
    // Sensor
    Key{"Reading", Shape::number},
    Key{"ReadingUnits", Shape::units},
    Key{"ReadingType", Shape::type},
    Key{"Status", Shape::status},
    Key{"Id", Shape::text},
    Key{"Name", Shape::text},
    Key{"@odata.id", Shape::uri},
    Key{"@odata.type", Shape::text},
    Key{"DataSourceUri", Shape::uri},
    Key{"ReadingRangeMax", Shape::number},
    Key{"ReadingRangeMin", Shape::number},
    Key{"Thresholds", Shape::thresholds},
    Key{"PhysicalContext", Shape::text},
    Key{"ReadingTime", Shape::text},
    Key{"SpeedRPM", Shape::number},
    Key{"ApparentVA", Shape::number},
    Key{"ReactiveVAR", Shape::number},
    Key{"PowerFactor", Shape::number},
    Key{"LoadPercent", Shape::number},
    // Collections and links
    Key{"Members", Shape::members},
    Key{"Members@odata.count", Shape::number},
    Key{"Links", Shape::resource},
    Key{"Sensors", Shape::link},
    Key{"Chassis", Shape::link},
    Key{"PowerEquipment", Shape::link},
    Key{"ThermalEquipment", Shape::link},
    Key{"RackPDUs", Shape::link},
    Key{"Mains", Shape::link},
    Key{"Branches", Shape::link},
    Key{"Outlets", Shape::link},
    Key{"CDUs", Shape::link},
    Key{"EnvironmentMetrics", Shape::link},
    Key{"PrimaryCoolantConnectors", Shape::link},
    Key{"SecondaryCoolantConnectors", Shape::link},
    Key{"Pumps", Shape::link},
    Key{"PowerSubsystem", Shape::link},
    Key{"ThermalSubsystem", Shape::link},
    Key{"Metrics", Shape::link},
    // Excerpts: Outlet, Circuit, CoolantConnector, Pump, EnvironmentMetrics
    Key{"Voltage", Shape::excerpt},
    Key{"CurrentAmps", Shape::excerpt},
    Key{"PowerWatts", Shape::excerpt},
    Key{"EnergykWh", Shape::excerpt},
    Key{"FrequencyHz", Shape::excerpt},
    Key{"FlowLitersPerMinute", Shape::excerpt},
    Key{"SupplyTemperatureCelsius", Shape::excerpt},
    Key{"ReturnTemperatureCelsius", Shape::excerpt},
    Key{"DeltaTemperatureCelsius", Shape::excerpt},
    Key{"SupplyPressurekPa", Shape::excerpt},
    Key{"ReturnPressurekPa", Shape::excerpt},
    Key{"DeltaPressurekPa", Shape::excerpt},
    Key{"HeatRemovedkW", Shape::excerpt},
    Key{"PumpSpeedPercent", Shape::excerpt},
    Key{"TemperatureCelsius", Shape::excerpt},
    Key{"HumidityPercent", Shape::excerpt},
    Key{"DewPointCelsius", Shape::excerpt},
    Key{"PolyPhaseVoltage", Shape::resource},
    Key{"PolyPhaseCurrentAmps", Shape::resource},
    Key{"PolyPhasePowerWatts", Shape::resource},
    Key{"Line1ToNeutral", Shape::excerpt},
    Key{"Line1", Shape::excerpt},
    Key{"NominalVoltage", Shape::text},
    Key{"RatedCurrentAmps", Shape::number},
    Key{"CoolantType", Shape::text},
    // PowerSupplyMetrics, Fan, ThermalMetrics
    Key{"InputVoltage", Shape::excerpt},
    Key{"InputCurrentAmps", Shape::excerpt},
    Key{"InputPowerWatts", Shape::excerpt},
    Key{"OutputPowerWatts", Shape::excerpt},
    Key{"RailVoltage", Shape::excerpts},
    Key{"RailCurrentAmps", Shape::excerpts},
    Key{"FanSpeedsPercent", Shape::excerpts},
    Key{"SpeedPercent", Shape::excerpt},
    Key{"TemperatureReadingsCelsius", Shape::excerpts},
    Key{"TemperatureSummaryCelsius", Shape::resource},
    Key{"DeviceName", Shape::text},
    // Deprecated Power
    Key{"PowerControl", Shape::list},
    Key{"PowerConsumedWatts", Shape::number},
    Key{"PowerCapacityWatts", Shape::number},
    Key{"PowerMetrics", Shape::resource},
    Key{"AverageConsumedWatts", Shape::number},
    Key{"MaxConsumedWatts", Shape::number},
    Key{"Voltages", Shape::list},
    Key{"ReadingVolts", Shape::number},
    Key{"PowerSupplies", Shape::list},
    Key{"LineInputVoltage", Shape::number},
    Key{"PowerInputWatts", Shape::number},
    Key{"PowerOutputWatts", Shape::number},
    Key{"LastPowerOutputWatts", Shape::number},
    Key{"MemberId", Shape::text},
    Key{"UpperThresholdNonCritical", Shape::number},
    Key{"UpperThresholdCritical", Shape::number},
    Key{"LowerThresholdNonCritical", Shape::number},
    Key{"LowerThresholdCritical", Shape::number},
    Key{"MinReadingRange", Shape::number},
    Key{"MaxReadingRange", Shape::number},
    // Deprecated Thermal
    Key{"Temperatures", Shape::list},
    Key{"ReadingCelsius", Shape::number},
    Key{"Fans", Shape::list},
    Key{"MinReadingRangeTemp", Shape::number},
    Key{"MaxReadingRangeTemp", Shape::number},
    // Status and thresholds (their own lists below)
    Key{"State", Shape::state},
    Key{"Health", Shape::health},
    Key{"UpperCritical", Shape::threshold},
    Key{"LowerCaution", Shape::threshold},
};

constexpr std::array kExcerptKeys{
    Key{"Reading", Shape::number}, Key{"DataSourceUri", Shape::uri}, Key{"ReadingUnits", Shape::units},
    Key{"ApparentVA", Shape::number}, Key{"SpeedRPM", Shape::number}, Key{"DeviceName", Shape::text},
};
constexpr std::array kStatusKeys{
    Key{"State", Shape::state}, Key{"Health", Shape::health}, Key{"HealthRollup", Shape::health}};
constexpr std::array kThresholdsKeys{
    Key{"UpperCritical", Shape::threshold}, Key{"UpperCaution", Shape::threshold},
    Key{"LowerCaution", Shape::threshold},  Key{"LowerCritical", Shape::threshold},
    Key{"UpperFatal", Shape::threshold},    Key{"LowerFatal", Shape::threshold},
};
constexpr std::array kThresholdKeys{
    Key{"Reading", Shape::number}, Key{"Activation", Shape::text}, Key{"DwellTime", Shape::text}};
constexpr std::array kLinkKeys{Key{"@odata.id", Shape::uri}};

// ReadingUnits as DDSP0268 writes them, as services write them instead,
// and near misses.
constexpr std::array<std::string_view, 40> kUnitTexts{
    "Cel",  "C",   "[degF]", "K",     "W",     "kW",  "W.h",  "Wh",  "kW.h",      "kWh",
    "J",    "V",   "mV",     "A",     "mA",    "Hz",  "%",    "%RH", "L/min",     "L/s",
    "kPa",  "Pa",  "bar",    "RPM",   "{rev}/min", "V.A", "VA", "{var}", "var", "",
    "cel",  "°C",  "degC",   "F",     "kw",    " W",  "W ",   "%%",  "L/min\0x"sv, "m3/min"};
constexpr std::array<std::string_view, 30> kTypeTexts{
    "Temperature", "Humidity",   "Power",          "Heat",           "EnergykWh",
    "EnergyWh",    "EnergyJoules", "Voltage",      "Current",        "Frequency",
    "Pressure",    "PressurePa", "PressurekPa",    "DifferentialPressurekPa", "DifferentialPressurePa",
    "LiquidFlow",  "LiquidFlowLPM", "Rotational",  "Percent",        "ApparentPower",
    "ReactivePower", "ChargeState", "AirFlow",     "AirFlowCMM",     "Altitude",
    "Barometric",  "PowerFactor", "",              "temperature",    "Energy"};
constexpr std::array<std::string_view, 12> kStateTexts{
    "Enabled", "Disabled", "StandbyOffline", "StandbySpare", "InTest", "Starting",
    "Absent", "UnavailableOffline", "Deferring", "Quiesced", "Updating", ""};
constexpr std::array<std::string_view, 4> kHealthTexts{"OK", "Warning", "Critical", ""};
constexpr std::array<std::string_view, 8> kUriTexts{
    "/redfish/v1/Chassis/1/Sensors/S",
    "/redfish/v1/Chassis/1/Sensors/VoltageA1",
    "/redfish/v1/PowerEquipment/RackPDUs/1/Outlets/A1",
    "/redfish/v1/ThermalEquipment/CDUs/1/EnvironmentMetrics",
    "",
    "/",
    "#/Reading",
    "/redfish/v1/Chassis/1/Sensors/",
};
constexpr std::array<std::string_view, 10> kTextTexts{
    "A1", "1", "", "_", "-", "CPU Power", "PSU1 Current", "Température", "Inlet/Temp",
    "AnIdThatIsLongerThanSixtyFourCharactersAndSoIsCutWhenItIsMadeIntoAName"};

// Numbers a parser can give: a large exponent reads as an infinity, a small
// one as 0 or a denormal; JSON has no NaN, but Boost.JSON (1.81) reads a
// zero with a large exponent ("0e400") as one.
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr std::array kDoubles{
    0.0,     -0.0,     0.385,    117.5,   -40.0,   1e308,
    -1e308,  std::numeric_limits<double>::max(), std::numeric_limits<double>::lowest(),
    std::numeric_limits<double>::min(),  std::numeric_limits<double>::denorm_min(),
    -std::numeric_limits<double>::denorm_min(), kInf, -kInf,
    9223372036854775807.0, 18446744073709551616.0, 9007199254740993.0, -273.15,
    std::numeric_limits<double>::quiet_NaN()};

constexpr int kMaxDepth = 6;
constexpr int kMaxNodes = 128;

class Builder {
 public:
  explicit Builder(ByteReader& in) : in_(in) {}

  // A value for a property of `shape`: mostly of that kind, 1 in 8 anything.
  json::value value(Shape shape, int depth) {
    ++nodes_;
    const std::uint8_t select = in_.byte();
    if (shape == Shape::any || select >= 0xE0) return any(select, depth);
    switch (shape) {
      case Shape::number: return number(select);
      case Shape::units: return text(select, kUnitTexts);
      case Shape::type: return text(select, kTypeTexts);
      case Shape::state: return text(select, kStateTexts);
      case Shape::health: return text(select, kHealthTexts);
      case Shape::uri: return text(select, kUriTexts);
      case Shape::text: return text(select, kTextTexts);
      case Shape::resource: return object(kKeys, depth);
      case Shape::excerpt: return object(kExcerptKeys, depth);
      case Shape::status: return object(kStatusKeys, depth);
      case Shape::thresholds: return object(kThresholdsKeys, depth);
      case Shape::threshold: return object(kThresholdKeys, depth);
      case Shape::link: return object(kLinkKeys, depth);
      case Shape::members: return array(Shape::link, depth);
      case Shape::list: return array(Shape::resource, depth);
      case Shape::excerpts: return array(Shape::excerpt, depth);
      case Shape::any: break;
    }
    return any(select, depth);
  }

 private:
  bool full(int depth) const { return depth >= kMaxDepth || nodes_ >= kMaxNodes; }

  json::value any(std::uint8_t select, int depth) {
    switch (select % 10) {
      case 0: return nullptr;
      case 1: return (select & 0x10) != 0;
      case 2: return in_.integer<std::int64_t>();
      case 3: return in_.integer<std::uint64_t>();
      case 4: return in_.float64();
      case 5: return raw_text();
      case 6: return text(in_.byte(), kUnitTexts);
      case 7: return object(kKeys, depth);
      case 8: return array(Shape::any, depth);
      default: return number(in_.byte());
    }
  }

  // A reading as devices send one: mostly a number, of any size.
  json::value number(std::uint8_t select) {
    switch (select % 16) {
      case 0: return nullptr;
      case 1:
      case 2:
      case 3: return in_.integer<std::int8_t>();
      case 4: return in_.integer<std::int64_t>();
      case 5: return in_.integer<std::uint64_t>();
      case 6:
      case 7:
      case 8:
      case 9: return in_.pick(kDoubles);
      case 10:
      case 11:
      case 12: return in_.float64();
      case 13: return in_.integer<std::int16_t>() / 100.0;
      case 14: return (select & 0x10) != 0;
      default: return json::string(select & 0x10 ? "117.5" : "NaN");  // a number sent as text
    }
  }

  template <std::size_t N>
  json::value text(std::uint8_t select, const std::array<std::string_view, N>& from) {
    if (select % 8 == 7) return raw_text();
    return json::string(in_.pick(from));
  }

  // Up to 24 bytes as text; bytes past ASCII are the code points U+0080 to
  // U+00FF, so the text is UTF-8, as a parsed string always is.
  json::string raw_text() {
    json::string out;
    const auto bytes = in_.bytes(in_.below(25));
    for (const char c : bytes) {
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x80) {
        out.push_back(c);
      } else {
        out.push_back(static_cast<char>(0xC0 | (u >> 6)));
        out.push_back(static_cast<char>(0x80 | (u & 0x3F)));
      }
    }
    return out;
  }

  template <std::size_t N>
  json::value object(const std::array<Key, N>& keys, int depth) {
    json::object out;
    if (full(depth)) return out;
    const std::size_t count = in_.below(9);
    for (std::size_t i = 0; i < count && !in_.empty(); ++i) {
      // Mostly a key of this kind of object, else any property, else any text.
      const std::uint8_t select = in_.byte();
      Key key{};
      json::string name;
      if (select < 0xC0) {
        key = in_.pick(keys);
      } else if (select < 0xF0) {
        key = in_.pick(kKeys);
      } else {
        name = raw_text();
        key = {name, Shape::any};
      }
      out[key.name] = value(key.shape, depth + 1);
    }
    return out;
  }

  json::value array(Shape element, int depth) {
    json::array out;
    if (full(depth)) return out;
    const std::size_t count = in_.below(7);
    for (std::size_t i = 0; i < count && !in_.empty(); ++i) out.push_back(value(element, depth + 1));
    return out;
  }

  ByteReader& in_;
  int nodes_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  boost::system::error_code ec;
  const json::value parsed = json::parse(bytes, ec);
  if (!ec) {
    map(parsed, kSensorUris[0], kPrefixes[0]);
    check_name(rf::point_name(bytes));
    return 0;
  }
  ByteReader in(data, size);
  const std::uint8_t options = in.byte();
  Builder build(in);
  const json::value body = build.value(Shape::resource, 0);
  map(body, kSensorUris[options & 3], kPrefixes[(options >> 2) & 3]);
  return 0;
}
