// SparkplugDecoder::to_text: a decoded Sparkplug message as `tail` shows it
// to people, in the native messages' layout.
#include <boost/json.hpp>
#include <sstream>

#include "core/plural.hpp"
#include "diag/format.hpp"
#include "diag/sparkplug_decoder.hpp"

namespace rackwatch::cli {

namespace json = boost::json;

namespace {

std::string text_of(const json::value& v) {
  if (v.is_string()) return std::string(v.as_string());
  if (v.is_double()) return format_value(v.as_double());
  return json::serialize(v);
}

std::string time_text(const json::value* v) {
  if (!v || !v->is_int64()) return std::string(23, ' ');
  return format_time_ms(v->as_int64());
}

// A value with its unit, prefixed for people as the native tail shows them.
DisplayValue shown(const json::value& v, const std::string& unit) {
  if (v.is_null()) return {"-", unit};
  if (v.is_bool()) return {v.as_bool() ? "true" : "false", unit};
  if (v.is_number()) return display_value(v.to_number<double>(), unit);
  return {text_of(v), unit};
}

// What else there is to say of a metric: quality when not good, historical
// (with when it was taken), alias of a birth and the other properties.
std::string notes(const json::object& m, bool birth) {
  std::vector<std::string> out;
  if (const auto* q = m.if_contains("quality"); q && q->is_string() && q->as_string() != "good") {
    out.push_back(text_of(*q));
  }
  if (const auto* h = m.if_contains("historical"); h && h->is_bool() && h->as_bool()) {
    out.push_back("historical " + time_text(m.if_contains("timestamp_ms")));
  }
  if (const auto* a = m.if_contains("alias"); birth && a) out.push_back("alias " + text_of(*a));
  if (const auto* p = m.if_contains("properties"); p && p->is_object()) {
    for (const auto& kv : p->as_object()) out.push_back(std::string(kv.key()) + "=" + text_of(kv.value()));
  }
  std::string text;
  for (const auto& n : out) text += (text.empty() ? "" : ", ") + n;
  return text;
}

}  // namespace

std::string SparkplugDecoder::to_text(const json::object& d) const {
  std::ostringstream out;
  auto str = [&](const char* k) -> std::string {
    const auto* v = d.if_contains(k);
    return v ? text_of(*v) : std::string();
  };
  if (d.contains("error")) {
    out << "?  " << str("topic") << ": " << str("error") << '\n';
    return out.str();
  }
  const auto type = str("type");
  if (type == "STATE") {
    out << time_text(d.if_contains("timestamp_ms")) << "  STATE " << str("host_id") << "  ";
    if (d.contains("cleared")) out << "cleared\n";
    else out << (d.at("online").as_bool() ? "online" : "offline") << '\n';
    return out.str();
  }
  std::string where = str("group") + "/" + str("edge_node");
  if (const auto* dev = d.if_contains("device"); dev && dev->is_string()) where += "/" + text_of(*dev);
  out << time_text(d.if_contains("timestamp_ms")) << "  " << where << "  " << type;
  if (const auto* seq = d.if_contains("seq"); seq && !seq->is_null()) out << " #" << text_of(*seq);
  if (const auto* bd = d.if_contains("bd_seq"); bd && !bd->is_null()) out << "  bdSeq " << text_of(*bd);
  const auto& metrics = d.at("metrics").as_array();
  const bool birth = type == "NBIRTH" || type == "DBIRTH";
  if (birth) out << ": " << plural(metrics.size(), "metric");
  out << '\n';
  std::vector<std::vector<std::string>> rows;
  for (const auto& mv : metrics) {
    const auto& m = mv.as_object();
    const auto& name = m.at("name");
    std::string shown_name = name.is_string() ? std::string(name.as_string())
                             : m.contains("alias") ? "alias " + text_of(m.at("alias")) + " (not born)"
                                                   : "(no name)";
    // bdSeq is on the header line already.
    if (shown_name == "bdSeq" && d.contains("bd_seq")) continue;
    const auto v = shown(m.at("value"), std::string(m.at("unit").as_string()));
    rows.push_back({"   ", shown_name, v.value, v.unit, notes(m, birth)});
  }
  if (!rows.empty()) print_table(out, rows, {false, false, true, false, false});
  for (const auto& p : d.at("problems").as_array()) out << "    ! " << text_of(p) << '\n';
  return out.str();
}

}  // namespace rackwatch::cli
