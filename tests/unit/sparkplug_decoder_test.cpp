// `rackwatch tail` on Sparkplug B: births name the data sent by alias, an
// alias no birth gave stays a number, seq breaks and stale deaths are
// problems of the message, and what does not decode says why.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <functional>

#include "diag/sparkplug_decoder.hpp"
#include "publish/sparkplug_encoder.hpp"
#include "rackwatch/v1/telemetry.pb.h"
#include "sparkplug_b/sparkplug_b.pb.h"

namespace rackwatch::cli {
namespace {

namespace json = boost::json;
using Payload = sparkplug_b::Payload;
using ::testing::HasSubstr;

constexpr std::uint64_t kTime = 1'800'000'000'000;

void add_property(Payload::Metric& m, const std::string& key, sparkplug_b::DataType type,
                  const std::function<void(Payload::PropertyValue&)>& set) {
  auto* props = m.mutable_properties();
  props->add_keys(key);
  auto* v = props->add_values();
  v->set_type(type);
  set(*v);
}

Payload::Metric& add_metric(Payload& p, const std::string& name, std::uint64_t alias, double value) {
  auto* m = p.add_metrics();
  if (!name.empty()) m->set_name(name);
  if (alias != 0) m->set_alias(alias);
  m->set_timestamp(kTime);
  m->set_double_value(value);
  return *m;
}

std::string nbirth(std::uint64_t seq, std::uint64_t bd_seq) {
  Payload p;
  p.set_timestamp(kTime);
  p.set_seq(seq);
  auto* bd = p.add_metrics();
  bd->set_name("bdSeq");
  bd->set_datatype(sparkplug_b::UInt64);
  bd->set_long_value(bd_seq);
  auto& dt = add_metric(p, "Derived/delta_t", 5, 6.5);
  dt.set_datatype(sparkplug_b::Double);
  add_property(dt, "engUnit", sparkplug_b::String, [](auto& v) { v.set_string_value("K"); });
  return p.SerializeAsString();
}

// The pdu's birth: l1 (alias 1, W, good, with limits and a description)
// and leak (alias 2, Boolean, bad).
std::string dbirth(std::uint64_t seq) {
  Payload p;
  p.set_timestamp(kTime);
  p.set_seq(seq);
  auto& l1 = add_metric(p, "l1", 1, 4200);
  l1.set_datatype(sparkplug_b::Double);
  l1.mutable_metadata()->set_description("phase 1 power");
  add_property(l1, "engUnit", sparkplug_b::String, [](auto& v) { v.set_string_value("W"); });
  add_property(l1, "Quality", sparkplug_b::Int32, [](auto& v) { v.set_int_value(192); });
  add_property(l1, "highCritical", sparkplug_b::Double, [](auto& v) { v.set_double_value(7000); });
  add_property(l1, "alarmWhen", sparkplug_b::Boolean, [](auto& v) { v.set_boolean_value(true); });
  add_property(l1, "offset", sparkplug_b::Int32, [](auto& v) { v.set_int_value(static_cast<std::uint32_t>(-3)); });
  auto* leak = p.add_metrics();
  leak->set_name("leak");
  leak->set_alias(2);
  leak->set_datatype(sparkplug_b::Boolean);
  leak->set_is_null(true);
  add_property(*leak, "Quality", sparkplug_b::Int32, [](auto& v) { v.set_int_value(0); });
  return p.SerializeAsString();
}

// A DDATA of `aliases`, each with the value alias * 1000; historical when asked.
std::string ddata(std::uint64_t seq, std::vector<std::uint64_t> aliases, bool historical = false,
                  int quality = 192) {
  Payload p;
  p.set_timestamp(kTime + 1000);
  p.set_seq(seq);
  for (const auto a : aliases) {
    auto& m = add_metric(p, "", a, static_cast<double>(a) * 1000);
    m.set_timestamp(kTime - 60'000);
    if (historical) m.set_is_historical(true);
    add_property(m, "Quality", sparkplug_b::Int32, [&](auto& v) { v.set_int_value(static_cast<std::uint32_t>(quality)); });
  }
  return p.SerializeAsString();
}

std::string ndeath(std::uint64_t bd_seq) {
  Payload p;
  p.set_timestamp(kTime);
  auto* bd = p.add_metrics();
  bd->set_name("bdSeq");
  bd->set_long_value(bd_seq);
  return p.SerializeAsString();
}

std::string with_seq(std::uint64_t seq) {
  Payload p;
  p.set_timestamp(kTime);
  p.set_seq(seq);
  return p.SerializeAsString();
}

const std::string kNode = "spBv1.0/hall-a/";
std::string node_topic(const std::string& type) { return kNode + type + "/r07"; }
std::string pdu_topic(const std::string& type) { return kNode + type + "/r07/pdu"; }

std::vector<std::string> problems_of(const json::object& o) {
  std::vector<std::string> out;
  if (const auto* p = o.if_contains("problems")) {
    for (const auto& v : p->as_array()) out.emplace_back(v.as_string());
  }
  return out;
}

// One session of a node, message by message: what each decodes to.
TEST(SparkplugDecoderTest, ASessionMessageByMessage) {
  const struct Step {
    const char* what;
    std::string topic;
    std::string payload;
    std::vector<std::string> problems;  // exactly these
    std::vector<std::string> text;      // each a part of the text
  } steps[] = {
      {"data before any birth: aliases only, no seq expectation yet", pdu_topic("DDATA"), ddata(255, {1}),
       {"alias 1 not born in a DBIRTH of pdu"}, {"alias 1 (not born)"}},
      {"seq wraps after 255", pdu_topic("DDATA"), ddata(0, {1}), {"alias 1 not born in a DBIRTH of pdu"}, {}},
      {"the node's birth", node_topic("NBIRTH"), nbirth(0, 3), {}, {"hall-a/r07  NBIRTH #0  bdSeq 3: 2 metrics",
                                                                    "Derived/delta_t  6.5  K  alias 5"}},
      {"the device's birth", pdu_topic("DBIRTH"), dbirth(1), {},
       {"hall-a/r07/pdu  DBIRTH #1: 2 metrics", "l1    4.2  kW  alias 1, highCritical=7000, alarmWhen=true, offset=-3",
        "leak    -      bad, alias 2"}},
      {"data by alias, named", pdu_topic("DDATA"), ddata(2, {1, 2}), {}, {"DDATA #2", "l1       1  kW", "leak  2000"}},
      {"historical and uncertain", pdu_topic("DDATA"), ddata(3, {1}, true, 64), {},
       {"l1  1  kW  uncertain, historical "}},
      {"node data by the NBIRTH", node_topic("NDATA"), ddata(4, {5}), {}, {"Derived/delta_t  5000  K"}},
      {"an alias nobody was born with", pdu_topic("DDATA"), ddata(5, {9, 1}), {"alias 9 not born in a DBIRTH of pdu"},
       {"alias 9 (not born)", "l1"}},
      {"a seq skipped", pdu_topic("DDATA"), ddata(8, {1}), {"seq gap: expected 6, got 8"},
       {"! seq gap: expected 6, got 8"}},
      {"counting goes on from the one seen", pdu_topic("DDEATH"), with_seq(9), {}, {"hall-a/r07/pdu  DDEATH #9"}},
      {"a dead device's stored readings are still named", pdu_topic("DDATA"), ddata(10, {1}, true), {},
       {"l1  1  kW  historical "}},
      {"a will of an earlier session", node_topic("NDEATH"), ndeath(2),
       {"bdSeq 2 is not the NBIRTH's 3: the death of an earlier session"}, {"NDEATH  bdSeq 2"}},
      {"node data still named", node_topic("NDATA"), ddata(11, {5}), {}, {"Derived/delta_t"}},
      {"the session's death", node_topic("NDEATH"), ndeath(3), {}, {"NDEATH  bdSeq 3"}},
      {"after it nothing is named", node_topic("NDATA"), ddata(13, {5}), {"alias 5 not born in the NBIRTH"}, {}},
      {"a birth whose seq is not 0", node_topic("NBIRTH"), nbirth(4, 4), {"seq gap: expected 0, got 4"}, {}},
      {"an NDEATH without bdSeq", node_topic("NDEATH"), with_seq(0), {"NDEATH without bdSeq"}, {}},
  };
  SparkplugDecoder dec;
  for (const auto& s : steps) {
    SCOPED_TRACE(s.what);
    const auto o = dec.decode(s.topic, s.payload);
    ASSERT_FALSE(o.contains("error")) << json::serialize(o);
    EXPECT_EQ(o.at("format").as_string(), "sparkplug");
    EXPECT_EQ(problems_of(o), s.problems) << json::serialize(o);
    const auto text = dec.to_text(o);
    for (const auto& part : s.text) EXPECT_THAT(text, HasSubstr(part));
  }
}

TEST(SparkplugDecoderTest, JsonOfBirthAndData) {
  SparkplugDecoder dec;
  const auto birth = dec.decode(node_topic("NBIRTH"), nbirth(0, 7));
  EXPECT_EQ(birth.at("type").as_string(), "NBIRTH");
  EXPECT_EQ(birth.at("group").as_string(), "hall-a");
  EXPECT_EQ(birth.at("edge_node").as_string(), "r07");
  EXPECT_TRUE(birth.at("device").is_null());
  EXPECT_EQ(birth.at("bd_seq").as_uint64(), 7u);
  EXPECT_EQ(birth.at("seq").as_uint64(), 0u);
  EXPECT_EQ(birth.at("timestamp_ms").as_int64(), static_cast<std::int64_t>(kTime));

  const auto db = dec.decode(pdu_topic("DBIRTH"), dbirth(1));
  const auto& l1 = db.at("metrics").at(0).as_object();
  EXPECT_EQ(l1.at("name").as_string(), "l1");
  EXPECT_EQ(l1.at("alias").as_uint64(), 1u);
  EXPECT_EQ(l1.at("datatype").as_string(), "Double");
  EXPECT_EQ(l1.at("unit").as_string(), "W");
  EXPECT_EQ(l1.at("quality").as_string(), "good");
  EXPECT_EQ(l1.at("description").as_string(), "phase 1 power");
  // The unit and quality have keys of their own; the rest by their types.
  const auto& props = l1.at("properties").as_object();
  EXPECT_EQ(props.size(), 3u);
  EXPECT_EQ(props.at("highCritical").as_double(), 7000);
  EXPECT_EQ(props.at("alarmWhen").as_bool(), true);
  EXPECT_EQ(props.at("offset").as_int64(), -3);
  const auto& leak = db.at("metrics").at(1).as_object();
  EXPECT_TRUE(leak.at("value").is_null());
  EXPECT_EQ(leak.at("quality").as_string(), "bad");
  EXPECT_FALSE(leak.contains("properties"));

  const auto data = dec.decode(pdu_topic("DDATA"), ddata(2, {2, 1}, true));
  EXPECT_EQ(data.at("device").as_string(), "pdu");
  const auto& m = data.at("metrics").at(1).as_object();
  EXPECT_EQ(m.at("name").as_string(), "l1");
  EXPECT_EQ(m.at("alias").as_uint64(), 1u);
  EXPECT_EQ(m.at("datatype").as_string(), "Double");  // from the birth
  EXPECT_EQ(m.at("value").as_double(), 1000);
  EXPECT_EQ(m.at("unit").as_string(), "W");
  EXPECT_EQ(m.at("historical").as_bool(), true);
  EXPECT_EQ(m.at("timestamp_ms").as_int64(), static_cast<std::int64_t>(kTime - 60'000));
  EXPECT_TRUE(data.at("problems").as_array().empty());
}

// What the agent's own encoder sends decodes named, with its units.
TEST(SparkplugDecoderTest, TheAgentsEncoderDecodesNamed) {
  v1::Catalog catalog;
  catalog.set_catalog_id("c1");
  for (const auto& [id, unit] : {std::pair{"pdu.l1", v1::UNIT_WATT}, std::pair{"pdu.leak", v1::UNIT_BOOLEAN}}) {
    auto* p = catalog.add_points();
    p->set_id(id);
    p->set_device("pdu");
    p->set_unit(unit);
    p->set_unit_symbol(unit == v1::UNIT_WATT ? "W" : "");
  }
  const auto layout = sparkplug_layout(catalog);
  const std::vector<SparkplugValue> last(2);
  v1::Telemetry t;
  t.set_catalog_id("c1");
  t.set_time_ms(static_cast<std::int64_t>(kTime));
  auto* s = t.add_samples();
  s->set_point(0);
  s->set_value(1234);
  s->set_quality(v1::QUALITY_GOOD);
  s = t.add_samples();
  s->set_point(1);
  s->set_quality(v1::QUALITY_BAD);

  SparkplugDecoder dec;
  EXPECT_TRUE(problems_of(dec.decode(node_topic("NBIRTH"), sparkplug_node_birth(layout, last, 1, 0, kTime))).empty());
  EXPECT_TRUE(problems_of(dec.decode(pdu_topic("DBIRTH"), sparkplug_device_birth(layout, 0, last, 1, kTime))).empty());
  const auto data = sparkplug_data(layout, t, false, 2, kTime);
  ASSERT_EQ(data.size(), 1u);
  const auto o = dec.decode(pdu_topic("DDATA"), data[0].payload);
  EXPECT_TRUE(problems_of(o).empty()) << json::serialize(o);
  const auto& l1 = o.at("metrics").at(0).as_object();
  EXPECT_EQ(l1.at("name").as_string(), "l1");
  EXPECT_EQ(l1.at("unit").as_string(), "W");
  EXPECT_EQ(l1.at("value").as_double(), 1234);
  const auto& leak = o.at("metrics").at(1).as_object();
  EXPECT_EQ(leak.at("name").as_string(), "leak");
  EXPECT_TRUE(leak.at("value").is_null());
  EXPECT_EQ(leak.at("quality").as_string(), "bad");
  EXPECT_THAT(dec.to_text(o), HasSubstr("l1    1.234  kW"));
}

TEST(SparkplugDecoderTest, CommandsAndHostState) {
  SparkplugDecoder dec;
  Payload cmd;
  cmd.set_timestamp(kTime);
  auto* rebirth = cmd.add_metrics();
  rebirth->set_name("Node Control/Rebirth");
  rebirth->set_datatype(sparkplug_b::Boolean);
  rebirth->set_boolean_value(true);
  const auto ncmd = dec.decode(node_topic("NCMD"), cmd.SerializeAsString());
  EXPECT_TRUE(ncmd.at("seq").is_null());
  EXPECT_TRUE(problems_of(ncmd).empty());  // commands are not the node's to number
  EXPECT_EQ(ncmd.at("metrics").at(0).at("name").as_string(), "Node Control/Rebirth");
  EXPECT_EQ(ncmd.at("metrics").at(0).at("value").as_bool(), true);
  EXPECT_THAT(dec.to_text(ncmd), HasSubstr("Node Control/Rebirth  true"));

  const auto online = dec.decode("spBv1.0/STATE/scada-1", R"({"online":true,"timestamp":1800000000000})");
  ASSERT_FALSE(online.contains("error")) << json::serialize(online);
  EXPECT_EQ(online.at("type").as_string(), "STATE");
  EXPECT_EQ(online.at("host_id").as_string(), "scada-1");
  EXPECT_EQ(online.at("online").as_bool(), true);
  EXPECT_EQ(online.at("timestamp_ms").as_int64(), 1'800'000'000'000);
  EXPECT_THAT(dec.to_text(online), HasSubstr("  STATE scada-1  online\n"));
  const auto offline = dec.decode("spBv1.0/STATE/scada-1", R"({"online":false,"timestamp":1})");
  EXPECT_THAT(dec.to_text(offline), HasSubstr("STATE scada-1  offline"));
}

// Sparkplug's strings are proto2's: nothing checked them as UTF-8 on the
// way in, and the JSON printed must still parse.
TEST(SparkplugDecoderTest, StringsThatAreNotUtf8AreEscaped) {
  Payload p;
  p.set_seq(0);
  auto& m = add_metric(p, std::string("fan\xff", 4), 1, 1);
  add_property(m, "location", sparkplug_b::String, [](auto& v) { v.set_string_value(std::string("rear\xc3", 5)); });
  SparkplugDecoder dec;
  const auto o = dec.decode(node_topic("NBIRTH"), p.SerializeAsString());
  const auto& jm = o.at("metrics").at(0).as_object();
  EXPECT_EQ(jm.at("name").as_string(), "fan\\xFF");
  EXPECT_EQ(jm.at("properties").at("location").as_string(), "rear\\xC3");
  boost::system::error_code ec;
  json::parse(json::serialize(o), ec);
  EXPECT_FALSE(ec) << ec.message();
}

TEST(SparkplugDecoderTest, WhatDoesNotDecodeSaysWhy) {
  const struct {
    std::string topic;
    std::string payload;
    std::string error;
  } cases[] = {
      {pdu_topic("DDATA"), std::string("\xff\xff\xff\xff", 4), "payload is not a valid Sparkplug B Payload (4 bytes)"},
      {"spBv1.0/STATE/scada-1", "online", "payload is not a STATE {\"online\": bool, \"timestamp\": ms} (6 bytes)"},
      {"spBv1.0/STATE/scada-1", R"({"online":"yes","timestamp":1})", "payload is not a STATE"},
      {"spBv1.0/hall-a/XDATA/r07", "", "unknown Sparkplug message type 'XDATA'"},
      {"spBv1.0/hall-a/DDATA/r07", "", "DDATA needs a device"},
      {"spBv1.0/hall-a/NDATA/r07/pdu", "", "NDATA is a node's"},
      {"spBv1.0/hall-a", "", "not a Sparkplug B topic"},
      {"spBv1.0/hall-a//r07", "", "not a Sparkplug B topic"},
  };
  SparkplugDecoder dec;
  for (const auto& c : cases) {
    const auto o = dec.decode(c.topic, c.payload);
    ASSERT_TRUE(o.contains("error")) << c.topic << ": " << json::serialize(o);
    EXPECT_THAT(std::string(o.at("error").as_string()), HasSubstr(c.error)) << c.topic;
    EXPECT_EQ(o.at("topic").as_string(), c.topic);
    EXPECT_THAT(dec.to_text(o), HasSubstr("?  " + c.topic + ": " + c.error));
  }
  EXPECT_TRUE(is_sparkplug_topic("spBv1.0/STATE/x"));
  EXPECT_FALSE(is_sparkplug_topic("spBv1.0"));
  EXPECT_FALSE(is_sparkplug_topic("rackwatch/v1/s/r/telemetry"));
}

}  // namespace
}  // namespace rackwatch::cli
