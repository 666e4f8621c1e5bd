// Writes seed inputs for wire_decoder_fuzz: real payloads from the agent's
// own encoder, framed as that target reads them (see wire_decoder_fuzz.cpp).
//
//   wire_decoder_seeds DIR     writes the seeds into DIR (which must exist)
//
// Run it again when the wire contract changes, then merge the new seeds into
// the corpus (tests/fuzz/README.md says how).
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "publish/native_encoder.hpp"
#include "rackwatch/v1/telemetry.pb.h"
#include "sources/builtin/builtin_types.hpp"

namespace {

using namespace rackwatch;

// Control bytes of wire_decoder_fuzz.
constexpr std::uint8_t kStatus = 0, kCatalog = 1, kTelemetry = 2, kAlarm = 3, kBogusKind = 4,
                       kShortTopic = 5, kOtherPrefix = 6, kTopicInPayload = 7;
constexpr std::uint8_t kReceive = 0x10, kTwice = 0x20, kOtherRack = 0x40, kCatalogFirst = 0x80;

constexpr const char* kConfig = R"(agent: {site: s1, rack: r1, id: a1}
mqtt: {brokers: [tcp://127.0.0.1:1]}
sources:
  - name: cdu
    type: sim
    interval: 1s
    points:
      - {name: flow, signal: cdu.flow, location: CDU 1}
      - {name: supply, signal: cdu.supply_temp}
      - {name: leak, signal: leak}
  - name: board
    type: hwmon
    interval: 5s
    points:
      - {name: cpu, chip: coretemp, label: Package id 0, quantity: temperature, max: 105}
      - {name: shelf_power, chip: ina3221, sensor: power1, location: "rear door, °C side"}
)";

bool write(const std::string& dir, const std::string& name, std::uint8_t control,
           const std::string& body) {
  std::ofstream out(dir + "/" + name, std::ios::binary);
  out.put(static_cast<char>(control));
  out << body;
  return static_cast<bool>(out);
}

std::string with_catalog(const std::string& catalog, const std::string& payload) {
  std::string out;
  out.push_back(static_cast<char>((catalog.size() >> 8) & 0xff));
  out.push_back(static_cast<char>(catalog.size() & 0xff));
  return out + catalog + payload;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  Diagnostics diags;
  auto cfg = parse_config(kConfig, "seeds.yaml", builtin_source_types(), diags);
  if (!cfg) {
    diags.print(std::cerr);
    return 1;
  }
  const TimePoint start(std::chrono::milliseconds(1'760'000'000'000));
  const TimePoint tick = start + std::chrono::minutes(5);
  NativeEncoder enc(*cfg, {"a1", "s1", "r1", "0f3c9a7e", "0.1.0", "rack-ctl-1", start});

  const auto online = enc.status(true, {120, 0, 57, {}, {}}, tick).payload;
  const auto offline = enc.status(false, {4000, 12, 3999, {}, {}}, tick).payload;
  const auto catalog = enc.catalog(tick).payload;
  const auto sim = enc.telemetry(
      "cdu", 58, tick,
      {{0, 412.5, Quality::good, {}, tick},
       {1, 0.0, Quality::bad, "timeout", tick + std::chrono::milliseconds(250)},
       {2, 1.0, Quality::uncertain, "derived from a bad input", tick - std::chrono::seconds(1)}}).payload;
  const auto hwmon = enc.telemetry(
      "board", 59, tick,
      {{3, 0.0, Quality::bad, "not an integer: 'garbage' in /sys/class/hwmon/hwmon2/temp1_input",
        tick},
       {4, 1234.5, Quality::good, {}, tick},
       {99, 7.0, Quality::good, {}, tick}}).payload;  // an index beyond the catalog

  v1::AlarmEvent alarm;
  alarm.set_agent_id("a1");
  alarm.set_boot_id("0f3c9a7e");
  alarm.set_sequence(3);
  alarm.set_point(1);
  alarm.set_point_id("cdu.supply");
  alarm.set_severity(v1::AlarmEvent::SEVERITY_CRITICAL);
  alarm.set_raised(true);
  alarm.set_value(48.5);
  alarm.set_limit(45.0);
  alarm.set_time_ms(to_unix_ms(tick));
  alarm.set_catalog_id(enc.catalog_id());
  alarm.set_message("supply temperature above 45 °C");
  const auto alarm_raised = alarm.SerializeAsString();
  alarm.set_raised(false);
  alarm.set_severity(v1::AlarmEvent::SEVERITY_SENSOR_FAILED);
  const auto alarm_cleared = alarm.SerializeAsString();

  // The retained snapshot: one point never read yet.
  v1::Snapshot snapshot;
  snapshot.set_agent_id("a1");
  snapshot.set_boot_id("0f3c9a7e");
  snapshot.set_catalog_id(enc.catalog_id());
  snapshot.set_time_ms(to_unix_ms(tick));
  snapshot.set_telemetry_sequence(59);
  for (std::uint32_t i = 0; i < 5; ++i) {
    auto* s = snapshot.add_samples();
    s->set_point(i);
    s->set_value(i == 4 ? 0.0 : 20.0 + i);
    s->set_quality(i == 4 ? v1::QUALITY_UNKNOWN : v1::QUALITY_GOOD);
    s->set_time_offset_ms(-250 * static_cast<std::int64_t>(i));
    if (i == 4) s->set_reason("not read yet");
  }
  const auto snap = snapshot.SerializeAsString();

  const std::string garbage("\xff\xff\xff\xff\x0f", 5);
  bool ok = true;
  ok = write(dir, "status_online", kStatus, online) && ok;
  ok = write(dir, "status_offline_twice", kStatus | kTwice, offline) && ok;
  ok = write(dir, "status_cleared", kStatus, "") && ok;
  ok = write(dir, "status_garbage", kStatus, garbage) && ok;
  ok = write(dir, "catalog", kCatalog, catalog) && ok;
  ok = write(dir, "catalog_twice", kCatalog | kTwice, catalog) && ok;
  ok = write(dir, "catalog_cleared", kCatalog, "") && ok;
  ok = write(dir, "telemetry_unnamed", kTelemetry, sim) && ok;
  ok = write(dir, "telemetry_named", kTelemetry | kCatalogFirst, with_catalog(catalog, sim)) && ok;
  ok = write(dir, "telemetry_named_hwmon", kTelemetry | kCatalogFirst | kTwice,
             with_catalog(catalog, hwmon)) && ok;
  ok = write(dir, "telemetry_other_rack", kTelemetry | kCatalogFirst | kOtherRack,
             with_catalog(catalog, sim)) && ok;
  ok = write(dir, "telemetry_garbage", kTelemetry, garbage) && ok;
  ok = write(dir, "telemetry_empty", kTelemetry, "") && ok;
  ok = write(dir, "alarm_raised", kAlarm, alarm_raised) && ok;
  ok = write(dir, "alarm_cleared", kAlarm, alarm_cleared) && ok;
  ok = write(dir, "bogus_kind", kBogusKind, sim) && ok;
  ok = write(dir, "short_topic", kShortTopic, sim) && ok;
  ok = write(dir, "other_prefix", kOtherPrefix, online) && ok;
  ok = write(dir, "topic_in_payload", kTopicInPayload,
             std::string("rackwatch/v1/s1/r1/telemetry") + '\0' + hwmon) && ok;
  ok = write(dir, "topic_in_payload_named", kTopicInPayload | kCatalogFirst | kOtherRack,
             with_catalog(catalog, std::string("rackwatch/v1/s1/r2/telemetry") + '\0' + sim)) && ok;
  ok = write(dir, "snapshot_named", kTopicInPayload | kCatalogFirst,
             with_catalog(catalog, std::string("rackwatch/v1/s1/r1/snapshot") + '\0' + snap)) && ok;
  ok = write(dir, "telemetry_held_for_catalog", kTelemetry | kCatalogFirst | kReceive,
             with_catalog(catalog, sim)) && ok;
  ok = write(dir, "snapshot_held", kTopicInPayload | kCatalogFirst | kReceive,
             with_catalog(catalog, std::string("rackwatch/v1/s1/r1/snapshot") + '\0' + snap)) && ok;
  if (!ok) {
    std::fprintf(stderr, "cannot write the seeds into %s\n", dir.c_str());
    return 1;
  }
  std::printf("wrote 23 seeds into %s\n", dir.c_str());
  return 0;
}
