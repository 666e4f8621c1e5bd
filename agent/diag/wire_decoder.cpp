#include "diag/wire_decoder.hpp"

#include <boost/json.hpp>
#include <sstream>

#include "core/plural.hpp"
#include "core/printable.hpp"
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
  if (parts.size() != 3) return std::nullopt;
  return TopicParts{parts[0], parts[1], parts[2]};
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

}  // namespace

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
    auto& known = catalogs_[base][c.catalog_id()];
    known.clear();
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
    const std::vector<CatalogPoint>* cat = nullptr;
    if (auto r = catalogs_.find(base); r != catalogs_.end()) {
      if (auto c = r->second.find(t.catalog_id()); c != r->second.end()) cat = &c->second;
    }
    o["catalog_known"] = cat != nullptr;
    json::array samples;
    for (const auto& s : t.samples()) {
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
      if (__builtin_add_overflow(t.time_ms(), s.time_offset_ms(), &sample_ms)) {
        js["time_ms"] = nullptr;
      } else {
        js["time_ms"] = sample_ms;
      }
      if (!s.reason().empty()) js["reason"] = s.reason();
      samples.push_back(std::move(js));
    }
    o["samples"] = std::move(samples);
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
    o["time_ms"] = a.time_ms();
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
        << "  published " << str("messages_published") << "  dropped " << str("messages_dropped")
        << '\n';
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
  } else if (kind == "telemetry") {
    out << time_of("time_ms") << "  " << where << "  telemetry #" << str("sequence") << "  "
        << str("source");
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
      rows.push_back({"   ", std::string(s.at("point").as_string()), shown.value, shown.unit,
                      quality == "good" ? "" : quality + (reason.empty() ? "" : ": " + reason)});
    }
    print_table(out, rows, {false, false, true, false, false});
  } else if (kind == "alarms") {
    const auto& active = d.at("active").as_array();
    out << time_of("time_ms") << "  " << where << "  " << plural(active.size(), "active alarm") << '\n';
    for (const auto& v : active) {
      const auto& a = v.as_object();
      auto text = [&](const char* k) { return std::string(a.at(k).as_string()); };
      out << "    " << text("point") << "  " << text("kind") << "  " << text("severity") << "  "
          << value_and_limit_text(a) << '\n';
    }
  } else if (kind == "alarm") {
    out << time_of("time_ms") << "  " << where << "  alarm " << str("severity") << " "
        << (d.at("raised").as_bool() ? "RAISED" : "cleared") << "  " << str("point") << "  "
        << value_and_limit_text(d) << '\n';
  }
  return out.str();
}

}  // namespace rackwatch::cli
