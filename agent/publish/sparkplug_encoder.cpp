#include "publish/sparkplug_encoder.hpp"

#include <stdexcept>

#include "rackwatch/v1/telemetry.pb.h"
#include "sparkplug_b/sparkplug_b.pb.h"

namespace rackwatch {
namespace {

using Payload = sparkplug_b::Payload;

// Property keys SCADA hosts (Ignition among them) read off a metric.
constexpr const char* kUnitProperty = "engUnit";
constexpr const char* kQualityProperty = "Quality";
// Ours (README, "Sparkplug B"): what the catalog says of a point, and its alarms.
constexpr const char* kQuantityProperty = "quantity";
constexpr const char* kLocationProperty = "location";
constexpr const char* kAlarmProperty = "alarm";
constexpr const char* kAlarmEventProperty = "alarmEvent";
constexpr const char* kAlarmMessageProperty = "alarmMessage";

std::string metric_name(const v1::Point& p) {
  const std::string& id = p.id();
  std::string name = id.size() > p.device().size() && id.compare(0, p.device().size(), p.device()) == 0 &&
                             id[p.device().size()] == '.'
                         ? id.substr(p.device().size() + 1)
                         : id;
  // Derived points sit on the node, in a folder of their own.
  if (p.device() == "derived") name = "Derived/" + name;
  return name;
}

void add_string_property(Payload::PropertySet& set, const char* key, const std::string& value) {
  set.add_keys(key);
  auto* v = set.add_values();
  v->set_type(static_cast<std::uint32_t>(sparkplug_b::String));
  v->set_string_value(value);
}

void add_double_property(Payload::PropertySet& set, const char* key, double value) {
  set.add_keys(key);
  auto* v = set.add_values();
  v->set_type(static_cast<std::uint32_t>(sparkplug_b::Double));
  v->set_double_value(value);
}

void add_limit_properties(Payload::PropertySet& set, const SparkplugLimits& l) {
  if (!l.any()) return;
  if (l.low_critical) add_double_property(set, "lowCritical", *l.low_critical);
  if (l.low_caution) add_double_property(set, "lowCaution", *l.low_caution);
  if (l.high_caution) add_double_property(set, "highCaution", *l.high_caution);
  if (l.high_critical) add_double_property(set, "highCritical", *l.high_critical);
  if (l.alarm_when) {
    set.add_keys("alarmWhen");
    auto* v = set.add_values();
    v->set_type(static_cast<std::uint32_t>(sparkplug_b::Boolean));
    v->set_boolean_value(*l.alarm_when != 0);
  }
  if (l.hysteresis != 0) add_double_property(set, "hysteresis", l.hysteresis);
}

void add_quality_property(Payload::PropertySet& set, int quality) {
  set.add_keys(kQualityProperty);
  auto* v = set.add_values();
  v->set_type(static_cast<std::uint32_t>(sparkplug_b::Int32));
  // Int32 travels in int_value as its two's complement bits (all ours are positive).
  v->set_int_value(static_cast<std::uint32_t>(sparkplug_quality(quality)));
}

bool usable(int quality) { return quality == v1::QUALITY_GOOD || quality == v1::QUALITY_UNCERTAIN; }

void set_value(Payload::Metric& m, SparkplugType type, double value) {
  if (type == SparkplugType::boolean) {
    m.set_boolean_value(value != 0);
  } else {
    m.set_double_value(value);
  }
}

void add_birth_metric(Payload& payload, const SparkplugMetric& def, const std::vector<SparkplugValue>& last,
                      std::int64_t now_ms) {
  auto* m = payload.add_metrics();
  m->set_name(def.name);
  m->set_alias(def.alias);
  m->set_datatype(static_cast<std::uint32_t>(def.type));
  const SparkplugValue none;
  const auto& v = def.point < last.size() ? last[def.point] : none;
  m->set_timestamp(static_cast<std::uint64_t>(v.known ? v.time_ms : now_ms));
  if (!def.description.empty()) m->mutable_metadata()->set_description(def.description);
  auto* props = m->mutable_properties();
  if (!def.unit.empty()) add_string_property(*props, kUnitProperty, def.unit);
  add_quality_property(*props, v.known ? v.quality : v1::QUALITY_UNKNOWN);
  if (!def.quantity.empty()) add_string_property(*props, kQuantityProperty, def.quantity);
  if (!def.location.empty()) add_string_property(*props, kLocationProperty, def.location);
  add_limit_properties(*props, def.limits);
  // Said of every point that can raise one, "" when none is active.
  if (def.limits.any() || !v.alarm.empty()) add_string_property(*props, kAlarmProperty, v.alarm);
  if (v.known && usable(v.quality)) {
    set_value(*m, def.type, v.value);
  } else {
    m->set_is_null(true);
  }
}

}  // namespace

std::int32_t sparkplug_quality(int quality) {
  switch (quality) {
    case v1::QUALITY_GOOD:
      return 192;
    case v1::QUALITY_UNCERTAIN:
      return 64;
    default:
      return 0;
  }
}

SparkplugLayout sparkplug_layout(const v1::Catalog& catalog) {
  SparkplugLayout out;
  out.catalog_id = catalog.catalog_id();
  out.device_of.reserve(static_cast<std::size_t>(catalog.points_size()));
  for (int i = 0; i < catalog.points_size(); ++i) {
    const auto& p = catalog.points(i);
    SparkplugMetric m;
    m.point = static_cast<std::uint32_t>(i);
    m.name = metric_name(p);
    m.alias = static_cast<std::uint64_t>(i) + 1;
    m.type = p.unit() == v1::UNIT_BOOLEAN ? SparkplugType::boolean : SparkplugType::double_;
    if (p.unit() != v1::UNIT_BOOLEAN) m.unit = p.unit_symbol();
    m.description = p.description();
    m.quantity = p.quantity();
    m.location = p.location();
    if (p.has_limits()) {
      const auto& l = p.limits();
      if (l.has_low_critical()) m.limits.low_critical = l.low_critical();
      if (l.has_low_caution()) m.limits.low_caution = l.low_caution();
      if (l.has_high_caution()) m.limits.high_caution = l.high_caution();
      if (l.has_high_critical()) m.limits.high_critical = l.high_critical();
      if (l.has_alarm_when()) m.limits.alarm_when = l.alarm_when();
      m.limits.hysteresis = l.hysteresis();
    }
    out.type_of.push_back(m.type);
    out.index_of.emplace(p.id(), m.point);
    if (p.device() == "derived") {
      out.node.push_back(std::move(m));
      out.device_of.push_back(-1);
      continue;
    }
    std::size_t d = 0;
    while (d < out.devices.size() && out.devices[d].name != p.device()) ++d;
    if (d == out.devices.size()) out.devices.push_back({p.device(), {}});
    out.devices[d].metrics.push_back(std::move(m));
    out.device_of.push_back(static_cast<int>(d));
  }
  return out;
}

std::string sparkplug_node_birth(const SparkplugLayout& layout, const std::vector<SparkplugValue>& last,
                                 std::uint64_t bd_seq, std::uint64_t seq, std::int64_t now_ms) {
  Payload p;
  p.set_timestamp(static_cast<std::uint64_t>(now_ms));
  p.set_seq(seq);
  auto* bd = p.add_metrics();
  bd->set_name(kBdSeqMetric);
  bd->set_timestamp(static_cast<std::uint64_t>(now_ms));
  bd->set_datatype(static_cast<std::uint32_t>(SparkplugType::uint64));
  bd->set_long_value(bd_seq);
  auto* rebirth = p.add_metrics();
  rebirth->set_name(kRebirthMetric);
  rebirth->set_timestamp(static_cast<std::uint64_t>(now_ms));
  rebirth->set_datatype(static_cast<std::uint32_t>(SparkplugType::boolean));
  rebirth->set_boolean_value(false);
  for (const auto& m : layout.node) add_birth_metric(p, m, last, now_ms);
  return p.SerializeAsString();
}

std::string sparkplug_device_birth(const SparkplugLayout& layout, std::size_t device,
                                   const std::vector<SparkplugValue>& last, std::uint64_t seq,
                                   std::int64_t now_ms) {
  Payload p;
  p.set_timestamp(static_cast<std::uint64_t>(now_ms));
  p.set_seq(seq);
  for (const auto& m : layout.devices.at(device).metrics) add_birth_metric(p, m, last, now_ms);
  return p.SerializeAsString();
}

const SparkplugMetric& SparkplugLayout::metric(std::uint32_t point) const {
  const int d = device_of.at(point);
  const auto& list = d < 0 ? node : devices[static_cast<std::size_t>(d)].metrics;
  for (const auto& m : list) {
    if (m.point == point) return m;
  }
  throw std::logic_error("sparkplug layout: point " + std::to_string(point) + " is in no metric list");
}

std::string sparkplug_device_death(std::uint64_t seq, std::int64_t now_ms) {
  Payload p;
  p.set_timestamp(static_cast<std::uint64_t>(now_ms));
  p.set_seq(seq);
  return p.SerializeAsString();
}

SparkplugData sparkplug_alarm(const SparkplugLayout& layout, std::uint32_t point, const v1::AlarmEvent& event,
                              const std::string* active, bool historical, std::uint64_t seq, std::int64_t now_ms) {
  Payload p;
  p.set_timestamp(static_cast<std::uint64_t>(now_ms));
  p.set_seq(seq % 256);
  auto* m = p.add_metrics();
  m->set_alias(static_cast<std::uint64_t>(point) + 1);
  m->set_timestamp(static_cast<std::uint64_t>(event.time_ms()));
  if (historical) m->set_is_historical(true);
  if (event.has_value()) {
    set_value(*m, layout.type_of.at(point), event.value());
  } else {
    m->set_is_null(true);
  }
  auto* props = m->mutable_properties();
  add_quality_property(*props, event.has_value() ? v1::QUALITY_GOOD : v1::QUALITY_BAD);
  add_string_property(*props, kAlarmEventProperty, (event.raised() ? "raised " : "cleared ") + event.kind());
  if (!event.message().empty()) add_string_property(*props, kAlarmMessageProperty, event.message());
  if (active) add_string_property(*props, kAlarmProperty, *active);
  return {layout.device_of.at(point), p.SerializeAsString()};
}

std::string sparkplug_node_death(std::uint64_t bd_seq, std::int64_t now_ms) {
  Payload p;
  p.set_timestamp(static_cast<std::uint64_t>(now_ms));
  auto* bd = p.add_metrics();
  bd->set_name(kBdSeqMetric);
  bd->set_timestamp(static_cast<std::uint64_t>(now_ms));
  bd->set_datatype(static_cast<std::uint32_t>(SparkplugType::uint64));
  bd->set_long_value(bd_seq);
  return p.SerializeAsString();
}

std::vector<SparkplugData> sparkplug_data(const SparkplugLayout& layout, const v1::Telemetry& telemetry,
                                          bool historical, std::uint64_t first_seq, std::int64_t now_ms) {
  // Payloads by destination, in the order their first sample comes.
  std::vector<int> where;
  std::vector<Payload> payloads;
  for (const auto& s : telemetry.samples()) {
    if (s.point() >= layout.device_of.size()) continue;  // not of this catalog
    const int device = layout.device_of[s.point()];
    std::size_t k = 0;
    while (k < where.size() && where[k] != device) ++k;
    if (k == where.size()) {
      where.push_back(device);
      payloads.emplace_back();
      payloads.back().set_timestamp(static_cast<std::uint64_t>(now_ms));
    }
    const auto type = layout.type_of[s.point()];
    auto* m = payloads[k].add_metrics();
    m->set_alias(static_cast<std::uint64_t>(s.point()) + 1);  // as sparkplug_layout gives it
    m->set_timestamp(static_cast<std::uint64_t>(telemetry.time_ms() + s.time_offset_ms()));
    if (historical) m->set_is_historical(true);
    if (usable(s.quality())) {
      set_value(*m, type, s.value());
    } else {
      m->set_is_null(true);
    }
    add_quality_property(*m->mutable_properties(), s.quality());
  }
  std::vector<SparkplugData> out;
  out.reserve(payloads.size());
  for (std::size_t k = 0; k < payloads.size(); ++k) {
    payloads[k].set_seq((first_seq + k) % 256);
    out.push_back({where[k], payloads[k].SerializeAsString()});
  }
  return out;
}

bool sparkplug_rebirth_requested(const std::string& payload) {
  Payload p;
  if (!p.ParseFromString(payload)) return false;
  for (const auto& m : p.metrics()) {
    if (m.has_name() && m.name() == kRebirthMetric && m.has_boolean_value() && m.boolean_value()) return true;
  }
  return false;
}

}  // namespace rackwatch
