// A config from the text a test writes, with every built-in source type,
// or the test ends with what was refused and the text itself.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

#include "core/config.hpp"
#include "sources/builtin/builtin_types.hpp"

namespace rackwatch::test {

// `file`: where the config is said to be, for what it names beside it
// (profiles/ in its directory).
inline Config parse_config_text(const std::string& text, const std::string& file = "/nonexistent/rackwatch.yaml") {
  Diagnostics diags;
  auto config = parse_config(text, file, builtin_source_types(), diags);
  if (!config) {
    std::ostringstream out;
    diags.print(out);
    throw std::runtime_error("config refused:\n" + out.str() + "\n" + text);
  }
  return std::move(*config);
}

}  // namespace rackwatch::test
