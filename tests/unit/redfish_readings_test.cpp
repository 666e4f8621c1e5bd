// The pure half of the Redfish source: units, a Sensor or an excerpt as a
// point, and a point's value in a body, by table.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include <boost/json/parse.hpp>

#include "sources/redfish/redfish_excerpts.hpp"
#include "sources/redfish/redfish_readings.hpp"
#include "sources/redfish/redfish_units.hpp"

namespace rackwatch::redfish {
namespace {

using ::testing::HasSubstr;

TEST(RedfishUnitsTest, MapsUcumAndFieldSpellingsIntoCanonicalUnits) {
  struct Case {
    const char* units;
    Unit unit;
    double factor;
    double offset;
  };
  const Case cases[] = {
      {"Cel", Unit::degree_celsius, 1, 0}, {"C", Unit::degree_celsius, 1, 0},
      {"K", Unit::degree_celsius, 1, -273.15}, {"W", Unit::watt, 1, 0},
      {"kW", Unit::watt, 1000, 0}, {"kW.h", Unit::watt_hour, 1000, 0},
      {"W.h", Unit::watt_hour, 1, 0}, {"V", Unit::volt, 1, 0},
      {"A", Unit::ampere, 1, 0}, {"Hz", Unit::hertz, 1, 0},
      {"%", Unit::percent, 1, 0}, {"%RH", Unit::percent_rh, 1, 0},
      {"L/min", Unit::litre_per_minute, 1, 0}, {"kPa", Unit::kilopascal, 1, 0},
      {"Pa", Unit::kilopascal, 1e-3, 0}, {"RPM", Unit::rpm, 1, 0},
      {"{rev}/min", Unit::rpm, 1, 0}, {"V.A", Unit::volt_ampere, 1, 0},
  };
  for (const auto& c : cases) {
    auto u = device_unit(c.units);
    ASSERT_TRUE(u) << c.units;
    EXPECT_EQ(u->canonical, c.unit) << c.units;
    EXPECT_DOUBLE_EQ(u->factor, c.factor) << c.units;
    EXPECT_DOUBLE_EQ(u->offset, c.offset) << c.units;
  }
  for (const char* bad : {"", "cel", "furlongs", "kWh/s"}) EXPECT_FALSE(device_unit(bad)) << bad;
}

TEST(RedfishUnitsTest, ReadingTypeGivesTheQuantityAndSettlesUnitsThatCannotMeasureIt) {
  struct Case {
    const char* type;
    const char* units;
    const char* quantity;  // nullptr: left out
    Unit from;
    double factor;
  };
  const Case cases[] = {
      {"Temperature", "C", "temperature", Unit::degree_celsius, 1},
      {"Humidity", "%", "humidity", Unit::percent_rh, 1},  // "%" of humidity is %RH
      {"Power", "W", "power", Unit::watt, 1},
      {"EnergykWh", "kW.h", "energy", Unit::watt_hour, 1000},
      {"EnergykWh", "kW", "energy", Unit::watt_hour, 1000},  // the mockups' flaw: the type names its unit
      {"PressurekPa", "Pa", "pressure", Unit::kilopascal, 1e-3},
      {"LiquidFlowLPM", "L/min", "flow", Unit::litre_per_minute, 1},
      {"Rotational", "RPM", "fan_speed", Unit::rpm, 1},
      {"Percent", "%", "ratio", Unit::percent, 1},
      {"Voltage", "A", nullptr, Unit::unspecified, 0},    // units that cannot measure the type
      {"Temperature", "furlongs", nullptr, Unit::unspecified, 0},
      {"AirFlowCMM", "m3/min", nullptr, Unit::unspecified, 0},  // no quantity of ours
  };
  for (const auto& c : cases) {
    auto k = sensor_kind(c.type, c.units);
    if (!c.quantity) {
      EXPECT_FALSE(k) << c.type << " " << c.units;
      continue;
    }
    ASSERT_TRUE(k) << c.type << " " << c.units << ": " << k.error();
    EXPECT_EQ(k->quantity, c.quantity);
    EXPECT_EQ(k->from.canonical, c.from) << c.type;
    EXPECT_DOUBLE_EQ(k->from.factor, c.factor) << c.type;
    EXPECT_EQ(k->unit, find_quantity(c.quantity)->unit);
  }
  EXPECT_THAT(sensor_kind("Voltage", "A").error(), HasSubstr("cannot measure"));
}

TEST(RedfishReadingsTest, PointNamesAreValidAndBounded) {
  EXPECT_EQ(point_name("CurrentA"), "CurrentA");
  EXPECT_EQ(point_name("PowerMains1-3"), "PowerMains1-3");
  EXPECT_EQ(point_name("Inlet Temp.1"), "Inlet_Temp_1");
  EXPECT_EQ(point_name(std::string(100, 'x')).size(), 64u);
  EXPECT_EQ(point_name(""), "");
  EXPECT_EQ(point_name("/ /"), "");
}

TEST(RedfishReadingsTest, ASensorIsAPointOfItsReading) {
  const auto sensor = boost::json::parse(R"({"Id":"CabTemp","Name":"Cabinet temperature",
      "ReadingType":"Temperature","ReadingUnits":"C","Reading":23.5})");
  auto p = sensor_point(sensor, "/redfish/v1/Chassis/PDU/Sensors/CabTemp");
  ASSERT_TRUE(p) << p.error();
  EXPECT_EQ(p->name, "CabTemp");
  EXPECT_EQ(p->pointer, "/Reading");
  EXPECT_EQ(p->resource, "/redfish/v1/Chassis/PDU/Sensors/CabTemp");
  EXPECT_EQ(p->kind.quantity, "temperature");
  EXPECT_EQ(p->description, "Cabinet temperature");

  struct Bad {
    const char* json;
    const char* why;
  };
  const Bad bad[] = {
      {R"([1,2])", "not a JSON object"},
      {R"({"Id":"X","ReadingType":"Temperature","ReadingUnits":"C"})", "no Reading"},
      {R"({"Id":"X","ReadingType":"Voltage","ReadingUnits":"C","Reading":1})", "cannot measure"},
      {R"({"Id":"X","ReadingType":"Quux","ReadingUnits":"C","Reading":1})", "no quantity"},
      {R"({"Id":"..","ReadingType":"Voltage","ReadingUnits":"V","Reading":1})", "no usable Id"},
  };
  for (const auto& b : bad) {
    auto r = sensor_point(boost::json::parse(b.json), "/s");
    ASSERT_FALSE(r) << b.json;
    EXPECT_THAT(r.error(), HasSubstr(b.why)) << b.json;
  }
  // Without an Id, the last segment of its URI names it.
  auto unnamed = sensor_point(boost::json::parse(R"({"ReadingType":"Voltage","ReadingUnits":"V","Reading":1})"),
                              "/redfish/v1/Chassis/1/Sensors/VIn");
  ASSERT_TRUE(unnamed);
  EXPECT_EQ(unnamed->name, "VIn");
}

TEST(RedfishReadingsTest, AnOutletsExcerptsArePointsNamedAfterIt) {
  const auto outlet = boost::json::parse(R"({"Id":"A1","Name":"Outlet A1",
      "Voltage":{"DataSourceUri":"/redfish/v1/Chassis/PDU/Sensors/VoltageA1","Reading":117.5},
      "CurrentAmps":{"Reading":1.68},
      "PowerWatts":{"Reading":197.4,"ApparentVA":197.4},
      "EnergykWh":{"Reading":null},
      "FrequencyHz":{"DataSourceUri":"/x"},
      "PowerState":"On"})");
  auto points = excerpt_points(outlet, "/redfish/v1/PowerEquipment/RackPDUs/1/Outlets/A1", "outlet_A1");
  ASSERT_EQ(points.size(), 4u);  // FrequencyHz has no Reading
  EXPECT_EQ(points[0].name, "outlet_A1_voltage");
  EXPECT_EQ(points[0].pointer, "/Voltage/Reading");
  EXPECT_EQ(points[0].source_uri, "/redfish/v1/Chassis/PDU/Sensors/VoltageA1");
  EXPECT_EQ(points[1].name, "outlet_A1_current");
  EXPECT_EQ(points[2].name, "outlet_A1_power");
  EXPECT_EQ(points[2].kind.quantity, "power");
  EXPECT_EQ(points[3].name, "outlet_A1_energy");
  EXPECT_EQ(points[3].kind.from.factor, 1000.0);  // kWh into Wh
  EXPECT_TRUE(excerpt_points(boost::json::parse("17"), "/x", "p").empty());
}

TEST(RedfishReadingsTest, AValueIsANumberOrWhyThereIsNone) {
  const auto body = boost::json::parse(R"({"Reading":null,"Status":{"State":"UnavailableOffline"},
      "PowerWatts":{"Reading":197},"Big":{"Reading":18446744073709551615},"Text":{"Reading":"12"},
      "Ok":{"Reading":1.5},"Zero":{"Reading":0e400}})");
  const auto now = Clock::now();
  struct Case {
    const char* pointer;
    bool ok;
    double value;
    const char* why;
  };
  const Case cases[] = {
      {"/Ok/Reading", true, 1.5, ""},
      {"/PowerWatts/Reading", true, 197, ""},
      {"/Big/Reading", true, 18446744073709551615.0, ""},
      {"/Reading", false, 0, "is null: the device has no value (Status.State UnavailableOffline)"},
      {"/Text/Reading", false, 0, "is not a number"},
      {"/Zero/Reading", false, 0, "is not a number (NaN)"},  // Boost.JSON reads 0e400 as NaN
      {"/Voltage/Reading", false, 0, "is missing"},
      {"not a pointer", false, 0, "is missing"},
  };
  for (const auto& c : cases) {
    const auto r = read_value(body, c.pointer, "/s/1", now);
    EXPECT_EQ(r.ok(), c.ok) << c.pointer << ": " << r.error;
    if (c.ok) {
      EXPECT_DOUBLE_EQ(r.value, c.value) << c.pointer;
    } else {
      EXPECT_THAT(r.error, HasSubstr(c.why)) << c.pointer;
      EXPECT_THAT(r.error, HasSubstr("/s/1")) << c.pointer;
    }
  }
}

TEST(RedfishReadingsTest, LinksAndMembersTolerateWhatIsNotThere) {
  const auto c = boost::json::parse(R"({"Members":[{"@odata.id":"/a"},{"x":1},{"@odata.id":7},{"@odata.id":"/b"}],
      "Sensors":{"@odata.id":"/s"},"Bad":{"@odata.id":3}})");
  EXPECT_EQ(members(c), (std::vector<std::string>{"/a", "/b"}));
  EXPECT_EQ(link(c, "Sensors"), "/s");
  EXPECT_FALSE(link(c, "Bad"));
  EXPECT_FALSE(link(c, "Nothing"));
  EXPECT_TRUE(members(boost::json::parse(R"({"Members":{}})")).empty());
  EXPECT_TRUE(members(boost::json::parse("null")).empty());
}

}  // namespace
}  // namespace rackwatch::redfish
