// The native wire contract, byte for byte: a recorded set of polls goes
// through the agent's data path (conditioning, derived points, thresholds,
// report by exception) and out as MQTT messages; every message's topic,
// QoS, retain flag and payload must equal the golden file. A change of the
// internals that is not meant to change the wire must leave it as it is.
//
// After an intended change of the contract, regenerate the file with
//   RACKWATCH_UPDATE_GOLDEN=1 build/bin/unit_tests --gtest_filter='NativeWireGolden*'
// and say in the commit why the bytes changed.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/catalog.hpp"
#include "core/config.hpp"
#include "pipeline/pipeline.hpp"
#include "publish/native_encoder.hpp"
#include "publish/wire_format.hpp"
#include "sources/builtin/builtin_types.hpp"

namespace rackwatch {
namespace {

const char* kGoldenFile = RACKWATCH_SOURCE_DIR "/tests/unit/golden/native_wire.golden";

// Thresholds with hysteresis and delay, a boolean alarm state, deadbands
// absolute and in per cent, max ages, a range, a sentinel, a scale, and
// derived points over two sources.
Config golden_config() {
  const std::string text = R"(agent: {site: hall-g, rack: r07, id: ctl-07}
mqtt: {brokers: [tcp://127.0.0.1:1883], prefix: dc9/rackwatch}
sources:
  - name: pdu
    type: sim
    interval: 1s
    points:
      - {name: l1, signal: pdu.l1.power, min: 0, max: 60000, location: pdu/l1, deadband: 250}
      - {name: l2, signal: pdu.l2.power, min: 0, max: 60000, location: pdu/l2, deadband: 2%}
      - {name: volts, signal: pdu.l1.voltage, min: 207, max: 253, max_age: 3s}
      - {name: energy, signal: pdu.energy, scale: 1000}
  - name: cdu
    type: sim
    interval: 2s
    points:
      - name: supply
        signal: cdu.supply_temp
        min: 15
        max: 45
        deadband: 0.2
        thresholds: {high_caution: 32, high_critical: 35, hysteresis: 0.5, delay: 2s}
      - {name: return, signal: cdu.return_temp, min: 15, max: 60}
      - name: leak
        signal: leak
        max_age: 10s
        thresholds: {alarm_when: 1, severity: critical}
derived:
  - name: power
    unit: W
    expr: sum(pdu.l1, pdu.l2)
    deadband: 1%
    thresholds: {high_caution: 90000, hysteresis: 2000}
  - name: delta_t
    unit: °C
    expr: cdu.return - cdu.supply
)";
  Diagnostics d;
  auto cfg = parse_config(text, "golden.yaml", builtin_source_types(), d);
  if (!cfg) {
    std::ostringstream out;
    d.print(out);
    ADD_FAILURE() << out.str();
    return {};
  }
  return *cfg;
}

AgentIdentity golden_identity() {
  return {"ctl-07", "hall-g", "r07", "0123456789abcdef0123456789abcdef", "9.8.7", "rack07-ctl",
          TimePoint(std::chrono::milliseconds(1'765'000'000'000))};
}

TimePoint at(int seconds) { return TimePoint(std::chrono::milliseconds(1'765'000'100'000 + seconds * 1000)); }

// One source's poll, as a source would return it.
struct RecordedPoll {
  std::size_t source;
  int second;
  std::vector<RawReading> readings;
};

RawReading ok(double v, int s) { return RawReading::success(v, at(s)); }
RawReading fail(const std::string& why, int s) { return RawReading::failure(why, at(s)); }

std::vector<RecordedPoll> recorded_polls() {
  const double nan = std::nan("");
  std::vector<RecordedPoll> polls;
  for (int s = 0; s < 12; ++s) {
    const double l1 = 40'000 + (s >= 4 ? 8'000 : 0) + (s % 2) * 100;  // a step, then noise inside the deadband
    const double l2 = s == 6 ? 70'000 : 41'000 + s * 300;             // one sample out of range
    const double volts = s == 5 ? nan : 230.0 + (s % 3) * 0.1;        // NaN once
    polls.push_back({0, s,
                     {ok(l1, s), ok(l2, s), ok(volts, s),
                      s == 8 ? fail("modbus: exception 0x0B gateway target device failed to respond", s)
                             : ok(1'000.0 + s * 0.5, s)}});
    if (s % 2 == 0) {
      // The supply rises past caution and critical, holds through the delay, then falls back.
      const double supply = s < 2 ? 30.0 : s < 8 ? 33.0 + s * 0.5 : 31.0;
      polls.push_back({1, s,
                       {ok(supply, s), s == 10 ? fail("no answer within 500ms", s) : ok(supply + 8.0, s),
                        ok(s >= 6 && s < 10 ? 1.0 : 0.0, s)}});
    }
  }
  return polls;
}

// The data path of rackwatchd: the pipeline decides, the encoder writes the
// records the outbox keeps, and the wire format makes them messages.
class DataPath {
 public:
  explicit DataPath(const Config& config)
      : config_(config), catalog_(config), pipeline_(config, catalog_), encoder_(config, catalog_, golden_identity()) {}

  std::vector<Message> birth(TimePoint now) {
    StatusCounters c;
    c.telemetry_sequence = sequence_;
    return wire_.birth({encoder_.status(true, c, now), encoder_.catalog(now)});
  }

  std::vector<Message> poll(const RecordedPoll& p) {
    std::vector<Message> out;
    const auto tick = at(p.second);
    const auto result = pipeline_.process(p.source, tick, p.readings);
    if (!result.samples.empty()) {
      out.push_back(sent(encoder_.telemetry(config_.sources[p.source].name, ++sequence_, tick, result.samples)));
    }
    for (const auto& [point, e] : result.alarms) {
      const auto& id = catalog_[point].id;
      auto event = encoder_.alarm_event(e, point, id, ++alarm_sequence_);
      out.push_back(sent(encoder_.alarm(event)));
      const auto key = id + "/" + std::string(alarm_kind_name(e.kind));
      if (e.raised) {
        active_[key] = event;
      } else {
        active_.erase(key);
      }
    }
    if (!result.alarms.empty()) out.push_back(active_alarms(tick));
    return out;
  }

  Message active_alarms(TimePoint now) {
    std::vector<v1::AlarmEvent> active;
    for (const auto& [key, e] : active_) active.push_back(e);
    return sent(encoder_.active_alarms(active, now));
  }

  std::vector<Message> death(TimePoint now) {
    StatusCounters c;
    c.telemetry_sequence = sequence_;
    c.messages_published = 17;
    c.messages_dropped = 2;
    c.outbox.pending = 3;
    c.outbox.in_flight = 1;
    c.outbox.acknowledged = 17;
    c.outbox.dropped = 2;
    c.outbox.bytes_on_disk = 4096;
    c.outbox.oldest_ms = 1'765'000'000'123;
    return {*wire_.death(encoder_.status(false, c, now))};
  }

 private:
  // A stored record as the wire format sends it.
  Message sent(const Record& record) { return *wire_.encode(record, false); }

  const Config& config_;
  Catalog catalog_;
  Pipeline pipeline_;
  NativeEncoder encoder_;
  NativeWire wire_;
  std::map<std::string, v1::AlarmEvent> active_;
  std::uint64_t sequence_ = 0;
  std::uint64_t alarm_sequence_ = 0;
};

std::string hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

// One line a message: topic, QoS, retain, payload in hex.
std::string line_of(const Message& m) {
  return m.topic + " " + std::to_string(m.qos) + " " + (m.retain ? "retain" : "-") + " " + hex(m.payload);
}

std::vector<std::string> wire_lines() {
  const auto config = golden_config();
  DataPath path(config);
  std::vector<Message> messages = path.birth(at(0));
  for (const auto& poll : recorded_polls()) {
    auto out = path.poll(poll);
    messages.insert(messages.end(), out.begin(), out.end());
  }
  messages.push_back(path.active_alarms(at(12)));
  auto death = path.death(at(13));
  messages.insert(messages.end(), death.begin(), death.end());
  std::vector<std::string> lines;
  for (const auto& m : messages) lines.push_back(line_of(m));
  return lines;
}

TEST(NativeWireGolden, RecordedPollsAlarmsAndStatusesGiveTheSameBytes) {
  const auto lines = wire_lines();
  // The scenario must exercise what it claims to, or the golden proves little.
  auto count = [&](const std::string& kind) {
    return std::count_if(lines.begin(), lines.end(),
                         [&](const std::string& l) { return l.find("/r07/" + kind + " ") != std::string::npos; });
  };
  EXPECT_GE(count("telemetry"), 15);
  EXPECT_GE(count("alarm"), 6);
  EXPECT_GE(count("alarms"), 4);
  EXPECT_EQ(count("status"), 2);
  EXPECT_EQ(count("catalog"), 1);

  if (std::getenv("RACKWATCH_UPDATE_GOLDEN")) {
    std::ofstream out(kGoldenFile);
    for (const auto& l : lines) out << l << '\n';
    ASSERT_TRUE(out.good()) << "cannot write " << kGoldenFile;
    GTEST_SKIP() << "wrote " << lines.size() << " messages to " << kGoldenFile;
  }
  std::ifstream in(kGoldenFile);
  ASSERT_TRUE(in) << "cannot read " << kGoldenFile;
  std::vector<std::string> golden;
  for (std::string l; std::getline(in, l);) golden.push_back(l);
  const auto n = std::min(golden.size(), lines.size());
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_EQ(lines[i], golden[i]) << "message " << i + 1 << " differs from " << kGoldenFile;
  }
  EXPECT_EQ(lines.size(), golden.size()) << "message count differs from " << kGoldenFile;
}

}  // namespace
}  // namespace rackwatch
