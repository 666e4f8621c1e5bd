// Excerpts, states and the deprecated Power/Thermal as points, Sensor
// thresholds, and what $expand a service root offers, by table.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>

#include "sources/redfish/redfish_discovery.hpp"
#include "sources/redfish/redfish_excerpts.hpp"
#include "sources/redfish/redfish_readings.hpp"

namespace rackwatch::redfish {
namespace {

using ::testing::HasSubstr;
namespace json = boost::json;

std::vector<std::string> names(const std::vector<FoundPoint>& points) {
  std::vector<std::string> out;
  for (const auto& p : points) out.push_back(p.name + " " + p.pointer);
  return out;
}

TEST(RedfishExcerptsTest, PhasesArraysAndSummariesArePointsOfTheirOwn) {
  const auto body = json::parse(R"({"Name":"Mains",
      "PolyPhaseVoltage":{"Line1ToNeutral":{"Reading":231.2},"Line2ToLine3":{"Reading":401},"@odata.x":{"Reading":1},
                          "A/B":{"Reading":2}},
      "PolyPhaseCurrentAmps":{"Line1":{"Reading":12,"DataSourceUri":"/s/I1"},"Neutral":{"NoReading":1}},
      "FanSpeedsPercent":[{"DeviceName":"Chassis Fan #1","Reading":45},{"Reading":50},{"DeviceName":"x"}],
      "RailVoltage":[{"Reading":12.1},{"Reading":5.02}],
      "TemperatureSummaryCelsius":{"Intake":{"Reading":24.8}},
      "CellVoltages":"not an array"})");
  EXPECT_EQ(names(excerpt_points(body, "/m", "mains")),
            (std::vector<std::string>{
                "mains_voltage_line1toneutral /PolyPhaseVoltage/Line1ToNeutral/Reading",
                "mains_voltage_line2toline3 /PolyPhaseVoltage/Line2ToLine3/Reading",
                "mains_current_line1 /PolyPhaseCurrentAmps/Line1/Reading",
                "mains_temp_intake /TemperatureSummaryCelsius/Intake/Reading",
                "mains_fan_Chassis_Fan__1 /FanSpeedsPercent/0/Reading",
                "mains_fan_2 /FanSpeedsPercent/1/Reading",
                "mains_rail1_voltage /RailVoltage/0/Reading",
                "mains_rail2_voltage /RailVoltage/1/Reading",
            }));
  const auto points = excerpt_points(body, "/m", "mains");
  EXPECT_EQ(points[2].source_uri, "/s/I1");
  EXPECT_EQ(points[4].kind.quantity, "ratio");
  EXPECT_EQ(points[6].kind.unit, Unit::volt);
}

TEST(RedfishExcerptsTest, LeakDetectorsAndHealthAreStatesWithAnAlarm) {
  const auto detector = json::parse(R"({"Id":"Tray","Name":"Drip tray","DetectorState":"Warning"})");
  const auto leak = leak_points(detector, "/l/Tray", "Tray");
  ASSERT_EQ(leak.size(), 1u);
  EXPECT_EQ(leak[0].name, "Tray_leak");
  EXPECT_EQ(leak[0].kind.quantity, "leak");
  ASSERT_TRUE(leak[0].thresholds && leak[0].thresholds->alarm_state);
  const auto now = Clock::now();
  EXPECT_EQ(read_value(detector, leak[0].pointer, "/l/Tray", now, leak[0].states).value, 1.0);
  const auto unknown = read_value(json::parse(R"({"DetectorState":"Unavailable"})"), "/DetectorState", "/l", now,
                                  leak[0].states);
  EXPECT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.error, HasSubstr("'Unavailable', none of OK, Warning, Critical"));
  EXPECT_THAT(read_value(json::parse(R"({"DetectorState":3})"), "/DetectorState", "/l", now, leak[0].states).error,
              HasSubstr("is not a text"));
  EXPECT_TRUE(leak_points(json::parse(R"({"Id":"x"})"), "/l", "x").empty());

  const auto groups = leak_group_points(json::parse(R"({"LeakDetectorGroups":[{"Detectors":[
      {"DeviceName":"Moisture","DetectorState":"OK","DataSourceUri":"/c/LeakDetectors/Moisture"},{"DeviceName":"x"}]}]})"),
                                        "/ld", "cdu1");
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].name, "cdu1_Moisture_leak");
  EXPECT_EQ(groups[0].pointer, "/LeakDetectorGroups/0/Detectors/0/DetectorState");
  EXPECT_EQ(groups[0].source_uri, "/c/LeakDetectors/Moisture");

  const auto pump = json::parse(R"({"Name":"Pump 2","Status":{"State":"Enabled","Health":"Critical"}})");
  const auto fault = health_points(pump, "/p/2", "cdu1_pump2");
  ASSERT_EQ(fault.size(), 1u);
  EXPECT_EQ(fault[0].name, "cdu1_pump2_fault");
  EXPECT_EQ(read_value(pump, fault[0].pointer, "/p/2", now, fault[0].states).value, 1.0);
  EXPECT_TRUE(health_points(json::parse(R"({"Status":{"State":"Enabled"}})"), "/p", "p").empty());
}

TEST(RedfishExcerptsTest, SensorThresholdsComeInTheCanonicalUnitAndInOrder) {
  struct Case {
    const char* thresholds;
    const char* units;
    std::optional<double> low_critical, low_caution, high_caution, high_critical;
    double hysteresis;
    long long delay_ms;
  };
  const Case cases[] = {
      // Fatal stands in for a missing Critical; the widest hysteresis, the shortest dwell.
      {R"({"UpperCaution":{"Reading":42,"HysteresisReading":-2,"DwellTime":"PT5M"},
           "UpperFatal":{"Reading":50,"DwellTime":"PT30S"},"LowerCaution":{"Reading":5,"HysteresisReading":1}})",
       "Cel", std::nullopt, 5.0, 42.0, 50.0, 2.0, 30'000},
      // kW: limits are made W as the readings are.
      {R"({"UpperCritical":{"Reading":17.5},"UpperCaution":{"Reading":16}})", "kW", std::nullopt, std::nullopt,
       16000.0, 17500.0, 0, 0},
      // A Caution past its Critical is dropped; an odd DwellTime is ignored.
      {R"({"UpperCaution":{"Reading":60},"UpperCritical":{"Reading":55,"DwellTime":"5 minutes"}})", "Cel",
       std::nullopt, std::nullopt, std::nullopt, 55.0, 0, 0},
      {R"({"LowerCritical":{"Reading":10},"UpperCritical":{"Reading":20},"UpperCaution":{"Reading":"x"}})", "V", 10.0,
       std::nullopt, std::nullopt, 20.0, 0, 0},
      {R"({"UpperCaution":{"Reading":1},"UpperCritical":{"Reading":2},"LowerCaution":{"Reading":1.5}})", "V",
       std::nullopt, std::nullopt, std::nullopt, std::nullopt, 0, 0},  // low above high: none
      {R"({"UpperCaution":{"DwellTime":"PT1H"}})", "V", std::nullopt, std::nullopt, std::nullopt, std::nullopt, 0, 0},
      {R"([])", "V", std::nullopt, std::nullopt, std::nullopt, std::nullopt, 0, 0},
  };
  for (const auto& c : cases) {
    const auto kind = sensor_kind("", c.units);
    ASSERT_TRUE(kind) << c.units;
    json::object sensor;
    sensor["Thresholds"] = json::parse(c.thresholds);
    const auto t = sensor_thresholds(sensor, *kind);
    const bool any = c.low_critical || c.low_caution || c.high_caution || c.high_critical;
    ASSERT_EQ(t.has_value(), any) << c.thresholds;
    if (!t) continue;
    EXPECT_EQ(t->low_critical, c.low_critical) << c.thresholds;
    EXPECT_EQ(t->low_caution, c.low_caution) << c.thresholds;
    EXPECT_EQ(t->high_caution, c.high_caution) << c.thresholds;
    EXPECT_EQ(t->high_critical, c.high_critical) << c.thresholds;
    EXPECT_EQ(t->hysteresis, c.hysteresis) << c.thresholds;
    EXPECT_EQ(t->delay.count(), c.delay_ms) << c.thresholds;
  }
}

TEST(RedfishExcerptsTest, ASensorWithoutReadingTypeIsKnownByAUnitThatMeansOneThing) {
  EXPECT_EQ(sensor_kind("", "Cel")->quantity, "temperature");
  EXPECT_EQ(sensor_kind("", "kW")->quantity, "power");
  EXPECT_EQ(sensor_kind("", "kW.h")->quantity, "energy");
  EXPECT_EQ(sensor_kind("", "kW.h")->from.factor, 1000.0);
  EXPECT_EQ(sensor_kind("", "RPM")->quantity, "fan_speed");
  EXPECT_THAT(sensor_kind("", "%").error(), HasSubstr("do not say what is measured"));
  EXPECT_THAT(sensor_kind("", "furlongs").error(), HasSubstr("no ReadingType and unknown ReadingUnits 'furlongs'"));
}

TEST(RedfishExcerptsTest, TheDeprecatedPowerAndThermalArePointsWithTheirLimits) {
  const auto thermal = json::parse(R"({"Temperatures":[
      {"MemberId":"0","Name":"CPU1 Temp","ReadingCelsius":41,"UpperThresholdNonCritical":42,"UpperThresholdCritical":45},
      {"MemberId":"1","Name":"CPU2 Temp","Status":{"State":"Disabled"}},
      {"MemberId":"2","ReadingCelsius":null}],
      "Fans":[{"MemberId":"0","FanName":"Fan A","Reading":40,"ReadingUnits":"Percent"}]})");
  std::vector<std::string> skipped;
  const auto points = legacy_points(thermal, "/c/1/Thermal", "1", skipped);
  EXPECT_EQ(names(points), (std::vector<std::string>{"CPU1_Temp /Temperatures/0/ReadingCelsius",
                                                     "1_temp2 /Temperatures/2/ReadingCelsius",
                                                     "Fan_A /Fans/0/Reading"}));
  ASSERT_TRUE(points[0].thresholds);
  EXPECT_EQ(points[0].thresholds->high_caution, 42.0);
  EXPECT_EQ(points[0].thresholds->high_critical, 45.0);
  EXPECT_EQ(points[2].kind.quantity, "ratio");
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_THAT(skipped[0], HasSubstr("/c/1/Thermal#/Temperatures/1: Disabled, no ReadingCelsius"));
}

TEST(RedfishExcerptsTest, ExpandIsUsedAsTheServiceRootOffersIt) {
  struct Case {
    const char* root;
    const char* query;
  };
  const Case cases[] = {
      {R"({"ProtocolFeaturesSupported":{"ExpandQuery":{"NoLinks":true,"Levels":true,"MaxLevels":6}}})",
       "$expand=.($levels=1)"},
      {R"({"ProtocolFeaturesSupported":{"ExpandQuery":{"NoLinks":true}}})", "$expand=."},
      {R"({"ProtocolFeaturesSupported":{"ExpandQuery":{"ExpandAll":true,"Levels":true}}})", "$expand=*($levels=1)"},
      {R"({"ProtocolFeaturesSupported":{"ExpandQuery":{"Links":true}}})", ""},
      {R"({"ProtocolFeaturesSupported":{"ExpandQuery":{"NoLinks":"yes"}}})", ""},
      {R"({"ProtocolFeaturesSupported":{}})", ""},
      {R"({})", ""},
  };
  for (const auto& c : cases) EXPECT_EQ(expand_query(json::parse(c.root)), c.query) << c.root;
}

TEST(RedfishExcerptsTest, APointOfAnExpandedCollectionIsFoundByItsMembersId) {
  const auto collection = json::parse(R"({"Members":[{"@odata.id":"/s/A","Reading":1},{"@odata.id":"/s/B","Reading":2}]})");
  EXPECT_TRUE(members_expanded(collection));
  EXPECT_FALSE(members_expanded(json::parse(R"({"Members":[{"@odata.id":"/s/A"}]})")));
  FoundPoint p;
  p.resource = "/s/B";
  p.pointer = "/Reading";
  p.via = "/s?$expand=.";
  const auto now = Clock::now();
  EXPECT_EQ(read_point(collection, p, now).value, 2.0);
  p.resource = "/s/C";
  const auto gone = read_point(collection, p, now);
  EXPECT_FALSE(gone.ok());
  EXPECT_THAT(gone.error, HasSubstr("/s/C is no longer a member of /s?$expand=."));
}

}  // namespace
}  // namespace rackwatch::redfish
