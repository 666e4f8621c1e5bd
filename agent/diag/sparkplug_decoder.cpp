#include "diag/sparkplug_decoder.hpp"

#include <boost/json.hpp>
#include <limits>
#include <string_view>
#include <vector>

#include "core/plural.hpp"
#include "core/printable.hpp"
#include "sparkplug_b/sparkplug_b.pb.h"

namespace rackwatch::cli {

namespace json = boost::json;
using Payload = sparkplug_b::Payload;

namespace {

constexpr std::string_view kNamespace = "spBv1.0";
// Property keys with keys of their own in the output (as the agent sends them).
constexpr std::string_view kUnitProperty = "engUnit";
constexpr std::string_view kQualityProperty = "Quality";
constexpr std::string_view kBdSeqMetric = "bdSeq";

std::vector<std::string> split(const std::string& topic) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const auto slash = topic.find('/', start);
    parts.push_back(topic.substr(start, slash - start));
    if (slash == std::string::npos) return parts;
    start = slash + 1;
  }
}

// A string of the payload: Sparkplug's are proto2's, not checked as UTF-8
// when parsed, and the JSON printed must stay valid.
json::string wire_text(const std::string& s) { return json::string(printable(s)); }

// Milliseconds off the wire (uint64): null past what JSON's int64 holds.
json::value time_value(std::uint64_t ms) {
  if (ms > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return nullptr;
  return static_cast<std::int64_t>(ms);
}

// Signed types travel as their two's complement bits in the unsigned fields.
json::value int_value(std::uint32_t type, std::uint32_t v) {
  switch (type) {
    case sparkplug_b::Int8: return static_cast<std::int8_t>(v);
    case sparkplug_b::Int16: return static_cast<std::int16_t>(v);
    case sparkplug_b::Int32: return static_cast<std::int32_t>(v);
    default: return v;
  }
}

json::value long_value(std::uint32_t type, std::uint64_t v) {
  if (type == sparkplug_b::Int64 || type == sparkplug_b::DateTime) return static_cast<std::int64_t>(v);
  return v;
}

// The scalar a metric or property value holds, by which field is set (the
// data type only says how to read the integers); null when none is.
template <class M>
json::value scalar(const M& m, std::uint32_t type) {
  if (m.has_int_value()) return int_value(type, m.int_value());
  if (m.has_long_value()) return long_value(type, m.long_value());
  if (m.has_float_value()) return static_cast<double>(m.float_value());
  if (m.has_double_value()) return m.double_value();
  if (m.has_boolean_value()) return m.boolean_value();
  if (m.has_string_value()) return wire_text(m.string_value());
  return nullptr;
}

json::object property_set(const Payload::PropertySet& set, json::array& problems);

json::value property_value(const Payload::PropertyValue& v, json::array& problems) {
  if (v.is_null()) return nullptr;
  if (v.has_propertyset_value()) return property_set(v.propertyset_value(), problems);
  if (v.has_propertysets_value()) {
    json::array list;
    for (const auto& s : v.propertysets_value().propertyset()) list.push_back(property_set(s, problems));
    return list;
  }
  return scalar(v, v.type());
}

json::object property_set(const Payload::PropertySet& set, json::array& problems) {
  if (set.keys_size() != set.values_size()) {
    problems.push_back(json::string("a property set has " + plural(static_cast<std::uint64_t>(set.keys_size()), "key") +
                                    " for " + plural(static_cast<std::uint64_t>(set.values_size()), "value")));
  }
  json::object o;
  const int n = std::min(set.keys_size(), set.values_size());
  for (int i = 0; i < n; ++i) o[wire_text(set.keys(i))] = property_value(set.values(i), problems);
  return o;
}

// A metric's value beyond the scalars, summed up: what it is and its size.
json::value metric_value(const Payload::Metric& m, std::uint32_t type) {
  if (m.has_bytes_value()) return json::object{{"bytes", m.bytes_value().size()}};
  if (m.has_dataset_value()) {
    json::array columns;
    for (const auto& c : m.dataset_value().columns()) columns.push_back(wire_text(c));
    return json::object{{"columns", std::move(columns)}, {"rows", m.dataset_value().rows_size()}};
  }
  if (m.has_template_value()) return json::object{{"template", wire_text(m.template_value().template_ref())}};
  return scalar(m, type);
}

// OPC quality codes, as the agent sends them: 192 good, 64 uncertain, 0 bad.
json::value quality_text(const json::value& code) {
  if (code.is_null()) return nullptr;
  if (code.is_int64() || code.is_uint64()) {
    const auto c = code.to_number<std::int64_t>();
    if (c == 192) return "good";
    if (c == 64) return "uncertain";
    if (c == 0) return "bad";
  }
  return json::string("code " + json::serialize(code));
}

bool is_node_type(std::string_view t) { return t == "NBIRTH" || t == "NDEATH" || t == "NDATA" || t == "NCMD"; }
bool is_device_type(std::string_view t) { return t == "DBIRTH" || t == "DDEATH" || t == "DDATA" || t == "DCMD"; }
// The messages a node numbers with seq (commands come from hosts; NDEATH has none).
bool is_counted(std::string_view t) { return t != "NDEATH" && t != "NCMD" && t != "DCMD"; }

json::object decode_state(json::object o, const std::string& host, const std::string& payload) {
  o["type"] = "STATE";
  o["host_id"] = host;
  if (payload.empty()) {
    o["cleared"] = true;  // a retained message deleted
    return o;
  }
  boost::system::error_code ec;
  const auto v = json::parse(payload, ec);
  const auto* state = ec ? nullptr : v.if_object();
  const auto* online = state ? state->if_contains("online") : nullptr;
  const auto* time = state ? state->if_contains("timestamp") : nullptr;
  if (!online || !online->is_bool() || !time || !(time->is_int64() || time->is_uint64())) {
    o["error"] = "payload is not a STATE {\"online\": bool, \"timestamp\": ms} (" + plural(payload.size(), "byte") +
                 ")";
    return o;
  }
  o["online"] = online->as_bool();
  o["timestamp_ms"] = time->is_int64() ? json::value(time->as_int64()) : time_value(time->as_uint64());
  return o;
}

}  // namespace

bool is_sparkplug_topic(const std::string& topic) {
  return topic.size() > kNamespace.size() && topic.compare(0, kNamespace.size(), kNamespace) == 0 &&
         topic[kNamespace.size()] == '/';
}

json::object SparkplugDecoder::decode(const std::string& topic, const std::string& payload) {
  json::object o;
  o["topic"] = topic;
  o["format"] = "sparkplug";
  const auto parts = split(topic);
  if (parts.size() == 3 && parts[0] == kNamespace && parts[1] == "STATE" && !parts[2].empty()) {
    return decode_state(std::move(o), parts[2], payload);
  }
  bool shaped = parts.size() >= 4 && parts.size() <= 5 && parts[0] == kNamespace;
  for (const auto& p : parts) shaped = shaped && !p.empty();
  if (!shaped) {
    o["error"] = "not a Sparkplug B topic (spBv1.0/GROUP/TYPE/EDGE_NODE[/DEVICE], or spBv1.0/STATE/HOST)";
    return o;
  }
  const auto& type = parts[2];
  if (!is_node_type(type) && !is_device_type(type)) {
    o["error"] = "unknown Sparkplug message type '" + type + "'";
    return o;
  }
  o["type"] = type;
  o["group"] = parts[1];
  o["edge_node"] = parts[3];
  o["device"] = parts.size() == 5 ? json::value(parts[4]) : nullptr;
  if (is_node_type(type) != (parts.size() == 4)) {
    o["error"] = type + (parts.size() == 4 ? " needs a device: spBv1.0/GROUP/" + type + "/EDGE_NODE/DEVICE"
                                           : " is a node's: spBv1.0/GROUP/" + type + "/EDGE_NODE, without a device");
    return o;
  }
  Payload p;
  if (!p.ParseFromString(payload)) {
    o["error"] = "payload is not a valid Sparkplug B Payload (" + plural(payload.size(), "byte") + ")";
    return o;
  }
  o["seq"] = p.has_seq() ? json::value(p.seq()) : nullptr;
  o["timestamp_ms"] = p.has_timestamp() ? time_value(p.timestamp()) : nullptr;

  json::array problems;
  auto& node = nodes_[parts[1] + "/" + parts[3]];
  if (is_counted(type)) {
    if (!p.has_seq()) {
      problems.push_back("no seq");
    } else {
      const std::uint64_t expected = type == "NBIRTH" ? 0 : node.next_seq.value_or(p.seq());
      if (p.seq() != expected) {
        problems.push_back(json::string("seq gap: expected " + std::to_string(expected) + ", got " +
                                        std::to_string(p.seq())));
      }
      node.next_seq = (p.seq() + 1) % 256;
    }
  }

  const bool birth = type == "NBIRTH" || type == "DBIRTH";
  // The births that name this message's aliases; a birth names its own.
  const Births* births = nullptr;
  if (!birth) {
    if (parts.size() == 4) {
      births = &node.node;
    } else if (auto d = node.devices.find(parts[4]); d != node.devices.end()) {
      births = &d->second;
    }
  }
  Births born;
  std::optional<std::uint64_t> bd_seq;
  std::vector<std::uint64_t> unborn;
  json::array metrics;
  for (const auto& m : p.metrics()) {
    const Born* def = nullptr;
    if (births && m.has_alias() && !m.has_name()) {
      if (auto b = births->by_alias.find(m.alias()); b != births->by_alias.end()) def = &b->second;
    } else if (births && m.has_name()) {
      if (auto b = births->by_name.find(m.name()); b != births->by_name.end()) def = &b->second;
    }
    json::object jm;
    if (m.has_name()) jm["name"] = wire_text(m.name());
    else if (def) jm["name"] = wire_text(def->name);
    else jm["name"] = nullptr;
    if (m.has_alias()) jm["alias"] = m.alias();
    if (!m.has_name() && !def) {
      if (birth) problems.push_back("a metric of the birth has no name");
      else if (m.has_alias()) unborn.push_back(m.alias());
      else problems.push_back("a metric without name or alias");
    }
    const std::uint32_t datatype = m.has_datatype() ? m.datatype() : def ? def->datatype : 0;
    if (datatype != 0) {
      const bool known = sparkplug_b::DataType_IsValid(static_cast<int>(datatype));
      jm["datatype"] = known ? json::string(sparkplug_b::DataType_Name(static_cast<sparkplug_b::DataType>(datatype)))
                             : json::string("type " + std::to_string(datatype));
    }
    jm["value"] = m.is_null() ? json::value(nullptr) : metric_value(m, datatype);
    // The unit and the quality have keys of their own; the others stay in order.
    std::string unit = def ? def->unit : "";
    json::value quality = nullptr;
    json::object properties;
    if (m.has_properties()) {
      for (auto& kv : property_set(m.properties(), problems)) {
        if (kv.key() == kUnitProperty) {
          if (kv.value().is_string()) unit = kv.value().as_string();
        } else if (kv.key() == kQualityProperty) {
          quality = quality_text(kv.value());
        } else {
          properties[kv.key()] = std::move(kv.value());
        }
      }
    }
    jm["unit"] = unit;
    jm["quality"] = std::move(quality);
    jm["historical"] = m.is_historical();
    if (m.is_transient()) jm["transient"] = true;
    jm["timestamp_ms"] = m.has_timestamp() ? time_value(m.timestamp()) : nullptr;
    if (m.has_metadata() && m.metadata().has_description()) jm["description"] = wire_text(m.metadata().description());
    if (!properties.empty()) jm["properties"] = std::move(properties);
    if (m.has_name() && m.name() == kBdSeqMetric && m.has_long_value()) bd_seq = m.long_value();
    if (birth && m.has_name()) {
      Born b{m.name(), datatype, unit};
      if (m.has_alias()) born.by_alias[m.alias()] = b;
      born.by_name[m.name()] = std::move(b);
    }
    metrics.push_back(std::move(jm));
  }
  if (!unborn.empty()) {
    std::string list;
    for (const auto a : unborn) list += (list.empty() ? "" : ", ") + std::to_string(a);
    problems.push_back(json::string((unborn.size() == 1 ? "alias " : "aliases ") + list + " not born in " +
                                    (parts.size() == 4 ? "the NBIRTH" : "a DBIRTH of " + parts[4])));
  }

  if (type == "NBIRTH" || type == "NDEATH") {
    o["bd_seq"] = bd_seq ? json::value(*bd_seq) : nullptr;
    if (!bd_seq) problems.push_back(json::string(type + " without bdSeq"));
  }
  if (type == "NBIRTH") {
    // A new session: the devices' births of the last one no longer hold.
    node.node = std::move(born);
    node.devices.clear();
    node.bd_seq = bd_seq;
  } else if (type == "DBIRTH") {
    node.devices[parts[4]] = std::move(born);
  } else if (type == "NDEATH") {
    if (bd_seq && node.bd_seq && *bd_seq != *node.bd_seq) {
      // A will of an earlier connection, delivered late: this session lives on.
      problems.push_back(json::string("bdSeq " + std::to_string(*bd_seq) + " is not the NBIRTH's " +
                                      std::to_string(*node.bd_seq) + ": the death of an earlier session"));
    } else {
      node = Node{};
    }
  }
  // A DDEATH keeps its device's births: the readings it stored before it
  // died may still come, as historical data by those aliases.
  o["metrics"] = std::move(metrics);
  o["problems"] = std::move(problems);
  return o;
}

}  // namespace rackwatch::cli
