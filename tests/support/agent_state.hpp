// A running agent's state as `rackwatch status --json` gives it: for tests
// that wait on the agent's own counters rather than on the clock.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include <boost/json.hpp>

#include "support/run.hpp"

namespace rackwatch::test {

// The "status" object, or nothing when the agent does not answer (yet).
inline std::optional<boost::json::value> agent_state(const std::string& socket) {
  auto r = rackwatch_verb(socket, {"status", "--json"});
  if (r.exit_code != 0) return std::nullopt;
  return boost::json::parse(r.out).at("status");
}

// A 64-bit field: proto3 JSON writes it as a string.
inline std::int64_t json_int(const boost::json::value& v) { return std::stoll(std::string(v.as_string())); }

// One source's entry in the state's "sources".
inline const boost::json::value& source_state(const boost::json::value& state, const std::string& name) {
  for (const auto& s : state.at("sources").as_array()) {
    if (s.at("name").as_string() == name) return s;
  }
  throw std::runtime_error("no source " + name + " in the agent's status");
}

}  // namespace rackwatch::test
