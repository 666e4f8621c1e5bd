// A whole file as a string, for tests and benchmarks that read fixtures;
// a file that cannot be read is an error, not an empty text.
#pragma once

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace rackwatch::test {

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace rackwatch::test
