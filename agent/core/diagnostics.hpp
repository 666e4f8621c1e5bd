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
  // The first problems found are kept and the rest only counted: a file of
  // one mistake repeated 300,000 times must not cost memory and log lines
  // in proportion. Enough to fix a file in one pass.
  static constexpr std::size_t kKept = 100;

  void error(SourceMark mark, std::string message);
  bool empty() const { return items_.empty(); }
  // Every problem found, the counted ones included.
  std::size_t size() const { return items_.size() + omitted_; }
  const std::vector<Diagnostic>& items() const { return items_; }
  std::size_t omitted() const { return omitted_; }
  // One line per kept problem, sorted by place: "FILE:LINE:COL: message";
  // then how many more there were.
  void print(std::ostream& out) const;
  // "and 340000 more problems, not listed", or empty.
  std::string omitted_text() const;

 private:
  std::vector<Diagnostic> items_;
  std::size_t omitted_ = 0;
};

std::string format_mark(const SourceMark& mark);

}  // namespace rackwatch
