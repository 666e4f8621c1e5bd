// $expand as a Redfish service does it (DSP0266 "Query parameters"), for
// the tests' services that serve mockup files: the mockups hold each
// resource alone, so the expanded answer is built here. "$expand=." (or
// "*", or "~") with an optional "($levels=N)" replaces each reference
// object ({"@odata.id": X} and nothing else) with the resource X, to N
// levels; "." leaves what is under Links as it is.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

namespace rackwatch::test {

struct ExpandQuery {
  char which = 0;  // '.', '*' or '~'
  int levels = 1;
};

// The $expand of a request target's query, if it asks for one.
inline std::optional<ExpandQuery> expand_of(std::string_view target) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  const auto at = target.find("$expand=", q);
  if (at == std::string_view::npos || at + 8 >= target.size()) return std::nullopt;
  ExpandQuery e;
  e.which = target[at + 8];
  if (e.which != '.' && e.which != '*' && e.which != '~') return std::nullopt;
  if (const auto l = target.find("($levels=", at); l != std::string_view::npos) {
    e.levels = std::atoi(std::string(target.substr(l + 9)).c_str());
    if (e.levels < 1) e.levels = 1;
  }
  return e;
}

using ResourceLoader = std::function<std::optional<boost::json::value>(const std::string& uri)>;

inline void expand_value(boost::json::value& v, int levels, bool under_links, const ExpandQuery& q,
                         const ResourceLoader& load) {
  if (levels <= 0) return;
  if (auto* a = v.if_array()) {
    for (auto& e : *a) expand_value(e, levels, under_links, q, load);
    return;
  }
  auto* o = v.if_object();
  if (!o) return;
  if (o->size() == 1 && o->contains("@odata.id") && o->at("@odata.id").is_string()) {
    const bool wanted = under_links ? q.which != '.' : q.which != '~';
    if (!wanted) return;
    const std::string uri(o->at("@odata.id").as_string());
    // A reference into a resource ("...#/Temperatures/0") is left as it is.
    if (uri.find('#') != std::string::npos) return;
    if (auto resource = load(uri)) {
      // A service names a resource by where it serves it; a mockup's file
      // may say otherwise (public-cooling-unit's SecondaryHeatLoad is a
      // copy of PrimaryHeatLoad, @odata.id included).
      if (auto* r = resource->if_object()) (*r)["@odata.id"] = uri;
      v = std::move(*resource);
      expand_value(v, levels - 1, false, q, load);
    }
    return;
  }
  for (auto& [key, child] : *o) expand_value(child, levels, under_links || key == "Links", q, load);
}

// `body` (the resource asked for) with its references expanded as `q` asks.
inline void expand(boost::json::value& body, const ExpandQuery& q, const ResourceLoader& load) {
  auto* o = body.if_object();
  if (!o) return;
  for (auto& [key, child] : *o) expand_value(child, q.levels, key == "Links", q, load);
}

}  // namespace rackwatch::test
