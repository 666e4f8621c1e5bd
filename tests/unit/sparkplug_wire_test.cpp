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
    return std::make_unique<SparkplugWire>(SparkplugConfig{"hall-b", "r42", ""}, (dir_ / kBdSeqFileName).string(),
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

TEST_F(SparkplugWireTest, BdSeqGoesOnAcrossRestartsAndWrapsAt256) {
  EXPECT_EQ(wire()->bd_seq(), 0u);
  {
    auto w = wire();
    w->will(offline());
    w->will(offline());
    EXPECT_EQ(w->bd_seq(), 1u);
  }
  auto w = wire();
  w->will(offline());
  EXPECT_EQ(w->bd_seq(), 2u);
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

TEST_F(SparkplugWireTest, StateRecordsSendNothingAndTelemetryOfAnotherCatalogIsSkipped) {
  auto w = wire();
  w->birth({catalog_record(catalog())});
  EXPECT_TRUE(w->encode_all({RecordKind::status, "p/s/r/status", ""}, false).empty());
  EXPECT_TRUE(w->encode_all({RecordKind::alarm, "p/s/r/alarm", ""}, false).empty());
  EXPECT_TRUE(w->encode_all(telemetry({{0, 1, v1::QUALITY_GOOD}}, kNow, "other"), true).empty());
  EXPECT_EQ(w->skipped(), 1u);
}

TEST_F(SparkplugWireTest, RebirthIsAskedByAnNcmdOrByACatalogWithOtherPoints) {
  auto w = wire();
  int asked = 0;
  w->on_rebirth([&] { ++asked; });
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
  w->encode_all(catalog_record(catalog()), false);  // the same points
  EXPECT_EQ(asked, 1);
  w->encode_all(catalog_record(catalog("beef")), false);
  EXPECT_EQ(asked, 2);
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
  };
  for (const auto& c : cases) {
    EXPECT_FALSE(parse(c.mqtt)) << c.mqtt;
    EXPECT_THAT(lines(), Contains(HasSubstr(c.line))) << c.mqtt;
  }
}

}  // namespace
}  // namespace rackwatch
