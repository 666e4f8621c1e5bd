#include "publish/sparkplug_wire.hpp"

#include <boost/json/parse.hpp>

#include "core/log.hpp"
#include "rackwatch/v1/telemetry.pb.h"

namespace rackwatch {
namespace {

// The death (the will) at QoS 1, never retained (Sparkplug 3.0).
constexpr int kWillQos = 1;

std::string joined(const std::set<std::string>& conditions) {
  std::string out;
  for (const auto& c : conditions) out += (out.empty() ? "" : ",") + c;
  return out;
}

}  // namespace

SparkplugWire::SparkplugWire(const SparkplugConfig& config, std::string bdseq_path, Now now)
    : topics_{config.group_id, config.edge_node_id},
      host_id_(config.primary_host_id),
      qos_(config.qos),
      bdseq_file_(std::move(bdseq_path)),
      now_(std::move(now)) {}

std::uint64_t SparkplugWire::take_seq() {
  const auto seq = seq_;
  seq_ = (seq_ + 1) % 256;
  return seq;
}

std::string SparkplugWire::state_topic() const {
  return std::string(kSparkplugNamespace) + "/STATE/" + host_id_;
}

Message SparkplugWire::will(const Record& offline) {
  (void)offline;
  bd_seq_ = bdseq_file_.upcoming();
  born_ = false;
  host_.online = false;  // a new connection hears the host's STATE again
  return Message{topics_.node("NDEATH"), sparkplug_node_death(bd_seq_, now_()), kWillQos, false};
}

void SparkplugWire::connected() { bdseq_file_.commit(bd_seq_); }

std::optional<Message> SparkplugWire::death(const Record& offline) {
  (void)offline;
  born_ = false;
  return Message{topics_.node("NDEATH"), sparkplug_node_death(bd_seq_, now_()), kWillQos, false};
}

void SparkplugWire::adopt(const v1::Catalog& catalog) {
  catalogs_.remember(catalog);
  if (have_layout_ && catalog.catalog_id() == layout_.catalog_id) return;
  auto layout = sparkplug_layout(catalog);
  // What was said of a point stays said under its new alias.
  std::vector<SparkplugValue> last(layout.device_of.size());
  if (have_layout_) {
    for (const auto& [id, index] : layout_.index_of) {
      if (auto to = layout.index_of.find(id); to != layout.index_of.end()) last[to->second] = last_[index];
    }
  }
  layout_ = std::move(layout);
  last_ = std::move(last);
  have_layout_ = true;
}

std::vector<Message> SparkplugWire::birth(const std::vector<Record>& state) {
  for (const auto& r : state) {
    if (r.kind == RecordKind::catalog) {
      v1::Catalog catalog;
      if (!catalog.ParseFromString(r.payload)) {
        log::error("sparkplug: the catalog does not parse; births keep the last one");
        continue;
      }
      adopt(catalog);
    } else if (r.kind == RecordKind::active_alarms) {
      v1::ActiveAlarms set;
      if (!set.ParseFromString(r.payload)) continue;
      alarms_.clear();
      for (const auto& a : set.alarms()) alarms_[a.point_id()].insert(a.kind());
    }
  }
  if (have_layout_) {
    for (const auto& [id, index] : layout_.index_of) {
      const auto it = alarms_.find(id);
      last_[index].alarm = it == alarms_.end() ? std::string() : joined(it->second);
    }
  }
  return births();
}

std::vector<Message> SparkplugWire::births() {
  const auto now = now_();
  seq_ = 0;
  born_ = true;
  std::vector<Message> out;
  out.reserve(1 + 2 * layout_.devices.size());
  out.push_back({topics_.node("NBIRTH"), sparkplug_node_birth(layout_, last_, bd_seq_, take_seq(), now), qos_, false});
  for (std::size_t d = 0; d < layout_.devices.size(); ++d) {
    out.push_back({topics_.device("DBIRTH", layout_.devices[d].name),
                   sparkplug_device_birth(layout_, d, last_, take_seq(), now), qos_, false});
  }
  // Every device is born, so that its stored readings can still be sent;
  // a dormant one dies right after.
  for (const auto& d : layout_.devices) {
    if (dormant_.count(d.name) != 0) {
      out.push_back({topics_.device("DDEATH", d.name), sparkplug_device_death(take_seq(), now), qos_, false});
    }
  }
  return out;
}

std::optional<Message> SparkplugWire::encode(const Record& record, bool replayed) {
  auto all = encode_all(record, replayed);
  if (all.empty()) return std::nullopt;
  return std::move(all.front());
}

std::vector<Message> SparkplugWire::encode_all(const Record& record, bool replayed) {
  switch (record.kind) {
    case RecordKind::catalog: {
      v1::Catalog catalog;
      if (!catalog.ParseFromString(record.payload)) return {};
      catalogs_.remember(catalog);
      // A stored one only tells what its telemetry's points were. A fresh
      // one with other points: the births say them, before any of its data.
      if (replayed || !have_layout_ || catalog.catalog_id() == layout_.catalog_id) return {};
      adopt(catalog);
      return births();
    }
    case RecordKind::telemetry:
      return telemetry(record, replayed);
    case RecordKind::alarm:
      return alarm(record, replayed);
    default:
      // Status and the active set: the births and each metric's alarm property say them.
      return {};
  }
}

std::vector<Message> SparkplugWire::telemetry(const Record& record, bool replayed) {
  if (!have_layout_) return {};
  v1::Telemetry t;
  if (!t.ParseFromString(record.payload)) return {};
  if (t.catalog_id() != layout_.catalog_id) {
    const auto* from = catalogs_.points(t.catalog_id());
    if (!from) {
      if (skipped_++ == 0) {
        log::warning("sparkplug: telemetry of ", t.source(), " was stored for catalog ", t.catalog_id(),
                     ", which this agent has no record of (an outbox from an older version): not sent");
      }
      return {};
    }
    const auto before = unmapped_;
    sparkplug_remap(t, *from, layout_, unmapped_);
    if (before == 0 && unmapped_ > 0) {
      log::warning("sparkplug: stored readings of points no longer configured (catalog ", t.catalog_id(),
                   ") have no metric to carry them: not sent");
    }
  }
  if (!replayed && !dormant_.empty()) drop_dormant(t);
  remember(t);
  auto data = sparkplug_data(layout_, t, replayed, seq_, now_());
  std::vector<Message> out;
  out.reserve(data.size());
  for (auto& d : data) {
    take_seq();
    out.push_back({d.device < 0 ? topics_.node("NDATA")
                                : topics_.device("DDATA", layout_.devices[static_cast<std::size_t>(d.device)].name),
                   std::move(d.payload), qos_, false});
  }
  return out;
}

std::vector<Message> SparkplugWire::alarm(const Record& record, bool replayed) {
  v1::AlarmEvent event;
  if (!have_layout_ || !event.ParseFromString(record.payload)) return {};
  const auto found = layout_.index_of.find(event.point_id());
  if (found == layout_.index_of.end()) {
    ++unmapped_;
    return {};
  }
  const auto point = found->second;
  // A stored event is history: the active set is the births' and the fresh events'.
  std::string active;
  if (!replayed) {
    auto& conditions = alarms_[event.point_id()];
    if (event.raised()) {
      conditions.insert(event.kind());
    } else {
      conditions.erase(event.kind());
    }
    active = joined(conditions);
    last_[point].alarm = active;
  }
  auto d = sparkplug_alarm(layout_, point, event, replayed ? nullptr : &active, replayed, take_seq(), now_());
  return {{d.device < 0 ? topics_.node("NDATA")
                        : topics_.device("DDATA", layout_.devices[static_cast<std::size_t>(d.device)].name),
           std::move(d.payload), qos_, false}};
}

void SparkplugWire::remember(const v1::Telemetry& t) {
  for (const auto& s : t.samples()) {
    if (s.point() >= last_.size()) continue;
    const auto time = t.time_ms() + s.time_offset_ms();
    auto& v = last_[s.point()];
    if (v.known && v.time_ms > time) continue;  // a replayed, older one
    v = {true, s.value(), static_cast<int>(s.quality()), time, std::move(v.alarm)};
  }
}

// A dormant device's readings have no value: its DDEATH said so already,
// and data after a death would make a host ask for a rebirth.
void SparkplugWire::drop_dormant(v1::Telemetry& t) const {
  sparkplug_drop_samples(t, [this](const v1::Sample& s) {
    const int d = s.point() < layout_.device_of.size() ? layout_.device_of[s.point()] : -1;
    const bool usable = s.quality() == v1::QUALITY_GOOD || s.quality() == v1::QUALITY_UNCERTAIN;
    return d >= 0 && !usable && dormant_.count(layout_.devices[static_cast<std::size_t>(d)].name) != 0;
  });
}

int SparkplugWire::device_index(const std::string& source) const {
  for (std::size_t d = 0; d < layout_.devices.size(); ++d) {
    if (layout_.devices[d].name == source) return static_cast<int>(d);
  }
  return -1;
}

std::vector<Message> SparkplugWire::device_state(const std::string& source, bool alive) {
  const bool changed = alive ? dormant_.erase(source) > 0 : dormant_.insert(source).second;
  const int d = have_layout_ ? device_index(source) : -1;
  if (!changed || !born_ || d < 0) return {};
  if (!alive) {
    return {{topics_.device("DDEATH", source), sparkplug_device_death(take_seq(), now_()), qos_, false}};
  }
  return {{topics_.device("DBIRTH", source),
           sparkplug_device_birth(layout_, static_cast<std::size_t>(d), last_, take_seq(), now_()), qos_, false}};
}

std::vector<std::string> SparkplugWire::subscriptions() const {
  std::vector<std::string> out{topics_.node("NCMD"), topics_.device("DCMD", "+")};
  if (!host_id_.empty()) out.push_back(state_topic());
  return out;
}

void SparkplugWire::inbound(const Message& message) {
  if (message.topic == topics_.node("NCMD") && sparkplug_rebirth_requested(message.payload)) {
    log::info("sparkplug: rebirth requested on ", message.topic);
    raise(Event::rebirth);
  } else if (!host_id_.empty() && message.topic == state_topic()) {
    host_state(message.payload);
  }
}

// Sparkplug 3.0: {"online": true|false, "timestamp": ms}, retained by the host.
void SparkplugWire::host_state(const std::string& payload) {
  boost::system::error_code ec;
  const auto value = boost::json::parse(payload, ec);
  const auto* o = ec ? nullptr : value.if_object();
  const auto* online = o ? o->if_contains("online") : nullptr;
  const auto* timestamp = o ? o->if_contains("timestamp") : nullptr;
  if (!online || !online->is_bool() || !timestamp || !(timestamp->is_int64() || timestamp->is_uint64())) {
    log::warning("sparkplug: the primary host's STATE on ", state_topic(),
                 " is not {\"online\": true|false, \"timestamp\": ms}: ignored (", payload.substr(0, 80), ")");
    return;
  }
  const auto ts = timestamp->is_int64() ? timestamp->as_int64() : static_cast<std::int64_t>(timestamp->as_uint64());
  if (ts < host_.timestamp) return;  // older than one already heard
  host_.timestamp = ts;
  const bool was = host_.online;
  host_.online = online->as_bool();
  if (host_.online && !was) {
    log::info("sparkplug: primary host ", host_id_, " is online");
    if (!born_) raise(Event::host_online);
  } else if (!host_.online) {
    if (was || born_) {
      log::warning("sparkplug: primary host ", host_id_,
                   " is offline: saying NDEATH and connecting again; readings wait in the outbox");
    }
    if (born_) raise(Event::host_offline);
  }
}

}  // namespace rackwatch
