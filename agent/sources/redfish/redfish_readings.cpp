#include "sources/redfish/redfish_readings.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <initializer_list>
#include <string>

#include <boost/json/object.hpp>
#include <boost/json/string.hpp>

namespace rackwatch::redfish {

namespace json = boost::json;

namespace {

constexpr std::size_t kMaxName = 64;

const json::object* object_of(const json::value& v) { return v.if_object(); }

std::optional<double> number(const json::value* v) {
  if (!v) return std::nullopt;
  if (v->is_double()) return v->get_double();
  if (v->is_int64()) return static_cast<double>(v->get_int64());
  if (v->is_uint64()) return static_cast<double>(v->get_uint64());
  return std::nullopt;
}

// An ISO 8601 duration as Redfish writes DwellTime ("PT5M", "PT1M30S",
// "P1DT2H", "PT0.5S"); none when it is not one.
std::optional<std::chrono::milliseconds> iso_duration(std::string_view text) {
  if (text.size() < 3 || text.front() != 'P') return std::nullopt;
  double seconds = 0;
  bool in_time = false;
  bool any = false;
  std::size_t i = 1;
  while (i < text.size()) {
    if (text[i] == 'T') {
      in_time = true;
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < text.size() && (std::isdigit(static_cast<unsigned char>(text[j])) || text[j] == '.')) ++j;
    if (j == i || j == text.size()) return std::nullopt;
    double n = 0;
    try {
      n = std::stod(std::string(text.substr(i, j - i)));
    } catch (const std::exception&) {
      return std::nullopt;
    }
    const char unit = text[j];
    if (unit == 'D' && !in_time) {
      seconds += n * 86400;
    } else if (unit == 'H' && in_time) {
      seconds += n * 3600;
    } else if (unit == 'M' && in_time) {
      seconds += n * 60;
    } else if (unit == 'S' && in_time) {
      seconds += n;
    } else {
      return std::nullopt;
    }
    any = true;
    i = j + 1;
  }
  if (!any || !(seconds < 1e9)) return std::nullopt;
  return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
}

}  // namespace

const json::value* member(const json::value& v, std::string_view key) {
  const auto* o = object_of(v);
  return o ? o->if_contains(key) : nullptr;
}

std::string point_name(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (out.size() == kMaxName) break;
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
    out.push_back(ok ? c : '_');
  }
  if (out.find_first_not_of('_') == std::string::npos) return {};
  return out;
}

std::string text(const json::value& resource, std::string_view key) {
  const auto* v = member(resource, key);
  if (!v || !v->is_string()) return {};
  return std::string(v->get_string());
}

std::optional<std::string> link(const json::value& resource, std::string_view key) {
  const auto* v = member(resource, key);
  if (!v) return std::nullopt;
  auto id = text(*v, "@odata.id");
  if (id.empty()) return std::nullopt;
  return id;
}

std::vector<std::string> members(const json::value& collection) {
  std::vector<std::string> out;
  const auto* list = member(collection, "Members");
  if (!list || !list->is_array()) return out;
  for (const auto& m : list->get_array()) {
    auto id = text(m, "@odata.id");
    if (!id.empty()) out.push_back(std::move(id));
  }
  return out;
}

Result<FoundPoint, std::string> sensor_point(const json::value& sensor, std::string_view uri) {
  if (!object_of(sensor)) return std::string(uri) + ": not a JSON object";
  std::string id = text(sensor, "Id");
  if (id.empty()) {
    const auto slash = uri.find_last_of('/');
    id = std::string(slash == std::string_view::npos ? uri : uri.substr(slash + 1));
  }
  FoundPoint p;
  p.name = point_name(id);
  if (p.name.empty()) return std::string(uri) + ": no usable Id for a point name";
  if (!member(sensor, "Reading")) return std::string(uri) + ": no Reading";
  auto kind = sensor_kind(text(sensor, "ReadingType"), text(sensor, "ReadingUnits"));
  if (!kind) return std::string(uri) + ": " + kind.error();
  p.kind = std::move(kind).value();
  p.resource = std::string(uri);
  p.pointer = "/Reading";
  p.description = text(sensor, "Name");
  p.thresholds = sensor_thresholds(sensor, p.kind);
  return p;
}

std::optional<ThresholdConfig> sensor_thresholds(const json::value& sensor, const ReadingKind& kind) {
  const auto* all = member(sensor, "Thresholds");
  if (!all || !all->is_object()) return std::nullopt;
  ThresholdConfig t;
  double hysteresis = 0;
  std::optional<std::chrono::milliseconds> dwell;
  // The limit of the first of `names` that has a Reading, in the canonical unit.
  auto limit = [&](std::initializer_list<std::string_view> names) -> std::optional<double> {
    for (auto name : names) {
      const auto* one = member(*all, name);
      const auto value = one ? number(member(*one, "Reading")) : std::nullopt;
      if (!value) continue;
      const double canonical = *value * kind.from.factor + kind.from.offset;
      if (!std::isfinite(canonical)) continue;
      if (const auto h = number(member(*one, "HysteresisReading"))) {
        const double width = std::fabs(*h * kind.from.factor);
        if (std::isfinite(width)) hysteresis = std::max(hysteresis, width);
      }
      const auto* d = member(*one, "DwellTime");
      if (const auto time = d && d->is_string() ? iso_duration(d->get_string()) : std::nullopt) {
        dwell = dwell ? std::min(*dwell, *time) : *time;
      }
      return canonical;
    }
    return std::nullopt;
  };
  t.low_caution = limit({"LowerCaution"});
  t.low_critical = limit({"LowerCritical", "LowerFatal"});
  t.high_caution = limit({"UpperCaution"});
  t.high_critical = limit({"UpperCritical", "UpperFatal"});
  if (!t.low_caution && !t.low_critical && !t.high_caution && !t.high_critical) return std::nullopt;
  // The pipeline wants limits in order; a service whose limits cross is
  // taken at its critical ones.
  if (t.low_caution && t.low_critical && *t.low_caution < *t.low_critical) t.low_caution.reset();
  if (t.high_caution && t.high_critical && *t.high_caution > *t.high_critical) t.high_caution.reset();
  const auto low = t.low_caution ? t.low_caution : t.low_critical;
  const auto high = t.high_caution ? t.high_caution : t.high_critical;
  if (low && high && *low >= *high) return std::nullopt;
  t.hysteresis = hysteresis;
  t.delay = dwell.value_or(std::chrono::milliseconds(0));
  return t;
}

RawReading read_value(const json::value& body, std::string_view pointer, std::string_view uri, TimePoint now,
                      const States& states) {
  boost::system::error_code ec;
  const json::value* v = body.find_pointer(pointer, ec);
  const std::string where = std::string(uri) + " " + std::string(pointer);
  if (!v) return RawReading::failure(where + " is missing", now);
  if (v->is_null()) {
    // A sensor that is absent or disabled says so in its Status.
    std::string why = where + " is null: the device has no value";
    const auto* status = member(body, "Status");
    if (const auto state = status ? text(*status, "State") : std::string(); !state.empty() && state != "Enabled") {
      why += " (Status.State " + state + ")";
    }
    return RawReading::failure(why, now);
  }
  if (!states.empty()) {
    if (v->is_string()) {
      for (const auto& [state, value] : states) {
        if (v->get_string() == state) return RawReading::success(value, now);
      }
      std::string known;
      for (const auto& s : states) known += (known.empty() ? "" : ", ") + s.first;
      return RawReading::failure(where + " is '" + std::string(v->get_string().subview().substr(0, 64)) +
                                     "', none of " + known,
                                 now);
    }
    return RawReading::failure(where + " is not a text", now);
  }
  // JSON has no NaN, but Boost.JSON (1.81) reads a zero with an exponent
  // past 308 ("0e400") as one: 0 times an infinite power of ten.
  if (v->is_double() && std::isnan(v->get_double())) return RawReading::failure(where + " is not a number (NaN)", now);
  if (const auto n = number(v); n && std::isfinite(*n)) return RawReading::success(*n, now);
  return RawReading::failure(where + " is not a number", now);
}

const json::value* expanded_member(const json::value& collection, std::string_view uri) {
  const auto* list = member(collection, "Members");
  if (!list || !list->is_array()) return nullptr;
  for (const auto& m : list->get_array()) {
    const auto* id = member(m, "@odata.id");
    if (id && id->is_string() && id->get_string() == uri) return &m;
  }
  return nullptr;
}

bool members_expanded(const json::value& collection) {
  const auto* list = member(collection, "Members");
  if (!list || !list->is_array()) return false;
  for (const auto& m : list->get_array()) {
    const auto* o = m.if_object();
    if (!o || o->size() < 2) return false;
  }
  return true;
}

RawReading read_point(const json::value& body, const FoundPoint& p, TimePoint now) {
  if (p.via.empty()) return read_value(body, p.pointer, p.resource, now, p.states);
  const auto* resource = expanded_member(body, p.resource);
  if (!resource) return RawReading::failure(p.resource + " is no longer a member of " + p.via, now);
  return read_value(*resource, p.pointer, p.resource, now, p.states);
}

}  // namespace rackwatch::redfish
