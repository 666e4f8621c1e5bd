#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "core/config.hpp"
#include "diag/wire_decoder.hpp"
#include "publish/native_encoder.hpp"
#include "sources/builtin/builtin_types.hpp"

namespace rackwatch {
namespace {

TEST(WireDecoderTest, SplitsTopicsUnderAPrefix) {
  auto p = cli::split_topic("rackwatch/v1", "rackwatch/v1/hall-a/r01/telemetry");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->site, "hall-a");
  EXPECT_EQ(p->rack, "r01");
  EXPECT_EQ(p->kind, "telemetry");
  EXPECT_FALSE(cli::split_topic("rackwatch/v1", "other/hall-a/r01/telemetry"));
  EXPECT_FALSE(cli::split_topic("rackwatch/v1", "rackwatch/v1/hall-a/telemetry"));
  EXPECT_FALSE(cli::split_topic("rackwatch/v1", "rackwatch/v10/a/b/telemetry"));
}

TEST(WireDecoderTest, NamesTelemetryValuesOnceTheCatalogIsSeen) {
  Diagnostics d;
  auto cfg = parse_config(R"(agent: {site: s1, rack: r1, id: a1}
mqtt: {brokers: [tcp://127.0.0.1:1]}
sources:
  - {name: cdu, type: sim, interval: 1s, points: [{name: flow, signal: cdu.flow}]}
)", "w.yaml", builtin_source_types(), d);
  ASSERT_TRUE(cfg);
  NativeEncoder enc(*cfg, {"a1", "s1", "r1", "boot", "v", "h", TimePoint{}});
  const TimePoint t(std::chrono::milliseconds(1'800'000'000'000));
  auto tel = enc.telemetry("cdu", 3, t, {{0, 412.5, Quality::good, {}, t}});

  cli::WireDecoder dec("rackwatch/v1");
  auto before = dec.decode(tel.address, tel.payload);
  EXPECT_FALSE(before.at("catalog_known").as_bool());
  EXPECT_EQ(before.at("samples").as_array()[0].as_object().at("point").as_string(), "#0");

  auto cat = enc.catalog(t);
  auto c = dec.decode(cat.address, cat.payload);
  EXPECT_EQ(c.at("type").as_string(), "catalog");

  auto after = dec.decode(tel.address, tel.payload);
  const auto& s = after.at("samples").as_array()[0].as_object();
  EXPECT_EQ(s.at("point").as_string(), "cdu.flow");
  EXPECT_EQ(s.at("unit").as_string(), "L/min");
  EXPECT_EQ(s.at("value").as_double(), 412.5);
  EXPECT_EQ(after.at("sequence").as_uint64(), 3u);
  EXPECT_NE(dec.to_text(after).find("cdu.flow"), std::string::npos);
}

// A catalog's devices (what SunSpec meters said they are) show in both
// forms; a catalog without any has no "devices" at all.
TEST(WireDecoderTest, ShowsTheCatalogsDevices) {
  Diagnostics d;
  auto cfg = parse_config(R"(agent: {site: s1, rack: r1, id: a1}
mqtt: {brokers: [tcp://127.0.0.1:1]}
sources:
  - {name: meter, type: sim, interval: 1s, points: [{name: flow, signal: cdu.flow}]}
)", "w.yaml", builtin_source_types(), d);
  ASSERT_TRUE(cfg);
  NativeEncoder enc(*cfg, {"a1", "s1", "r1", "boot", "v", "h", TimePoint{}});
  cli::WireDecoder dec("rackwatch/v1");
  auto plain = enc.catalog(TimePoint{});
  EXPECT_FALSE(dec.decode(plain.address, plain.payload).contains("devices"));
  enc.set_device("meter", DeviceInfo{"Acme\x1b[2J", "AM-3", "SN1", "1.0"});
  auto cat = enc.catalog(TimePoint{});
  auto c = dec.decode(cat.address, cat.payload);
  const auto& dev = c.at("devices").as_array().at(0).as_object();
  EXPECT_EQ(dev.at("name").as_string(), "meter");
  EXPECT_EQ(dev.at("serial_number").as_string(), "SN1");
  const auto text = dec.to_text(c);
  EXPECT_NE(text.find("  device meter: Acme\\x1B[2J AM-3, serial SN1, version 1.0\n"), std::string::npos) << text;
}

// The text for people shows about four digits with a prefix; the JSON keeps
// the canonical unit and every digit that came.
TEST(WireDecoderTest, TextShowsPrefixedUnitsAndJsonTheValueAsSent) {
  Diagnostics d;
  auto cfg = parse_config(R"(agent: {site: s1, rack: r1, id: a1}
mqtt: {brokers: [tcp://127.0.0.1:1]}
sources:
  - name: pdu-a
    type: sim
    interval: 1s
    points: [{name: energy, signal: pdu.energy}, {name: total, signal: pdu.total.power}]
)", "w.yaml", builtin_source_types(), d);
  ASSERT_TRUE(cfg);
  NativeEncoder enc(*cfg, {"a1", "s1", "r1", "boot", "v", "h", TimePoint{}});
  const TimePoint t(std::chrono::milliseconds(1'800'000'000'000));
  cli::WireDecoder dec("rackwatch/v1");
  auto cat = enc.catalog(t);
  const auto c = dec.decode(cat.address, cat.payload);
  EXPECT_NE(dec.to_text(c).find(": 2 points\n"), std::string::npos) << dec.to_text(c);

  auto tel = enc.telemetry("pdu-a", 1, t, {{0, 2313856652.5, Quality::good, {}, t}, {1, 45230, Quality::good, {}, t}});
  const auto o = dec.decode(tel.address, tel.payload);
  const auto& energy = o.at("samples").as_array()[0].as_object();
  EXPECT_EQ(energy.at("value").as_double(), 2313856652.5);
  EXPECT_EQ(energy.at("unit").as_string(), "Wh");
  const auto text = dec.to_text(o);
  EXPECT_NE(text.find("pdu-a.energy  2313.86  MWh"), std::string::npos) << text;
  EXPECT_NE(text.find("pdu-a.total     45.23  kW"), std::string::npos) << text;
}

TEST(WireDecoderTest, ActiveAlarmsAreListed) {
  v1::ActiveAlarms a;
  a.set_agent_id("x");
  a.set_time_ms(1'800'000'000'000);
  auto* e = a.add_alarms();
  e->set_point_id("cdu.supply_temp");
  e->set_kind("high_critical");
  e->set_severity(v1::AlarmEvent::SEVERITY_CRITICAL);
  e->set_value(46.5);
  e->set_limit(45);
  cli::WireDecoder dec("rackwatch/v1");
  auto o = dec.decode("rackwatch/v1/s/r/alarms", a.SerializeAsString());
  ASSERT_FALSE(o.contains("error")) << boost::json::serialize(o);
  ASSERT_EQ(o.at("active").as_array().size(), 1u);
  EXPECT_EQ(o.at("active").at(0).at("kind").as_string(), "high_critical");
  const auto text = dec.to_text(o);
  EXPECT_NE(text.find("1 active alarm\n"), std::string::npos) << text;
  EXPECT_NE(text.find("cdu.supply_temp  high_critical"), std::string::npos) << text;
  EXPECT_NE(text.find("value 46.5 limit 45"), std::string::npos) << text;
}

// A failed sensor has no value: the decoder shows none (null in JSON) and
// why, never "value 0", which on a fault flag would read as "no fault".
TEST(WireDecoderTest, AFailedSensorShowsNoValueButItsReason) {
  v1::AlarmEvent a;
  a.set_point_id("psu1.pfc_fail");
  a.set_kind("sensor_failed");
  a.set_severity(v1::AlarmEvent::SEVERITY_SENSOR_FAILED);
  a.set_raised(true);
  a.set_reason("timeout: no answer from unit 2 within 800ms");
  cli::WireDecoder dec("rackwatch/v1");
  auto o = dec.decode("rackwatch/v1/s/r/alarm", a.SerializeAsString());
  ASSERT_FALSE(o.contains("error")) << boost::json::serialize(o);
  EXPECT_TRUE(o.at("value").is_null());
  EXPECT_TRUE(o.at("limit").is_null());
  EXPECT_EQ(o.at("reason").as_string(), "timeout: no answer from unit 2 within 800ms");
  const auto text = dec.to_text(o);
  EXPECT_NE(text.find("psu1.pfc_fail  no value: timeout: no answer from unit 2 within 800ms"), std::string::npos)
      << text;
  EXPECT_EQ(text.find("value 0"), std::string::npos) << text;
}

TEST(WireDecoderTest, GarbageSaysWhatItIsNot) {
  cli::WireDecoder dec("rackwatch/v1");
  auto o = dec.decode("rackwatch/v1/s/r/telemetry", std::string("\xff\xff\xff\xff", 4));
  ASSERT_TRUE(o.contains("error"));
  EXPECT_NE(std::string(o.at("error").as_string()).find("Telemetry"), std::string::npos);
}

TEST(WireDecoderTest, SampleTimesThatOverflowAreUnknownNotUndefined) {
  // time_ms = INT64_MAX and a sample offset of +1: a sum past int64.
  const std::string payload("\x30\xff\xff\xff\xff\xff\xff\xff\xff\x7f\x3a\x02\x20\x02", 14);
  cli::WireDecoder dec("rackwatch/v1");
  auto o = dec.decode("rackwatch/v1/s/r/telemetry", payload);
  ASSERT_FALSE(o.contains("error")) << boost::json::serialize(o);
  const auto& sample = o.at("samples").as_array().at(0).as_object();
  EXPECT_TRUE(sample.at("time_ms").is_null());
}

}  // namespace
}  // namespace rackwatch
