// Sparkplug B from our records: births, data by alias, seq and bdSeq, the
// death, rebirth requests and the config that chooses it. Pure: records and
// the time in, payloads out.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "publish/sparkplug_encoder.hpp"
#include "publish/sparkplug_wire.hpp"
#include "rackwatch/v1/telemetry.pb.h"
#include "sources/builtin/builtin_types.hpp"
#include "sparkplug_b/sparkplug_b.pb.h"

namespace rackwatch {
namespace {

namespace fs = std::filesystem;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Payload = sparkplug_b::Payload;

constexpr std::int64_t kNow = 1'700'000'000'000;

// pdu.l1 (W), pdu.l2 (W), cdu.leak (boolean), derived.total (W).
v1::Catalog catalog(const std::string& id = "c0ffee") {
  v1::Catalog c;
  c.set_catalog_id(id);
  auto add = [&](const char* point, const char* device, v1::Unit unit, const char* symbol) {
    auto* p = c.add_points();
    p->set_id(point);
    p->set_device(device);
    p->set_unit(unit);
    p->set_unit_symbol(symbol);
  };
  add("pdu.l1", "pdu", v1::UNIT_WATT, "W");
  add("pdu.l2", "pdu", v1::UNIT_WATT, "W");
  add("cdu.leak", "cdu", v1::UNIT_BOOLEAN, "");
  add("derived.total", "derived", v1::UNIT_WATT, "W");
  return c;
}

Record catalog_record(const v1::Catalog& c) { return {RecordKind::catalog, "p/s/r/catalog", c.SerializeAsString()}; }

struct S {
  std::uint32_t point;
  double value;
  v1::Quality quality;
};
Record telemetry(const std::vector<S>& samples, std::int64_t time_ms = kNow - 5000, const std::string& cat = "c0ffee") {
  v1::Telemetry t;
  t.set_catalog_id(cat);
  t.set_source("pdu");
  t.set_time_ms(time_ms);
  for (std::size_t i = 0; i < samples.size(); ++i) {
    auto* s = t.add_samples();
    s->set_point(samples[i].point);
    s->set_value(samples[i].value);
    s->set_quality(samples[i].quality);
    s->set_time_offset_ms(static_cast<std::int64_t>(i));
  }
  return {RecordKind::telemetry, "p/s/r/telemetry", t.SerializeAsString()};
}

Payload decode(const Message& m) {
  Payload p;
  EXPECT_TRUE(p.ParseFromString(m.payload)) << m.topic;
  return p;
}

std::string property(const Payload::Metric& m, const std::string& key) {
  for (int i = 0; i < m.properties().keys_size(); ++i) {
    if (m.properties().keys(i) != key) continue;
    const auto& v = m.properties().values(i);
    return v.has_string_value() ? v.string_value() : std::to_string(v.int_value());
  }
  return "(none)";
}

class SparkplugWireTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("rw-spb-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<SparkplugWire> wire() {
    return std::make_unique<SparkplugWire>(SparkplugConfig{"hall-b", "r42", "", 1}, (dir_ / kBdSeqFileName).string(),
                                           [] { return kNow; });
  }
  static Record offline() { return {RecordKind::status, "p/s/r/status", ""}; }

  fs::path dir_;
};

TEST(SparkplugLayoutTest, SourcesAreDevicesDerivedPointsAreOnTheNodeAliasesAreIndexPlusOne) {
  const auto l = sparkplug_layout(catalog());
  ASSERT_EQ(l.devices.size(), 2u);
  EXPECT_EQ(l.devices[0].name, "pdu");
  EXPECT_EQ(l.devices[1].name, "cdu");
  ASSERT_EQ(l.devices[0].metrics.size(), 2u);
  EXPECT_EQ(l.devices[0].metrics[1].name, "l2");
  EXPECT_EQ(l.devices[0].metrics[1].alias, 2u);
  EXPECT_EQ(l.devices[0].metrics[1].unit, "W");
  EXPECT_EQ(l.devices[1].metrics[0].type, SparkplugType::boolean);
  ASSERT_EQ(l.node.size(), 1u);
  EXPECT_EQ(l.node[0].name, "Derived/total");
  EXPECT_EQ(l.node[0].alias, 4u);
  EXPECT_THAT(l.device_of, ElementsAre(0, 0, 1, -1));
}

TEST_F(SparkplugWireTest, TheWillIsAnNdeathWithTheNextBdSeqAndTheBirthCarriesTheSame) {
  auto w = wire();
  const auto will = w->will(offline());
  w->connected();
  EXPECT_EQ(will.topic, "spBv1.0/hall-b/NDEATH/r42");
  EXPECT_EQ(will.qos, 1);
  EXPECT_FALSE(will.retain);
  const auto death = decode(will);
  EXPECT_FALSE(death.has_seq());
  ASSERT_EQ(death.metrics_size(), 1);
  EXPECT_EQ(death.metrics(0).name(), "bdSeq");
  EXPECT_EQ(death.metrics(0).long_value(), 0u);

  const auto birth = w->birth({catalog_record(catalog())});
  ASSERT_EQ(birth.size(), 3u);
  EXPECT_EQ(birth[0].topic, "spBv1.0/hall-b/NBIRTH/r42");
  EXPECT_EQ(birth[1].topic, "spBv1.0/hall-b/DBIRTH/r42/pdu");
  EXPECT_EQ(birth[2].topic, "spBv1.0/hall-b/DBIRTH/r42/cdu");
  const auto nb = decode(birth[0]);
  EXPECT_EQ(nb.seq(), 0u);
  EXPECT_EQ(nb.timestamp(), static_cast<std::uint64_t>(kNow));
  ASSERT_EQ(nb.metrics_size(), 3);
  EXPECT_EQ(nb.metrics(0).name(), "bdSeq");
  EXPECT_EQ(nb.metrics(0).datatype(), 8u);
  EXPECT_EQ(nb.metrics(0).long_value(), 0u);
  EXPECT_EQ(nb.metrics(1).name(), "Node Control/Rebirth");
  EXPECT_EQ(nb.metrics(1).datatype(), 11u);
  EXPECT_FALSE(nb.metrics(1).boolean_value());
  // Never read yet: null, with its alias, type, unit and quality.
  const auto& total = nb.metrics(2);
  EXPECT_EQ(total.name(), "Derived/total");
  EXPECT_EQ(total.alias(), 4u);
  EXPECT_EQ(total.datatype(), 10u);
  EXPECT_TRUE(total.is_null());
  EXPECT_EQ(property(total, "engUnit"), "W");
  EXPECT_EQ(property(total, "Quality"), "0");
  EXPECT_EQ(decode(birth[1]).seq(), 1u);
  EXPECT_EQ(decode(birth[2]).seq(), 2u);
  EXPECT_EQ(decode(birth[2]).metrics(0).datatype(), 11u);

  // The intentional death says the same bdSeq; the next connect takes the next.
  EXPECT_EQ(decode(*w->death(offline())).metrics(0).long_value(), 0u);
  EXPECT_EQ(decode(w->will(offline())).metrics(0).long_value(), 1u);
}

// One more per connection the broker accepted: attempts while it is away
// reuse the same, so a host sees +1 after a broker outage as after a restart.
TEST_F(SparkplugWireTest, BdSeqCountsConnectionsAcrossRestartsAndWrapsAt256) {
  EXPECT_EQ(wire()->bd_seq(), 0u);
  {
    auto w = wire();
    w->will(offline());
    w->connected();
    w->will(offline());
    w->connected();
    EXPECT_EQ(w->bd_seq(), 1u);
    for (int failed = 0; failed < 5; ++failed) w->will(offline());
    EXPECT_EQ(w->bd_seq(), 2u);
  }
  auto w = wire();
  w->will(offline());
  EXPECT_EQ(w->bd_seq(), 2u);
  w->connected();
  std::ofstream(dir_ / kBdSeqFileName) << "255\n";
  auto again = wire();
  again->will(offline());
  EXPECT_EQ(again->bd_seq(), 0u);
}

// Data by alias only, split by device, with the sample's own time, quality
// and is_historical for a replayed record; seq counts on from the births.
TEST_F(SparkplugWireTest, DataByTable) {
  struct Case {
    const char* what;
    std::vector<S> samples;
    bool replayed;
    std::vector<std::string> topics;
    std::vector<std::vector<std::uint64_t>> aliases;  // per message
    bool historical;
    bool first_null;
  };
  const std::vector<Case> cases = {
      {"one device", {{0, 1200, v1::QUALITY_GOOD}, {1, 800, v1::QUALITY_GOOD}}, false,
       {"spBv1.0/hall-b/DDATA/r42/pdu"}, {{1, 2}}, false, false},
      {"a device and a derived point", {{0, 1200, v1::QUALITY_GOOD}, {3, 2000, v1::QUALITY_UNCERTAIN}}, false,
       {"spBv1.0/hall-b/DDATA/r42/pdu", "spBv1.0/hall-b/NDATA/r42"}, {{1}, {4}}, false, false},
      {"replayed: historical", {{2, 1, v1::QUALITY_GOOD}}, true, {"spBv1.0/hall-b/DDATA/r42/cdu"}, {{3}}, true,
       false},
      {"a bad reading is null", {{1, 0, v1::QUALITY_BAD}}, false, {"spBv1.0/hall-b/DDATA/r42/pdu"}, {{2}}, false,
       true},
  };
  auto w = wire();
  w->will(offline());
  w->birth({catalog_record(catalog())});
  std::uint64_t seq = 3;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    const auto out = w->encode_all(telemetry(c.samples), c.replayed);
    ASSERT_EQ(out.size(), c.topics.size());
    for (std::size_t i = 0; i < out.size(); ++i) {
      EXPECT_EQ(out[i].topic, c.topics[i]);
      const auto p = decode(out[i]);
      EXPECT_EQ(p.seq(), seq++);
      std::vector<std::uint64_t> aliases;
      for (const auto& m : p.metrics()) {
        aliases.push_back(m.alias());
        EXPECT_FALSE(m.has_name());
        EXPECT_EQ(m.is_historical(), c.historical);
      }
      EXPECT_EQ(aliases, c.aliases[i]);
    }
    const auto first = decode(out[0]).metrics(0);
    EXPECT_EQ(first.is_null(), c.first_null);
    EXPECT_EQ(first.timestamp(), static_cast<std::uint64_t>(kNow - 5000));  // the sample's, not now
    EXPECT_EQ(property(first, "Quality"), c.first_null ? "0" : "192");
  }
}

TEST_F(SparkplugWireTest, SeqWrapsAt256AndTheNextBirthStartsAtZero) {
  auto w = wire();
  w->will(offline());
  w->birth({catalog_record(catalog())});
  std::uint64_t last = 0;
  for (int i = 0; i < 300; ++i) last = decode(w->encode_all(telemetry({{0, 1, v1::QUALITY_GOOD}}), false)[0]).seq();
  EXPECT_EQ(last, (3u + 299u) % 256u);
  EXPECT_EQ(decode(w->birth({catalog_record(catalog())})[0]).seq(), 0u);
}

TEST_F(SparkplugWireTest, TheBirthCarriesTheLastValueSent) {
  auto w = wire();
  w->birth({catalog_record(catalog())});
  w->encode_all(telemetry({{1, 750, v1::QUALITY_GOOD}}, kNow - 100), false);
  w->encode_all(telemetry({{1, 700, v1::QUALITY_GOOD}}, kNow - 900), true);  // older: replayed
  const auto pdu = decode(w->birth({catalog_record(catalog())})[1]);
  ASSERT_EQ(pdu.metrics_size(), 2);
  EXPECT_TRUE(pdu.metrics(0).is_null());
  EXPECT_DOUBLE_EQ(pdu.metrics(1).double_value(), 750);
  EXPECT_EQ(pdu.metrics(1).timestamp(), static_cast<std::uint64_t>(kNow - 100));
}

TEST_F(SparkplugWireTest, StateRecordsSendNothingAndTelemetryOfAnUnknownCatalogIsSkipped) {
  auto w = wire();
  w->birth({catalog_record(catalog())});
  EXPECT_TRUE(w->encode_all({RecordKind::status, "p/s/r/status", ""}, false).empty());
  EXPECT_TRUE(w->encode_all({RecordKind::active_alarms, "p/s/r/alarms", ""}, false).empty());
  EXPECT_TRUE(w->encode_all(telemetry({{0, 1, v1::QUALITY_GOOD}}, kNow, "other"), true).empty());
  EXPECT_EQ(w->skipped(), 1u);
}

// Readings stored for an earlier catalog (a reload, a restart with other
// points) go by the current births' aliases, found by point id: the
// catalog record that led them in the outbox says what their points were.
TEST_F(SparkplugWireTest, TelemetryOfAnEarlierCatalogGoesByTheCurrentAliases) {
  auto w = wire();
  w->birth({catalog_record(catalog())});
  v1::Catalog earlier;
  earlier.set_catalog_id("earlier");
  for (const char* id : {"pdu.l2", "pdu.gone", "pdu.l1"}) earlier.add_points()->set_id(id);
  EXPECT_TRUE(w->encode_all(catalog_record(earlier), true).empty());
  const auto out = w->encode_all(
      telemetry({{0, 800, v1::QUALITY_GOOD}, {1, 5, v1::QUALITY_GOOD}, {2, 1200, v1::QUALITY_GOOD}}, kNow - 9000,
                "earlier"),
      true);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].topic, "spBv1.0/hall-b/DDATA/r42/pdu");
  const auto p = decode(out[0]);
  ASSERT_EQ(p.metrics_size(), 2);
  EXPECT_EQ(p.metrics(0).alias(), 2u);  // pdu.l2
  EXPECT_DOUBLE_EQ(p.metrics(0).double_value(), 800);
  EXPECT_EQ(p.metrics(1).alias(), 1u);  // pdu.l1
  EXPECT_DOUBLE_EQ(p.metrics(1).double_value(), 1200);
  EXPECT_TRUE(p.metrics(1).is_historical());
  EXPECT_EQ(w->unmapped(), 1u);  // pdu.gone: no metric carries it
  EXPECT_EQ(w->skipped(), 0u);
}

// A catalog with other points, sent fresh: the births come as its
// messages, ahead of its readings, with the new aliases and what was said
// of the points that stay.
TEST_F(SparkplugWireTest, AFreshCatalogWithOtherPointsIsBornBeforeItsReadings) {
  auto w = wire();
  w->birth({catalog_record(catalog())});
  w->encode_all(telemetry({{1, 750, v1::QUALITY_GOOD}}), false);
  EXPECT_TRUE(w->encode_all(catalog_record(catalog()), false).empty());  // the same points

  v1::Catalog next = catalog("next");
  next.mutable_points()->SwapElements(0, 1);  // pdu.l2 first now
  const auto births = w->encode_all(catalog_record(next), false);
  ASSERT_EQ(births.size(), 3u);
  EXPECT_EQ(births[0].topic, "spBv1.0/hall-b/NBIRTH/r42");
  EXPECT_EQ(decode(births[0]).seq(), 0u);
  const auto pdu = decode(births[1]);
  ASSERT_EQ(pdu.metrics_size(), 2);
  EXPECT_EQ(pdu.metrics(0).name(), "l2");
  EXPECT_EQ(pdu.metrics(0).alias(), 1u);
  EXPECT_DOUBLE_EQ(pdu.metrics(0).double_value(), 750);
  const auto data = w->encode_all(telemetry({{0, 760, v1::QUALITY_GOOD}}, kNow, "next"), false);
  ASSERT_EQ(data.size(), 1u);
  EXPECT_EQ(decode(data[0]).seq(), 3u);
  EXPECT_EQ(decode(data[0]).metrics(0).alias(), 1u);
}

TEST_F(SparkplugWireTest, RebirthIsAskedByAnNcmd) {
  auto w = wire();
  int asked = 0;
  w->on_event([&](WireFormat::Event e) { asked += e == WireFormat::Event::rebirth ? 1 : 100; });
  w->birth({catalog_record(catalog())});
  EXPECT_THAT(w->subscriptions(), ElementsAre("spBv1.0/hall-b/NCMD/r42", "spBv1.0/hall-b/DCMD/r42/+"));

  auto command = [](bool value) {
    Payload p;
    auto* m = p.add_metrics();
    m->set_name("Node Control/Rebirth");
    m->set_datatype(11);
    m->set_boolean_value(value);
    return p.SerializeAsString();
  };
  const struct {
    const char* topic;
    bool value;
    int asked;
  } cases[] = {
      {"spBv1.0/hall-b/NCMD/r42", false, 0},
      {"spBv1.0/hall-b/NCMD/other", true, 0},
      {"spBv1.0/hall-b/DCMD/r42/pdu", true, 0},
      {"spBv1.0/hall-b/NCMD/r42", true, 1},
  };
  for (const auto& c : cases) {
    w->inbound({c.topic, command(c.value), 1, false});
    EXPECT_EQ(asked, c.asked) << c.topic;
  }
  w->inbound({"spBv1.0/hall-b/NCMD/r42", "not protobuf \xff", 1, false});
  EXPECT_EQ(asked, 1);
}

// Limits, description, quantity and the active alarms ride on the births'
// metrics; an alarm event is its point's metric with the event's
// properties; a stored one is history and says no active set.
TEST_F(SparkplugWireTest, AlarmsAndLimitsAreMetricProperties) {
  auto c = catalog();
  auto* l1 = c.mutable_points(0);
  l1->set_description("feed A, phase L1");
  l1->set_quantity("power");
  l1->mutable_limits()->set_high_caution(9000);
  l1->mutable_limits()->set_high_critical(11000);
  l1->mutable_limits()->set_hysteresis(200);
  c.mutable_points(2)->mutable_limits()->set_alarm_when(1);
  v1::ActiveAlarms active;
  auto* a = active.add_alarms();
  a->set_point_id("pdu.l1");
  a->set_kind("high_critical");
  auto w = wire();
  const auto births = w->birth({catalog_record(c), {RecordKind::active_alarms, "p/s/r/alarms", active.SerializeAsString()}});
  ASSERT_EQ(births.size(), 3u);
  const auto pdu = decode(births[1]);
  const auto& m = pdu.metrics(0);
  EXPECT_EQ(m.metadata().description(), "feed A, phase L1");
  EXPECT_EQ(property(m, "quantity"), "power");
  EXPECT_EQ(property(m, "alarm"), "high_critical");
  EXPECT_EQ(property(m, "lowCritical"), "(none)");
  auto number = [](const Payload::Metric& x, const std::string& key) {
    for (int i = 0; i < x.properties().keys_size(); ++i) {
      if (x.properties().keys(i) == key) return x.properties().values(i).double_value();
    }
    return -1.0;
  };
  EXPECT_DOUBLE_EQ(number(m, "highCritical"), 11000);
  EXPECT_DOUBLE_EQ(number(m, "highCaution"), 9000);
  EXPECT_DOUBLE_EQ(number(m, "hysteresis"), 200);
  EXPECT_EQ(property(pdu.metrics(1), "alarm"), "(none)");  // no limits, nothing active
  const auto leak = decode(births[2]).metrics(0);
  EXPECT_EQ(property(leak, "alarm"), "");  // can raise one; none active

  auto event = [](const char* kind, bool raised, std::optional<double> value) {
    v1::AlarmEvent e;
    e.set_point_id("pdu.l1");
    e.set_kind(kind);
    e.set_raised(raised);
    if (value) e.set_value(*value);
    e.set_time_ms(kNow - 300);
    e.set_message(std::string("pdu.l1 ") + kind + (raised ? " raised" : " cleared"));
    return Record{RecordKind::alarm, "p/s/r/alarm", e.SerializeAsString()};
  };
  const struct {
    const char* what;
    Record record;
    bool replayed;
    const char* event;
    const char* active;  // "(none)": not said
    bool null;
  } cases[] = {
      {"raised", event("high_caution", true, 9500), false, "raised high_caution", "high_caution,high_critical", false},
      {"cleared", event("high_critical", false, 9400), false, "cleared high_critical", "high_caution", false},
      {"no value", event("sensor_failed", true, std::nullopt), false, "raised sensor_failed",
       "high_caution,sensor_failed", true},
      {"stored: history", event("high_caution", false, 8000), true, "cleared high_caution", "(none)", false},
  };
  std::uint64_t seq = 3;
  for (const auto& k : cases) {
    SCOPED_TRACE(k.what);
    const auto out = w->encode_all(k.record, k.replayed);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].topic, "spBv1.0/hall-b/DDATA/r42/pdu");
    const auto p = decode(out[0]);
    EXPECT_EQ(p.seq(), seq++);
    ASSERT_EQ(p.metrics_size(), 1);
    const auto& x = p.metrics(0);
    EXPECT_EQ(x.alias(), 1u);
    EXPECT_FALSE(x.has_name());
    EXPECT_EQ(x.timestamp(), static_cast<std::uint64_t>(kNow - 300));
    EXPECT_EQ(x.is_historical(), k.replayed);
    EXPECT_EQ(x.is_null(), k.null);
    EXPECT_EQ(property(x, "Quality"), k.null ? "0" : "192");
    EXPECT_EQ(property(x, "alarmEvent"), k.event);
    EXPECT_EQ(property(x, "alarm"), k.active);
  }
  // The next birth says the active set as the fresh events left it.
  EXPECT_EQ(property(decode(w->birth({catalog_record(c)})[1]).metrics(0), "alarm"), "high_caution,sensor_failed");
}

// A dormant device dies (DDEATH) and is born again (DBIRTH, with what was
// last said of it) when it answers; births made meanwhile bear it and then
// say its death. Before a birth on the connection nothing is said.
TEST_F(SparkplugWireTest, ADormantDeviceDiesAndIsBornAgain) {
  auto w = wire();
  w->will(offline());
  EXPECT_TRUE(w->device_state("cdu", false).empty());  // not born yet: kept for the births
  auto births = w->birth({catalog_record(catalog())});
  ASSERT_EQ(births.size(), 4u);
  EXPECT_EQ(births[3].topic, "spBv1.0/hall-b/DDEATH/r42/cdu");
  EXPECT_EQ(decode(births[3]).seq(), 3u);
  EXPECT_EQ(decode(births[3]).metrics_size(), 0);

  w->encode_all(telemetry({{2, 1, v1::QUALITY_GOOD}}), true);
  auto back = w->device_state("cdu", true);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].topic, "spBv1.0/hall-b/DBIRTH/r42/cdu");
  const auto dbirth = decode(back[0]);
  EXPECT_EQ(dbirth.seq(), 5u);
  ASSERT_EQ(dbirth.metrics_size(), 1);
  EXPECT_EQ(dbirth.metrics(0).name(), "leak");
  EXPECT_TRUE(dbirth.metrics(0).boolean_value());
  EXPECT_TRUE(w->device_state("cdu", true).empty());  // no change

  const auto dead = w->device_state("pdu", false);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].topic, "spBv1.0/hall-b/DDEATH/r42/pdu");
  EXPECT_EQ(decode(dead[0]).seq(), 6u);
  EXPECT_EQ(dead[0].qos, 1);
  EXPECT_TRUE(w->device_state("pdu", false).empty());
  EXPECT_TRUE(w->device_state("nosuch", false).empty());
  // Its fresh readings without a value are what the death said; stored ones
  // and values still go.
  EXPECT_TRUE(w->encode_all(telemetry({{0, 0, v1::QUALITY_BAD}, {1, 0, v1::QUALITY_UNKNOWN}}), false).empty());
  EXPECT_EQ(w->encode_all(telemetry({{0, 0, v1::QUALITY_BAD}}), true).size(), 1u);
  EXPECT_EQ(w->encode_all(telemetry({{0, 0, v1::QUALITY_BAD}, {3, 9, v1::QUALITY_GOOD}}), false).at(0).topic,
            "spBv1.0/hall-b/NDATA/r42");
  births = w->birth({catalog_record(catalog())});
  ASSERT_EQ(births.size(), 4u);
  EXPECT_EQ(births[3].topic, "spBv1.0/hall-b/DDEATH/r42/pdu");
}

// With a primary host: its STATE is subscribed to, the births wait for it
// to be online (at each connection), an older STATE is ignored, and
// offline after the births asks to leave and connect again.
TEST_F(SparkplugWireTest, BirthsWaitForThePrimaryHostAndItsOfflineEndsTheConnection) {
  SparkplugWire w(SparkplugConfig{"hall-b", "r42", "scada-1", 1}, (dir_ / kBdSeqFileName).string(), [] { return kNow; });
  std::vector<WireFormat::Event> events;
  w.on_event([&](WireFormat::Event e) { events.push_back(e); });
  EXPECT_THAT(w.subscriptions(), Contains("spBv1.0/STATE/scada-1"));
  const auto state = [](bool online, std::int64_t ts) {
    return Message{"spBv1.0/STATE/scada-1",
                   std::string("{\"online\": ") + (online ? "true" : "false") + ", \"timestamp\": " + std::to_string(ts) + "}",
                   1, true};
  };
  w.will(offline());
  w.connected();
  EXPECT_FALSE(w.may_birth());
  w.inbound({"spBv1.0/STATE/scada-1", "ONLINE", 1, true});  // not 3.0's JSON
  w.inbound({"spBv1.0/STATE/other", state(true, 10).payload, 1, true});
  EXPECT_FALSE(w.may_birth());
  EXPECT_TRUE(events.empty());
  w.inbound(state(true, 10));
  EXPECT_TRUE(w.may_birth());
  EXPECT_THAT(events, ElementsAre(WireFormat::Event::host_online));
  w.birth({catalog_record(catalog())});
  w.inbound(state(false, 5));  // older than the one heard
  EXPECT_TRUE(w.may_birth());
  w.inbound(state(false, 20));
  EXPECT_FALSE(w.may_birth());
  EXPECT_THAT(events, ElementsAre(WireFormat::Event::host_online, WireFormat::Event::host_offline));
  // The next connection waits again, for a STATE at least as new.
  w.will(offline());
  w.inbound(state(true, 15));
  EXPECT_FALSE(w.may_birth());
  w.inbound(state(true, 20));
  EXPECT_TRUE(w.may_birth());
  EXPECT_EQ(events.size(), 3u);
}

TEST_F(SparkplugWireTest, QosZeroForBirthsDataAndDeviceDeathsWhenConfiguredTheWillStaysAtOne) {
  SparkplugWire w(SparkplugConfig{"hall-b", "r42", "", 0}, (dir_ / kBdSeqFileName).string(), [] { return kNow; });
  EXPECT_EQ(w.will(offline()).qos, 1);
  for (const auto& m : w.birth({catalog_record(catalog())})) EXPECT_EQ(m.qos, 0) << m.topic;
  EXPECT_EQ(w.encode_all(telemetry({{0, 1, v1::QUALITY_GOOD}}), false).at(0).qos, 0);
  EXPECT_EQ(w.device_state("pdu", false).at(0).qos, 0);
  EXPECT_EQ(w.death(offline())->qos, 1);
}

// The config: native unless said, Sparkplug ids defaulting to site and rack,
// and each mistake at its FILE:LINE:COL.
class SparkplugConfigTest : public ::testing::Test {
 protected:
  std::optional<Config> parse(const std::string& mqtt) {
    const std::string text = "agent: {site: hall-a, rack: r07}\nmqtt:\n  brokers: [tcp://127.0.0.1:1883]\n" + mqtt +
                             R"(sources:
  - name: pdu
    type: sim
    interval: 1s
    points: [{name: total, signal: pdu.total.power}]
)";
    diags_ = Diagnostics{};
    return parse_config(text, "m.yaml", builtin_source_types(), diags_);
  }
  std::vector<std::string> lines() const {
    std::vector<std::string> out;
    for (const auto& i : diags_.items()) out.push_back(format_mark(i.mark) + ": " + i.message);
    return out;
  }
  Diagnostics diags_;
};

TEST_F(SparkplugConfigTest, NativeUnlessSaidAndIdsDefaultToSiteAndRack) {
  auto cfg = parse("");
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->mqtt.format, MqttFormat::native);
  EXPECT_FALSE(cfg->mqtt.clean_session);
  cfg = parse("  format: sparkplug\n");
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->mqtt.format, MqttFormat::sparkplug);
  EXPECT_EQ(cfg->mqtt.sparkplug.group_id, "hall-a");
  EXPECT_EQ(cfg->mqtt.sparkplug.edge_node_id, "r07");
  EXPECT_EQ(cfg->mqtt.sparkplug.primary_host_id, "");
  EXPECT_TRUE(cfg->mqtt.clean_session);
  EXPECT_EQ(cfg->mqtt.protocol, MqttProtocol::v3_1_1);
  cfg = parse("  format: sparkplug\n  sparkplug: {group_id: Plant 1, edge_node_id: rack-7, primary_host_id: scada}\n");
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->mqtt.sparkplug.group_id, "Plant 1");
  EXPECT_EQ(cfg->mqtt.sparkplug.edge_node_id, "rack-7");
  EXPECT_EQ(cfg->mqtt.sparkplug.primary_host_id, "scada");
  EXPECT_EQ(cfg->mqtt.sparkplug.qos, 1);
  cfg = parse("  format: sparkplug\n  sparkplug: {qos: 0}\n");
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->mqtt.sparkplug.qos, 0);
}

TEST_F(SparkplugConfigTest, MistakesAreNamedWhereTheyAre) {
  const struct {
    const char* mqtt;
    const char* line;
  } cases[] = {
      {"  format: spb\n", "m.yaml:4:11: 'format' must be \"native\" or \"sparkplug\", found 'spb'"},
      {"  format: sparkplug\n  sparkplug: {group_id: a/b}\n",
       "m.yaml:5:25: 'group_id' must be a non-empty Sparkplug id without '/', '+' or '#', found 'a/b'"},
      {"  format: sparkplug\n  sparkplug: {edge_node_id: \"r#1\"}\n",
       "m.yaml:5:29: 'edge_node_id' must be a non-empty Sparkplug id"},
      {"  format: sparkplug\n  sparkplug: {primary_host_id: \"\"}\n",
       "m.yaml:5:32: 'primary_host_id' must be a non-empty Sparkplug id"},
      {"  format: sparkplug\n  sparkplug: {group: x}\n", "m.yaml:5:15: "},
      {"  sparkplug: {group_id: x}\n", "m.yaml:4:14: 'sparkplug' is set but 'format' is not sparkplug"},
      {"  format: sparkplug\n  protocol: \"5\"\n", "m.yaml:5:13: format sparkplug runs on MQTT 3.1.1"},
      {"  format: sparkplug\n  clean_session: false\n", "m.yaml:5:18: format sparkplug needs a clean session"},
      {"  format: sparkplug\n  sparkplug: {qos: 2}\n", "m.yaml:5:20: 'qos' must be 0 (as Sparkplug 3.0 asks) or 1"},
  };
  for (const auto& c : cases) {
    EXPECT_FALSE(parse(c.mqtt)) << c.mqtt;
    EXPECT_THAT(lines(), Contains(HasSubstr(c.line))) << c.mqtt;
  }
}

}  // namespace
}  // namespace rackwatch
