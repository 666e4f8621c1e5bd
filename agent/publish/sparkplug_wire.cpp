#include "publish/sparkplug_wire.hpp"

#include "core/log.hpp"
#include "rackwatch/v1/telemetry.pb.h"

namespace rackwatch {
namespace {

// Births and data at QoS 1: the outbox lets a record go only when the
// broker acknowledged it. The death (the will) at QoS 1, never retained.
constexpr int kQos = 1;

}  // namespace

SparkplugWire::SparkplugWire(const SparkplugConfig& ids, std::string bdseq_path, Now now)
    : topics_{ids.group_id, ids.edge_node_id}, bdseq_file_(std::move(bdseq_path)), now_(std::move(now)) {}

std::uint64_t SparkplugWire::take_seq() {
  const auto seq = seq_;
  seq_ = (seq_ + 1) % 256;
  return seq;
}

Message SparkplugWire::will(const Record& offline) {
  (void)offline;
  bd_seq_ = bdseq_file_.next();
  return Message{topics_.node("NDEATH"), sparkplug_node_death(bd_seq_, now_()), kQos, false};
}

std::optional<Message> SparkplugWire::death(const Record& offline) {
  (void)offline;
  return Message{topics_.node("NDEATH"), sparkplug_node_death(bd_seq_, now_()), kQos, false};
}

std::vector<Message> SparkplugWire::birth(const std::vector<Record>& state) {
  for (const auto& r : state) {
    if (r.kind != RecordKind::catalog) continue;
    v1::Catalog catalog;
    if (!catalog.ParseFromString(r.payload)) {
      log::error("sparkplug: the catalog does not parse; births keep the last one");
      continue;
    }
    if (!have_layout_ || catalog.catalog_id() != layout_.catalog_id) {
      layout_ = sparkplug_layout(catalog);
      last_.assign(layout_.device_of.size(), SparkplugValue{});
      have_layout_ = true;
    }
  }
  const auto now = now_();
  seq_ = 0;
  std::vector<Message> out;
  out.reserve(1 + layout_.devices.size());
  out.push_back({topics_.node("NBIRTH"), sparkplug_node_birth(layout_, last_, bd_seq_, take_seq(), now), kQos, false});
  for (std::size_t d = 0; d < layout_.devices.size(); ++d) {
    out.push_back({topics_.device("DBIRTH", layout_.devices[d].name),
                   sparkplug_device_birth(layout_, d, last_, take_seq(), now), kQos, false});
  }
  return out;
}

std::optional<Message> SparkplugWire::encode(const Record& record, bool replayed) {
  auto all = encode_all(record, replayed);
  if (all.empty()) return std::nullopt;
  return std::move(all.front());
}

std::vector<Message> SparkplugWire::encode_all(const Record& record, bool replayed) {
  if (record.kind == RecordKind::catalog) {
    v1::Catalog catalog;
    if (have_layout_ && catalog.ParseFromString(record.payload) && catalog.catalog_id() != layout_.catalog_id) {
      // Other points: the births say them, with their new aliases.
      request_rebirth();
    }
    return {};
  }
  if (record.kind != RecordKind::telemetry || !have_layout_) return {};
  v1::Telemetry t;
  if (!t.ParseFromString(record.payload)) return {};
  if (t.catalog_id() != layout_.catalog_id) {
    if (skipped_++ == 0) {
      log::warning("sparkplug: telemetry of ", t.source(), " was stored for catalog ", t.catalog_id(),
                   ", not the current ", layout_.catalog_id, ": its aliases would be wrong; not sent");
    }
    return {};
  }
  remember(t);
  auto data = sparkplug_data(layout_, t, replayed, seq_, now_());
  std::vector<Message> out;
  out.reserve(data.size());
  for (auto& d : data) {
    take_seq();
    out.push_back({d.device < 0 ? topics_.node("NDATA")
                                : topics_.device("DDATA", layout_.devices[static_cast<std::size_t>(d.device)].name),
                   std::move(d.payload), kQos, false});
  }
  return out;
}

void SparkplugWire::remember(const v1::Telemetry& t) {
  for (const auto& s : t.samples()) {
    if (s.point() >= last_.size()) continue;
    const auto time = t.time_ms() + s.time_offset_ms();
    auto& v = last_[s.point()];
    if (v.known && v.time_ms > time) continue;  // a replayed, older one
    v = {true, s.value(), static_cast<int>(s.quality()), time};
  }
}

std::vector<std::string> SparkplugWire::subscriptions() const {
  return {topics_.node("NCMD"), topics_.device("DCMD", "+")};
}

void SparkplugWire::inbound(const Message& message) {
  if (message.topic == topics_.node("NCMD") && sparkplug_rebirth_requested(message.payload)) {
    log::info("sparkplug: rebirth requested on ", message.topic);
    request_rebirth();
  }
}

}  // namespace rackwatch
