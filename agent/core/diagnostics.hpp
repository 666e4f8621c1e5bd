// Problems found in a config file, each with its place: FILE:LINE:COL: message.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace rackwatch {

// A place in a file; line and column count from 1 (0 when unknown).
struct SourceMark {
  std::string file;
  int line = 0;
  int column = 0;
};

struct Diagnostic {
  SourceMark mark;
  std::string message;
};

class Diagnostics {
 public:
  void error(SourceMark mark, std::string message);
  bool empty() const { return items_.empty(); }
  std::size_t size() const { return items_.size(); }
  const std::vector<Diagnostic>& items() const { return items_; }
  // One line per problem, sorted by place: "FILE:LINE:COL: message".
  void print(std::ostream& out) const;

 private:
  std::vector<Diagnostic> items_;
};

std::string format_mark(const SourceMark& mark);

}  // namespace rackwatch
