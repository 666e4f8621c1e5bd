#include <gtest/gtest.h>

#include "core/config.hpp"
#include "core/schedule.hpp"
#include "publish/native_encoder.hpp"
#include "publish/wire_format.hpp"
#include "rackwatch/v1/telemetry.pb.h"
#include "sources/builtin/builtin_types.hpp"

namespace rackwatch {
namespace {

Config two_sources() {
  const std::string text = R"(agent: {site: hall-b, rack: r42, id: ctl-42}
mqtt: {brokers: [tcp://127.0.0.1:1883], prefix: dc1/rackwatch}
sources:
  - name: pdu
    type: sim
    interval: 1s
    points:
      - {name: l1, signal: pdu.l1.power, location: PDU A L1}
      - {name: l2, signal: pdu.l2.power}
  - name: cdu
    type: sim
    interval: 2s
    points:
      - {name: supply, signal: cdu.supply_temp}
)";
  Diagnostics d;
  auto cfg = parse_config(text, "enc.yaml", builtin_source_types(), d);
  EXPECT_TRUE(cfg);
  return *cfg;
}

AgentIdentity identity() {
  return {"ctl-42", "hall-b", "r42", "b00710", "1.2.3", "host", TimePoint(std::chrono::seconds(1000))};
}

TEST(NativeEncoderTest, TopicsFollowTheContract) {
  NativeEncoder enc(two_sources(), identity());
  EXPECT_EQ(enc.topics().status(), "dc1/rackwatch/hall-b/r42/status");
  EXPECT_EQ(enc.topics().telemetry(), "dc1/rackwatch/hall-b/r42/telemetry");
  // On the wire in the native format: QoS 1, state retained, history not.
  NativeWire wire;
  auto status = *wire.encode(enc.status(true, {}, TimePoint{}), false);
  EXPECT_TRUE(status.retain);
  EXPECT_EQ(status.qos, 1);
  auto cat = *wire.encode(enc.catalog(TimePoint{}), false);
  EXPECT_TRUE(cat.retain);
  EXPECT_EQ(cat.topic, "dc1/rackwatch/hall-b/r42/catalog");
  EXPECT_EQ(enc.catalog(TimePoint{}).kind, RecordKind::catalog);
}

// The active-alarm set is state: sent with each connection's birth, so a
// stored one replayed from the backlog would bring an older set back.
TEST(NativeWireTest, AReplayedActiveAlarmSetIsNotSentAgainButReplayedHistoryIs) {
  NativeEncoder enc(two_sources(), identity());
  NativeWire wire;
  const auto set = enc.active_alarms({}, TimePoint{});
  EXPECT_TRUE(wire.encode(set, false).has_value());
  EXPECT_FALSE(wire.encode(set, true).has_value());
  const auto t = enc.telemetry("pdu", 1, TimePoint{}, {});
  EXPECT_TRUE(wire.encode(t, true).has_value());
}

TEST(NativeEncoderTest, CatalogListsEveryPointInOrderWithAStableId) {
  NativeEncoder enc(two_sources(), identity());
  v1::Catalog c;
  ASSERT_TRUE(c.ParseFromString(enc.catalog(TimePoint(std::chrono::seconds(5))).payload));
  ASSERT_EQ(c.points_size(), 3);
  EXPECT_EQ(c.points(0).id(), "pdu.l1");
  EXPECT_EQ(c.points(0).location(), "PDU A L1");
  EXPECT_EQ(c.points(0).unit(), v1::UNIT_WATT);
  EXPECT_EQ(c.points(0).unit_symbol(), "W");
  EXPECT_EQ(c.points(2).id(), "cdu.supply");
  EXPECT_EQ(c.points(2).unit_symbol(), "°C");
  EXPECT_EQ(c.points(2).interval_ms(), 2000u);
  EXPECT_EQ(c.catalog_id(), enc.catalog_id());
  EXPECT_EQ(c.catalog_id().size(), 16u);
  EXPECT_EQ(Catalog(two_sources()).first_point(1), 2u);
  // Same points → same id, across agents and times; another agent id does not matter.
  auto other = identity();
  other.boot_id = "ffff";
  EXPECT_EQ(NativeEncoder(two_sources(), other).catalog_id(), enc.catalog_id());
  auto changed = two_sources();
  changed.sources[0].points[0].location = "PDU B L1";
  EXPECT_NE(NativeEncoder(changed, identity()).catalog_id(), enc.catalog_id());
}

// A device that says what it is (SunSpec's common model) joins the catalog's
// devices, in source order; the catalog id, which covers the points, stays.
TEST(NativeEncoderTest, CatalogCarriesTheDevicesThatSaidWhatTheyAre) {
  NativeEncoder enc(two_sources(), identity());
  const auto id = enc.catalog_id();
  v1::Catalog before;
  ASSERT_TRUE(before.ParseFromString(enc.catalog(TimePoint{}).payload));
  EXPECT_EQ(before.devices_size(), 0);

  const DeviceInfo meter{"Acme", "AM-3", "SN1", "1.0"};
  EXPECT_TRUE(enc.set_device("cdu", meter));
  EXPECT_FALSE(enc.set_device("cdu", meter)) << "nothing new";
  EXPECT_TRUE(enc.set_device("pdu", DeviceInfo{"Other", "P", "SN2", ""}));
  EXPECT_TRUE(enc.set_device("pdu", std::nullopt)) << "forgotten";
  EXPECT_TRUE(enc.set_device("pdu", DeviceInfo{"Other", "P", "SN3", ""}));
  v1::Catalog c;
  ASSERT_TRUE(c.ParseFromString(enc.catalog(TimePoint{}).payload));
  EXPECT_EQ(c.catalog_id(), id);
  EXPECT_EQ(enc.catalog_id(), id);
  ASSERT_EQ(c.devices_size(), 2);
  EXPECT_EQ(c.devices(0).name(), "pdu") << "in the order of the sources";
  EXPECT_EQ(c.devices(0).serial_number(), "SN3");
  EXPECT_EQ(c.devices(1).name(), "cdu");
  EXPECT_EQ(c.devices(1).manufacturer(), "Acme");
  EXPECT_EQ(c.devices(1).model(), "AM-3");
  EXPECT_EQ(c.devices(1).serial_number(), "SN1");
  EXPECT_EQ(c.devices(1).version(), "1.0");
  EXPECT_TRUE(enc.set_device("pdu", std::nullopt));
  EXPECT_FALSE(enc.set_device("pdu", std::nullopt)) << "already gone";
  ASSERT_TRUE(c.ParseFromString(enc.catalog(TimePoint{}).payload));
  EXPECT_EQ(c.devices_size(), 1);
}

TEST(NativeEncoderTest, CatalogCarriesReportByExceptionAndLimits) {
  auto cfg = two_sources();
  cfg.sources[0].points[0].deadband = 2;
  cfg.sources[0].points[0].deadband_percent = true;
  cfg.sources[1].points[0].max_age = Millis{30'000};
  ThresholdConfig t;
  t.high_critical = 40;
  t.hysteresis = 1.5;
  cfg.sources[1].points[0].thresholds = t;
  NativeEncoder enc(cfg, identity());
  v1::Catalog c;
  ASSERT_TRUE(c.ParseFromString(enc.catalog(TimePoint{}).payload));
  EXPECT_EQ(c.points(0).deadband(), 2);
  EXPECT_TRUE(c.points(0).deadband_percent());
  EXPECT_EQ(c.points(0).max_age_ms(), 60'000u);  // the default with a deadband
  EXPECT_EQ(c.points(1).max_age_ms(), 0u);       // every sample sent
  EXPECT_FALSE(c.points(1).has_limits());
  EXPECT_EQ(c.points(2).deadband(), 0);
  EXPECT_EQ(c.points(2).max_age_ms(), 30'000u);
  ASSERT_TRUE(c.points(2).has_limits());
  EXPECT_EQ(c.points(2).limits().high_critical(), 40);
  EXPECT_FALSE(c.points(2).limits().has_high_caution());
  EXPECT_EQ(c.points(2).limits().hysteresis(), 1.5);
  // What the agent does with a point is part of the contract: a new catalog id.
  EXPECT_NE(enc.catalog_id(), NativeEncoder(two_sources(), identity()).catalog_id());
}

TEST(NativeEncoderTest, TelemetryCarriesSequenceQualityAndTimes) {
  NativeEncoder enc(two_sources(), identity());
  const TimePoint tick(std::chrono::milliseconds(1'800'000'000'000));
  std::vector<Sample> samples{{0, 1234.5, Quality::good, {}, tick + std::chrono::milliseconds(3)},
                              {1, 0, Quality::bad, "timeout", tick + std::chrono::milliseconds(9)}};
  auto m = enc.telemetry("pdu", 17, tick, samples);
  EXPECT_EQ(m.kind, RecordKind::telemetry);
  EXPECT_FALSE(NativeWire().encode(m, false)->retain);
  v1::Telemetry t;
  ASSERT_TRUE(t.ParseFromString(m.payload));
  EXPECT_EQ(t.sequence(), 17u);
  EXPECT_EQ(t.boot_id(), "b00710");
  EXPECT_EQ(t.catalog_id(), enc.catalog_id());
  EXPECT_EQ(t.source(), "pdu");
  EXPECT_EQ(t.time_ms(), 1'800'000'000'000);
  ASSERT_EQ(t.samples_size(), 2);
  EXPECT_EQ(t.samples(0).value(), 1234.5);
  EXPECT_EQ(t.samples(0).time_offset_ms(), 3);
  EXPECT_EQ(t.samples(1).quality(), v1::QUALITY_BAD);
  EXPECT_EQ(t.samples(1).reason(), "timeout");
  // The reused buffer must not leak samples into the next message.
  auto m2 = enc.telemetry("cdu", 18, tick, {{2, 30, Quality::good, {}, tick}});
  ASSERT_TRUE(t.ParseFromString(m2.payload));
  EXPECT_EQ(t.samples_size(), 1);
}

TEST(NativeEncoderTest, StatusSaysOnlineOrOffline) {
  NativeEncoder enc(two_sources(), identity());
  v1::AgentStatus s;
  StatusCounters counters;
  counters.messages_published = 5;
  counters.messages_dropped = 2;
  counters.telemetry_sequence = 9;
  counters.outbox.pending = 40;
  counters.outbox.dropped = 2;
  counters.outbox.oldest_ms = 1'800'000'000'000;
  ASSERT_TRUE(s.ParseFromString(enc.status(false, counters, TimePoint{}).payload));
  EXPECT_EQ(s.state(), v1::AgentStatus::STATE_OFFLINE);
  EXPECT_EQ(s.outbox().pending(), 40u);
  EXPECT_EQ(s.outbox().dropped(), 2u);
  EXPECT_EQ(s.outbox().oldest_ms(), 1'800'000'000'000);
  EXPECT_EQ(s.messages_published(), 5u);
  EXPECT_EQ(s.messages_dropped(), 2u);
  EXPECT_EQ(s.telemetry_sequence(), 9u);
  EXPECT_EQ(s.version(), "1.2.3");
  ASSERT_TRUE(s.ParseFromString(enc.status(true, {}, TimePoint{}).payload));
  EXPECT_EQ(s.state(), v1::AgentStatus::STATE_ONLINE);
}

// Restarts ride in the status; without any, the bytes are those of a status
// that knows nothing of them (proto3 leaves an empty repeated field out).
TEST(NativeEncoderTest, StatusCarriesRestartsAndLeavesTheBytesAloneWithoutAny) {
  NativeEncoder enc(two_sources(), identity());
  StatusCounters counters;
  counters.messages_published = 5;
  counters.outbox.pending = 40;
  const auto without = enc.status(true, counters, TimePoint{}).payload;
  counters.restarts.push_back({"source pdu1", 3, "sensor bus exploded", 1'800'000'000'000});
  v1::AgentStatus s;
  ASSERT_TRUE(s.ParseFromString(enc.status(true, counters, TimePoint{}).payload));
  ASSERT_EQ(s.restarts_size(), 1);
  EXPECT_EQ(s.restarts(0).component(), "source pdu1");
  EXPECT_EQ(s.restarts(0).restarts(), 3u);
  EXPECT_EQ(s.restarts(0).last_error(), "sensor bus exploded");
  EXPECT_EQ(s.restarts(0).last_failure_ms(), 1'800'000'000'000);
  s.clear_restarts();
  EXPECT_EQ(s.SerializeAsString(), without);
}

TEST(ScheduleTest, TicksAreAlignedMultiplesOfTheInterval) {
  using namespace std::chrono;
  const TimePoint now(milliseconds(1'700'000'001'234));
  EXPECT_EQ(next_tick(now, milliseconds(1000)), TimePoint(milliseconds(1'700'000'002'000)));
  EXPECT_EQ(next_tick(now, milliseconds(5000)), TimePoint(milliseconds(1'700'000'005'000)));
  // Exactly on a tick: the next one, never the same (no double poll).
  const TimePoint on(milliseconds(1'700'000'002'000));
  EXPECT_EQ(next_tick(on, milliseconds(1000)), TimePoint(milliseconds(1'700'000'003'000)));
}

}  // namespace
}  // namespace rackwatch
