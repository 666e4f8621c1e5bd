#include "diag/wire_decoder.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <sstream>
#include <utility>

#include "core/plural.hpp"
#include "core/printable.hpp"
#include "diag/catalog_cache.hpp"
#include "diag/format.hpp"
#include "rackwatch/v1/telemetry.pb.h"

namespace rackwatch::cli {

namespace json = boost::json;

std::optional<TopicParts> split_topic(const std::string& prefix, const std::string& topic) {
  if (topic.size() <= prefix.size() + 1 || topic.compare(0, prefix.size(), prefix) != 0 ||
      topic[prefix.size()] != '/') {
    return std::nullopt;
  }
  std::vector<std::string> parts;
  std::string rest = topic.substr(prefix.size() + 1);
  std::size_t start = 0;
  while (true) {
    const auto slash = rest.find('/', start);
    parts.push_back(rest.substr(start, slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  if (parts.size() == 4 && parts[2] == "catalog" && !parts[3].empty()) {
    return TopicParts{parts[0], parts[1], parts[2], parts[3]};
  }
  if (parts.size() != 3) return std::nullopt;
  return TopicParts{parts[0], parts[1], parts[2], {}};
}

namespace {

std::string quality_text(v1::Quality q) {
  switch (q) {
    case v1::QUALITY_GOOD: return "good";
    case v1::QUALITY_BAD: return "bad";
    case v1::QUALITY_UNCERTAIN: return "uncertain";
    default: return "unknown";
  }
}

std::string severity_text(v1::AlarmEvent::Severity s) {
  switch (s) {
    case v1::AlarmEvent::SEVERITY_CAUTION: return "caution";
    case v1::AlarmEvent::SEVERITY_CRITICAL: return "critical";
    case v1::AlarmEvent::SEVERITY_SENSOR_FAILED: return "sensor_failed";
    default: return "unspecified";
  }
}

// A telemetry's or snapshot's samples as "samples", named by the catalog
// when it is known.
template <class Points, class Samples>
void put_samples(const Points* cat, std::int64_t time_ms, const Samples& samples, json::object& o) {
  json::array out;
  for (const auto& s : samples) {
    json::object js;
    const bool named = cat && s.point() < cat->size();
    js["point"] = named ? (*cat)[s.point()].id : "#" + std::to_string(s.point());
    js["index"] = s.point();
    // Only good and uncertain samples carry a value; unknown and bad have none.
    if (s.quality() != v1::QUALITY_GOOD && s.quality() != v1::QUALITY_UNCERTAIN) js["value"] = nullptr;
    else js["value"] = s.value();
    js["unit"] = named ? (*cat)[s.point()].unit : "";
    js["quality"] = quality_text(s.quality());
    // Both come off the wire: an overflowing sum is shown as unknown.
    std::int64_t sample_ms = 0;
    if (__builtin_add_overflow(time_ms, s.time_offset_ms(), &sample_ms)) {
      js["time_ms"] = nullptr;
    } else {
      js["time_ms"] = sample_ms;
    }
    if (!s.reason().empty()) js["reason"] = s.reason();
    out.push_back(std::move(js));
  }
  o["samples"] = std::move(out);
}

// An alarm's value and limit, null when the event has none (a failed or
// stale sensor), with the reason there is none.
void put_value_and_limit(const v1::AlarmEvent& a, json::object& o) {
  if (a.has_value()) o["value"] = a.value();
  else o["value"] = nullptr;
  if (a.has_limit()) o["limit"] = a.limit();
  else o["limit"] = nullptr;
  if (!a.reason().empty()) o["reason"] = a.reason();
}

// "value 46 limit 45", or "no value: <reason>", of a decoded alarm.
std::string value_and_limit_text(const json::object& a) {
  std::string out;
  const auto& v = a.at("value");
  out = v.is_null() ? "no value" : "value " + format_value(v.to_number<double>());
  if (const auto& l = a.at("limit"); !l.is_null()) out += " limit " + format_value(l.to_number<double>());
  if (auto r = a.find("reason"); r != a.end() && r->value().is_string()) {
    out += ": " + std::string(r->value().as_string());
  }
  return out;
}

// "ab12cd34…": enough of a boot id to tell boots apart in a line.
std::string short_boot(const std::string& boot) {
  return boot.size() > 8 ? boot.substr(0, 8) + "\u2026" : boot;
}

std::string range_text(std::uint64_t first, std::uint64_t last) {
  return first == last ? "sequence " + std::to_string(first)
                       : "sequences " + std::to_string(first) + "-" + std::to_string(last);
}

}  // namespace

WireDecoder::WireDecoder(std::string prefix, WireDecoderOptions options)
    : prefix_(std::move(prefix)), options_(std::move(options)) {
  if (options_.catalog_cache.empty()) return;
  for (auto& c : load_catalogs(options_.catalog_cache, warnings_)) {
    if (!learn_catalog_payload(c.site, c.rack, c.payload)) {
      warnings_.push_back(options_.catalog_cache + "/" + catalog_file_name(c.site, c.rack, c.catalog_id) +
                          ": not a Catalog; delete it");
    }
  }
}

void WireDecoder::remember(const std::string& base, const std::string& catalog_id,
                           std::vector<CatalogPoint> points) {
  auto& rack = catalogs_[base];
  rack[catalog_id] = KnownCatalog{std::move(points), ++use_clock_};
  while (rack.size() > std::max<std::size_t>(options_.catalogs_per_rack, 1)) {
    rack.erase(std::min_element(rack.begin(), rack.end(),
                                [](const auto& a, const auto& b) { return a.second.used < b.second.used; }));
  }
}

const std::vector<WireDecoder::CatalogPoint>* WireDecoder::catalog(const std::string& base,
                                                                   const std::string& catalog_id) {
  auto r = catalogs_.find(base);
  if (r == catalogs_.end()) return nullptr;
  auto c = r->second.find(catalog_id);
  if (c == r->second.end()) return nullptr;
  c->second.used = ++use_clock_;
  return &c->second.points;
}

bool WireDecoder::learn_catalog_payload(const std::string& site, const std::string& rack,
                                        const std::string& payload) {
  v1::Catalog c;
  if (!c.ParseFromString(payload)) return false;
  std::vector<CatalogPoint> points;
  for (const auto& p : c.points()) points.push_back({p.id(), p.unit_symbol()});
  remember(site + "/" + rack, c.catalog_id(), std::move(points));
  return true;
}

std::vector<std::string> WireDecoder::take_warnings() { return std::exchange(warnings_, {}); }

json::object WireDecoder::decode(const std::string& topic, const std::string& payload) {
  json::object o;
  o["topic"] = topic;
  const auto parts = split_topic(prefix_, topic);
  if (!parts) {
    o["error"] = "not a rackwatch topic under prefix '" + prefix_ + "'";
    return o;
  }
  o["type"] = parts->kind;
  o["site"] = parts->site;
  o["rack"] = parts->rack;
  const std::string base = parts->site + "/" + parts->rack;
  auto fail = [&](const char* what) {
    o["error"] = std::string("payload is not a valid ") + what + " (" + plural(payload.size(), "byte") + ")";
    return o;
  };

  if (parts->kind == "status") {
    if (payload.empty()) {
      o["cleared"] = true;  // a retained message deleted
      return o;
    }
    v1::AgentStatus s;
    if (!s.ParseFromString(payload)) return fail("AgentStatus");
    o["state"] = s.state() == v1::AgentStatus::STATE_ONLINE    ? "online"
                 : s.state() == v1::AgentStatus::STATE_OFFLINE ? "offline"
                                                               : "unspecified";
    o["agent_id"] = s.agent_id();
    o["version"] = s.version();
    o["boot_id"] = s.boot_id();
    o["start_time_ms"] = s.start_time_ms();
    o["time_ms"] = s.time_ms();
    o["hostname"] = s.hostname();
    o["catalog_id"] = s.catalog_id();
    o["messages_published"] = s.messages_published();
    o["messages_dropped"] = s.messages_dropped();
    o["telemetry_sequence"] = s.telemetry_sequence();
    if (s.has_outbox()) {
      const auto& b = s.outbox();
      o["outbox"] = json::object{{"pending", b.pending()},   {"in_flight", b.in_flight()}, {"dropped", b.dropped()},
                                 {"skipped", b.skipped()},   {"replayed", b.replayed()}};
    }
    status_boot_[base] = s.boot_id();
  } else if (parts->kind == "catalog") {
    if (payload.empty()) {
      o["cleared"] = true;
      return o;
    }
    v1::Catalog c;
    if (!c.ParseFromString(payload)) return fail("Catalog");
    o["agent_id"] = c.agent_id();
    o["catalog_id"] = c.catalog_id();
    o["time_ms"] = c.time_ms();
    json::array points;
    std::vector<CatalogPoint> known;
    for (const auto& p : c.points()) {
      json::object jp;
      jp["id"] = p.id();
      jp["device"] = p.device();
      jp["quantity"] = p.quantity();
      jp["unit"] = p.unit_symbol();
      jp["location"] = p.location();
      jp["source_type"] = p.source_type();
      jp["interval_ms"] = p.interval_ms();
      points.push_back(std::move(jp));
      known.push_back({p.id(), p.unit_symbol()});
    }
    o["points"] = std::move(points);
    remember(base, c.catalog_id(), std::move(known));
    if (!options_.catalog_cache.empty() && !c.catalog_id().empty()) {
      if (auto problem = save_catalog(options_.catalog_cache, {parts->site, parts->rack, c.catalog_id(), payload});
          !problem.empty()) {
        warnings_.push_back("catalog cache: " + problem);
      }
    }
    if (c.devices_size() > 0) {
      json::array devices;
      for (const auto& d : c.devices()) {
        devices.push_back(json::object{{"name", d.name()},
                                       {"manufacturer", d.manufacturer()},
                                       {"model", d.model()},
                                       {"serial_number", d.serial_number()},
                                       {"version", d.version()}});
      }
      o["devices"] = std::move(devices);
    }
  } else if (parts->kind == "telemetry") {
    v1::Telemetry t;
    if (!t.ParseFromString(payload)) return fail("Telemetry");
    o["agent_id"] = t.agent_id();
    o["boot_id"] = t.boot_id();
    o["sequence"] = t.sequence();
    o["catalog_id"] = t.catalog_id();
    o["source"] = t.source();
    o["time_ms"] = t.time_ms();
    const auto* cat = catalog(base, t.catalog_id());
    o["catalog_known"] = cat != nullptr;
    put_samples(cat, t.time_ms(), t.samples(), o);
  } else if (parts->kind == "snapshot") {
    v1::Snapshot n;
    if (!n.ParseFromString(payload)) return fail("Snapshot");
    o["agent_id"] = n.agent_id();
    o["boot_id"] = n.boot_id();
    o["catalog_id"] = n.catalog_id();
    o["time_ms"] = n.time_ms();
    o["telemetry_sequence"] = n.telemetry_sequence();
    const auto* cat = catalog(base, n.catalog_id());
    o["catalog_known"] = cat != nullptr;
    put_samples(cat, n.time_ms(), n.samples(), o);
  } else if (parts->kind == "alarm") {
    v1::AlarmEvent a;
    if (!a.ParseFromString(payload)) return fail("AlarmEvent");
    o["agent_id"] = a.agent_id();
    o["sequence"] = a.sequence();
    o["point"] = a.point_id();
    o["severity"] = severity_text(a.severity());
    o["raised"] = a.raised();
    put_value_and_limit(a, o);
    o["time_ms"] = a.time_ms();
    o["message"] = a.message();
    o["kind"] = a.kind();
  } else if (parts->kind == "alarms") {
    v1::ActiveAlarms a;
    if (!a.ParseFromString(payload)) return fail("ActiveAlarms");
    o["agent_id"] = a.agent_id();
    o["boot_id"] = a.boot_id();
    o["time_ms"] = a.time_ms();
    // A set kept retained from before the agent's restart says nothing of now.
    const auto boot = status_boot_.find(base);
    o["stale"] = boot != status_boot_.end() && !a.boot_id().empty() && boot->second != a.boot_id();
    json::array active;
    for (const auto& e : a.alarms()) {
      json::object j;
      j["point"] = e.point_id();
      j["kind"] = e.kind();
      j["severity"] = severity_text(e.severity());
      put_value_and_limit(e, j);
      j["time_ms"] = e.time_ms();
      active.push_back(std::move(j));
    }
    o["active"] = std::move(active);
  } else {
    o["error"] = "unknown message kind '" + parts->kind + "'";
  }
  return o;
}

json::object WireDecoder::decode_held(const Held& h) {
  auto o = decode(h.topic, h.payload);
  if (h.retained) o["retained"] = true;
  return o;
}

json::object WireDecoder::report(const std::string& site, const std::string& rack, const SequenceReport& r) const {
  json::object o;
  o["type"] = r.kind == SequenceReport::Kind::duplicate ? "duplicate" : "gap";
  o["site"] = site;
  o["rack"] = rack;
  o["agent_id"] = r.agent_id;
  o["boot_id"] = r.boot_id;
  if (r.kind == SequenceReport::Kind::duplicate) {
    o["sequence"] = r.first;
    return o;
  }
  o["state"] = r.kind == SequenceReport::Kind::gap         ? "provisional"
               : r.kind == SequenceReport::Kind::filled    ? "filled"
                                                           : "confirmed";
  o["first"] = r.first;
  o["last"] = r.last;
  if (r.kind == SequenceReport::Kind::gap) {
    o["missing"] = r.missing;
    if (r.pending) o["pending"] = *r.pending;
    else o["pending"] = nullptr;
  } else if (r.kind == SequenceReport::Kind::confirmed) {
    o["missing"] = r.missing;
    o["dropped_by_agent"] = r.dropped_by_agent;
  }
  return o;
}

std::vector<json::object> WireDecoder::receive(const std::string& topic, const std::string& payload, bool retained,
                                               Clock::time_point now) {
  std::vector<json::object> out;
  const auto parts = split_topic(prefix_, topic);
  const std::string base = parts ? parts->site + "/" + parts->rack : std::string();
  std::vector<SequenceReport> reports;
  std::string catalog_id;
  bool holdable = false;
  if (parts && parts->kind == "telemetry") {
    v1::Telemetry t;
    if (t.ParseFromString(payload)) {
      holdable = true;
      catalog_id = t.catalog_id();
      // As they arrive, not as they are printed: a held message keeps its place.
      reports = sequences_.telemetry(base, t.agent_id(), t.boot_id(), t.sequence());
    }
  } else if (parts && parts->kind == "snapshot") {
    v1::Snapshot n;
    if (n.ParseFromString(payload)) {
      holdable = true;
      catalog_id = n.catalog_id();
    }
  }
  if (holdable && options_.hold.count() > 0 && !catalog(base, catalog_id)) {
    held_.push_back({topic, payload, retained, now + options_.hold, base, catalog_id});
    if (held_.size() > std::max<std::size_t>(options_.max_held, 1)) {
      out.push_back(decode_held(held_.front()));
      held_.pop_front();
    }
  } else {
    auto o = decode(topic, payload);
    if (retained) o["retained"] = true;
    const bool ok = !o.contains("error") && !o.contains("cleared");
    out.push_back(std::move(o));
    if (ok && parts->kind == "status") {
      v1::AgentStatus st;
      st.ParseFromString(payload);
      StatusCounts counts{st.agent_id(), st.boot_id(), st.outbox().pending(), st.telemetry_sequence(),
                          st.messages_dropped() + st.outbox().dropped() + st.outbox().skipped()};
      auto more = sequences_.status(base, counts);
      reports.insert(reports.end(), more.begin(), more.end());
    } else if (ok && parts->kind == "catalog") {
      // The catalog releases what waited for it, in the order it came.
      v1::Catalog c;
      c.ParseFromString(payload);
      std::deque<Held> still;
      for (auto& h : held_) {
        if (h.base == base && h.catalog_id == c.catalog_id()) out.push_back(decode_held(h));
        else still.push_back(std::move(h));
      }
      held_ = std::move(still);
    }
  }
  for (const auto& r : reports) out.push_back(report(parts->site, parts->rack, r));
  return out;
}

std::vector<json::object> WireDecoder::expire(Clock::time_point now) {
  std::vector<json::object> out;
  while (!held_.empty() && held_.front().until <= now) {
    out.push_back(decode_held(held_.front()));
    held_.pop_front();
  }
  return out;
}

std::vector<json::object> WireDecoder::release_all() {
  std::vector<json::object> out;
  for (const auto& h : held_) out.push_back(decode_held(h));
  held_.clear();
  return out;
}

std::optional<WireDecoder::Clock::time_point> WireDecoder::next_expiry() const {
  if (held_.empty()) return std::nullopt;
  return held_.front().until;
}

std::string WireDecoder::to_text(const json::object& d) const {
  std::ostringstream out;
  auto str = [&](const char* k) -> std::string {
    auto it = d.find(k);
    if (it == d.end()) return {};
    if (it->value().is_string()) return std::string(it->value().as_string());
    return json::serialize(it->value());
  };
  auto time_of = [&](const char* k) -> std::string {
    auto it = d.find(k);
    if (it == d.end() || !it->value().is_int64()) return std::string(23, ' ');
    return format_time_ms(it->value().as_int64());
  };
  const std::string where = str("site") + "/" + str("rack");
  if (d.contains("error")) {
    out << "?  " << str("topic") << ": " << str("error") << '\n';
    return out.str();
  }
  const auto kind = str("type");
  if (d.contains("cleared")) {
    out << where << "  " << kind << " cleared\n";
  } else if (kind == "status") {
    out << time_of("time_ms") << "  " << where << "  status " << str("state") << "  agent "
        << str("agent_id") << "  version " << str("version") << "  boot " << str("boot_id")
        << "  published " << str("messages_published") << "  dropped " << str("messages_dropped");
    if (const auto* outbox = d.if_contains("outbox"); outbox && outbox->is_object()) {
      out << "  backlog " << json::serialize(outbox->as_object().at("pending"));
    }
    out << '\n';
  } else if (kind == "catalog") {
    out << time_of("time_ms") << "  " << where << "  catalog " << str("catalog_id") << ": "
        << plural(d.at("points").as_array().size(), "point") << '\n';
    if (const auto* devices = d.if_contains("devices")) {
      for (const auto& dv : devices->as_array()) {
        const auto& o = dv.as_object();
        auto field = [&](const char* key) { return printable(std::string(o.at(key).as_string())); };
        out << "  device " << field("name") << ": " << field("manufacturer") << " " << field("model") << ", serial "
            << field("serial_number") << ", version " << field("version") << '\n';
      }
    }
  } else if (kind == "telemetry" || kind == "snapshot") {
    out << time_of("time_ms") << "  " << where << "  ";
    if (kind == "telemetry") out << "telemetry #" << str("sequence") << "  " << str("source");
    else out << "snapshot of " << plural(d.at("samples").as_array().size(), "point") << " (to telemetry #"
             << str("telemetry_sequence") << ")";
    if (!d.at("catalog_known").as_bool()) out << "  (catalog " << str("catalog_id") << " not seen yet)";
    out << '\n';
    std::vector<std::vector<std::string>> rows;
    for (const auto& sv : d.at("samples").as_array()) {
      const auto& s = sv.as_object();
      const auto& v = s.at("value");
      const std::string unit(s.at("unit").as_string());
      const auto shown = v.is_null() ? DisplayValue{"-", unit} : display_value(v.to_number<double>(), unit);
      std::string quality(s.at("quality").as_string());
      std::string reason = s.contains("reason") ? std::string(s.at("reason").as_string()) : "";
      std::string when;
      if (kind == "snapshot") {
        const auto& t = s.at("time_ms");
        when = t.is_int64() ? format_time_ms(t.as_int64()) : "";
      }
      rows.push_back({"   ", std::string(s.at("point").as_string()), shown.value, shown.unit,
                      quality == "good" ? "" : quality + (reason.empty() ? "" : ": " + reason)});
      if (kind == "snapshot") rows.back().insert(rows.back().begin() + 4, when);
    }
    if (kind == "snapshot") print_table(out, rows, {false, false, true, false, false, false});
    else print_table(out, rows, {false, false, true, false, false});
  } else if (kind == "alarms") {
    const auto& active = d.at("active").as_array();
    out << time_of("time_ms") << "  " << where << "  alarms: "
        << (active.empty() ? std::string("none active") : plural(active.size(), "active alarm"));
    if (const auto* stale = d.if_contains("stale"); stale && stale->is_bool() && stale->as_bool()) {
      out << "  (from an earlier boot: stale)";
    }
    out << '\n';
    for (const auto& v : active) {
      const auto& a = v.as_object();
      auto text = [&](const char* k) { return std::string(a.at(k).as_string()); };
      out << "    " << text("point") << "  " << text("kind") << "  " << text("severity") << "  "
          << value_and_limit_text(a) << '\n';
    }
  } else if (kind == "duplicate") {
    out << "! duplicate: sequence " << str("sequence") << " of boot " << short_boot(str("boot_id")) << "  " << where
        << '\n';
  } else if (kind == "gap") {
    const auto number = [&](const char* k) { return d.at(k).to_number<std::uint64_t>(); };
    const auto state = str("state");
    out << "! gap: " << range_text(number("first"), number("last")) << " of boot " << short_boot(str("boot_id"))
        << " ";
    if (state == "filled") {
      out << "filled by late arrivals";
    } else if (state == "confirmed") {
      const auto missing = number("missing");
      const auto dropped = number("dropped_by_agent");
      out << "missing (confirmed: the backlog drained; ";
      if (dropped == missing) out << "all dropped by the agent)";
      else if (dropped > 0) out << dropped << " dropped by the agent, " << (missing - dropped) << " lost)";
      else out << plural(missing, "message") << " lost)";
    } else {
      const auto& pending = d.at("pending");
      out << "missing (provisional: ";
      if (pending.is_null()) out << "no status seen yet)";
      else if (pending.to_number<std::uint64_t>() > 0) out << "backlog of " << str("pending") << " pending)";
      else out << "until the agent's next status)";
    }
    out << "  " << where << '\n';
  } else if (kind == "alarm") {
    out << time_of("time_ms") << "  " << where << "  alarm " << str("severity") << " "
        << (d.at("raised").as_bool() ? "RAISED" : "cleared") << "  " << str("point") << "  "
        << value_and_limit_text(d) << '\n';
  }
  return out.str();
}

}  // namespace rackwatch::cli
