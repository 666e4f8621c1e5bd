#include "publish/native_encoder.hpp"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <cstdio>
#include <map>

#include "core/derived_config.hpp"
#include "core/hash.hpp"
#include "pipeline/report_filter.hpp"
#include "rackwatch/v1/telemetry.pb.h"

namespace rackwatch {

struct NativeEncoder::Buffers {
  v1::Catalog catalog;
  std::map<std::string, DeviceInfo> devices;  // by source name
  v1::Telemetry telemetry;  // reused: Clear() keeps its allocations
};

namespace {

std::string serialize_deterministic(const google::protobuf::MessageLite& m) {
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  m.SerializeToCodedStream(&coded);
  coded.Trim();
  return out;
}

}  // namespace

std::string fnv1a_hex(const std::string& bytes) {
  const std::uint64_t h = fnv1a(bytes);
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

namespace {

void set_limits(const PointConfig& p, v1::Point& out) {
  if (!p.thresholds || !p.thresholds->any()) return;
  const auto& t = *p.thresholds;
  auto& l = *out.mutable_limits();
  if (t.low_critical) l.set_low_critical(*t.low_critical);
  if (t.low_caution) l.set_low_caution(*t.low_caution);
  if (t.high_caution) l.set_high_caution(*t.high_caution);
  if (t.high_critical) l.set_high_critical(*t.high_critical);
  l.set_hysteresis(t.hysteresis);
  l.set_delay_ms(static_cast<std::uint32_t>(t.delay.count()));
  if (t.alarm_state) {
    l.set_alarm_when(*t.alarm_state);
    l.set_alarm_severity(t.state_severity == Severity::caution ? v1::AlarmEvent::SEVERITY_CAUTION
                                                                : v1::AlarmEvent::SEVERITY_CRITICAL);
  }
  l.set_sensor_failed(t.sensor_failed);
  if (t.sensor_failed) l.set_failed_delay_ms(static_cast<std::uint32_t>(t.failed_delay.count()));
  l.set_stale_after(t.stale_after);
}

// What the agent does with a point's samples: its alarm limits, and report
// by exception.
void set_policy(const PointConfig& p, v1::Point& out) {
  set_limits(p, out);
  const auto rule = ReportRule::of(p);
  if (!rule) return;
  out.set_deadband(rule->deadband);
  out.set_deadband_percent(rule->percent);
  out.set_max_age_ms(static_cast<std::uint32_t>(rule->max_age.count()));
}

}  // namespace

NativeEncoder::NativeEncoder(const Config& config, const Catalog& catalog, AgentIdentity identity)
    : identity_(std::move(identity)),
      topics_(config.mqtt.prefix, config.agent.site, config.agent.rack),
      buffers_(std::make_unique<Buffers>()) {
  auto& cat = buffers_->catalog;
  cat.set_agent_id(identity_.agent_id);
  cat.set_site(identity_.site);
  cat.set_rack(identity_.rack);
  for (const auto& cp : catalog.points()) {
    const auto& p = *cp.config;
    auto* point = cat.add_points();
    point->set_id(cp.id);
    point->set_device(std::string(cp.device));
    // A point given only a unit (a derived one) still says what it measures.
    point->set_quantity(p.quantity.empty() ? std::string(quantity_of_unit(p.unit)) : p.quantity);
    point->set_unit(static_cast<v1::Unit>(p.unit));
    point->set_unit_symbol(std::string(unit_symbol(p.unit)));
    point->set_location(p.location);
    point->set_interval_ms(static_cast<std::uint32_t>(cp.interval.count()));
    if (cp.source) {
      point->set_source_type(config.sources[*cp.source].type);
      point->set_description(p.description);
    } else {
      point->set_source_type(std::string(kDerivedDevice));
      // What it is computed from, unless the config says otherwise.
      point->set_description(p.description.empty() ? "= " + config.derived[cp.position].expr : p.description);
    }
    set_policy(p, *point);
  }
  // The id covers the points only, so it changes exactly when they change.
  catalog_id_ = fnv1a_hex(serialize_deterministic(cat));
  cat.set_catalog_id(catalog_id_);
  for (const auto& sc : config.sources) sources_.push_back(sc.name);
}

const std::map<std::string, DeviceInfo>& NativeEncoder::devices() const { return buffers_->devices; }

bool NativeEncoder::set_device(const std::string& source, const std::optional<DeviceInfo>& info) {
  auto& devices = buffers_->devices;
  const auto it = devices.find(source);
  if (!info) {
    if (it == devices.end()) return false;
    devices.erase(it);
  } else if (it != devices.end() && it->second == *info) {
    return false;
  } else {
    devices[source] = *info;
  }
  auto& cat = buffers_->catalog;
  cat.clear_devices();
  for (const auto& name : sources_) {
    const auto d = devices.find(name);
    if (d == devices.end()) continue;
    auto* out = cat.add_devices();
    out->set_name(name);
    out->set_manufacturer(d->second.manufacturer);
    out->set_model(d->second.model);
    out->set_serial_number(d->second.serial_number);
    out->set_version(d->second.version);
  }
  return true;
}

NativeEncoder::~NativeEncoder() = default;

Record NativeEncoder::status(bool online, const StatusCounters& counters, TimePoint now) const {
  v1::AgentStatus s;
  s.set_state(online ? v1::AgentStatus::STATE_ONLINE : v1::AgentStatus::STATE_OFFLINE);
  s.set_agent_id(identity_.agent_id);
  s.set_version(identity_.version);
  s.set_boot_id(identity_.boot_id);
  s.set_start_time_ms(to_unix_ms(identity_.start_time));
  s.set_time_ms(to_unix_ms(now));
  s.set_hostname(identity_.hostname);
  s.set_catalog_id(catalog_id_);
  s.set_messages_published(counters.messages_published);
  s.set_messages_dropped(counters.messages_dropped);
  s.set_telemetry_sequence(counters.telemetry_sequence);
  fill_outbox_status(counters.outbox, *s.mutable_outbox());
  for (const auto& r : counters.restarts) fill_restarts(r, *s.add_restarts());
  return Record{RecordKind::status, topics_.status(), s.SerializeAsString()};
}

v1::AlarmEvent NativeEncoder::alarm_event(const AlarmEvent& e, std::uint32_t point, const std::string& point_id,
                                          std::uint64_t sequence) const {
  v1::AlarmEvent a;
  a.set_agent_id(identity_.agent_id);
  a.set_boot_id(identity_.boot_id);
  a.set_sequence(sequence);
  a.set_point(point);
  a.set_point_id(point_id);
  const bool no_reading = e.kind == AlarmKind::sensor_failed || e.kind == AlarmKind::stale;
  a.set_severity(no_reading                            ? v1::AlarmEvent::SEVERITY_SENSOR_FAILED
                 : e.severity == Severity::critical ? v1::AlarmEvent::SEVERITY_CRITICAL
                                                    : v1::AlarmEvent::SEVERITY_CAUTION);
  a.set_raised(e.raised);
  if (e.value) a.set_value(*e.value);
  if (e.limit) a.set_limit(*e.limit);
  a.set_reason(e.reason);
  a.set_time_ms(to_unix_ms(e.time));
  a.set_catalog_id(catalog_id_);
  a.set_kind(std::string(alarm_kind_name(e.kind)));
  a.set_message(point_id + " " + std::string(alarm_kind_name(e.kind)) + (e.raised ? " raised: " : " cleared: ") +
                alarm_detail(e));
  return a;
}

Record NativeEncoder::alarm(const v1::AlarmEvent& event) const {
  return Record{RecordKind::alarm, topics_.alarm(), event.SerializeAsString()};
}

Record NativeEncoder::active_alarms(const std::vector<v1::AlarmEvent>& active, TimePoint now) const {
  v1::ActiveAlarms a;
  a.set_agent_id(identity_.agent_id);
  a.set_boot_id(identity_.boot_id);
  a.set_time_ms(to_unix_ms(now));
  for (const auto& e : active) *a.add_alarms() = e;
  return Record{RecordKind::active_alarms, topics_.alarms(), a.SerializeAsString()};
}

void fill_outbox_status(const StatusCounters::Outbox& in, v1::OutboxStatus& o) {
  o.set_pending(in.pending);
  o.set_in_flight(in.in_flight);
  o.set_acknowledged(in.acknowledged);
  o.set_dropped(in.dropped);
  o.set_replayed(in.replayed);
  o.set_bytes_on_disk(in.bytes_on_disk);
  o.set_oldest_ms(in.oldest_ms);
  o.set_skipped(in.skipped);
  o.set_write_errors(in.write_errors);
  o.set_recovered(in.recovered);
  o.set_held(in.held);
}

Record NativeEncoder::catalog(TimePoint now) const {
  auto& cat = buffers_->catalog;
  cat.set_time_ms(to_unix_ms(now));
  return Record{RecordKind::catalog, topics_.catalog(), cat.SerializeAsString()};
}

Record NativeEncoder::telemetry(const std::string& source, std::uint64_t sequence, TimePoint tick,
                                 const std::vector<Sample>& samples) {
  auto& t = buffers_->telemetry;
  t.Clear();
  t.set_agent_id(identity_.agent_id);
  t.set_boot_id(identity_.boot_id);
  t.set_sequence(sequence);
  t.set_catalog_id(catalog_id_);
  t.set_source(source);
  const auto base = to_unix_ms(tick);
  t.set_time_ms(base);
  for (const auto& s : samples) {
    auto* out = t.add_samples();
    out->set_point(s.point);
    out->set_value(s.value);
    out->set_quality(static_cast<v1::Quality>(s.quality));
    out->set_time_offset_ms(to_unix_ms(s.time) - base);
    if (!s.reason.empty()) out->set_reason(s.reason);
  }
  return Record{RecordKind::telemetry, topics_.telemetry(), t.SerializeAsString()};
}

Record NativeEncoder::snapshot(const std::vector<Sample>& latest, std::uint64_t sequence, TimePoint now) const {
  v1::Snapshot s;
  s.set_agent_id(identity_.agent_id);
  s.set_boot_id(identity_.boot_id);
  s.set_catalog_id(catalog_id_);
  const auto base = to_unix_ms(now);
  s.set_time_ms(base);
  s.set_telemetry_sequence(sequence);
  for (std::size_t i = 0; i < latest.size(); ++i) {
    const auto& x = latest[i];
    auto* out = s.add_samples();
    out->set_point(static_cast<std::uint32_t>(i));
    out->set_quality(static_cast<v1::Quality>(x.quality));
    if (x.quality == Quality::unknown && x.time == TimePoint{}) {
      // Never read: no value, no time, and it says so.
      out->set_reason(x.reason.empty() ? "not read yet" : x.reason);
      continue;
    }
    out->set_value(has_value(x.quality) ? x.value : 0);
    out->set_time_offset_ms(to_unix_ms(x.time) - base);
    if (!x.reason.empty()) out->set_reason(x.reason);
  }
  return Record{RecordKind::snapshot, topics_.snapshot(), s.SerializeAsString()};
}

void fill_restarts(const StatusCounters::Restarts& in, v1::ComponentRestarts& out) {
  out.set_component(in.component);
  out.set_restarts(in.restarts);
  out.set_last_error(in.last_error);
  out.set_last_failure_ms(in.last_failure_ms);
}

}  // namespace rackwatch
