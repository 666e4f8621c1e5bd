#include "core/diagnostics.hpp"

#include "core/printable.hpp"

#include <algorithm>
#include <ostream>
#include <tuple>

namespace rackwatch {

void Diagnostics::error(SourceMark mark, std::string message) {
  if (items_.size() >= kKept) {
    ++omitted_;
    return;
  }
  // A message quotes the file's text, which may hold anything.
  items_.push_back({std::move(mark), printable(message)});
}

std::string Diagnostics::omitted_text() const {
  if (omitted_ == 0) return {};
  return "and " + std::to_string(omitted_) + " more problem" + (omitted_ == 1 ? "" : "s") + ", not listed (fix the " +
         std::to_string(kKept) + " above first)";
}

void Diagnostics::print(std::ostream& out) const {
  auto sorted = items_;
  std::stable_sort(sorted.begin(), sorted.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.mark.file, a.mark.line, a.mark.column) <
           std::tie(b.mark.file, b.mark.line, b.mark.column);
  });
  for (const auto& d : sorted) out << format_mark(d.mark) << ": " << d.message << '\n';
  if (omitted_ > 0) out << (sorted.empty() ? std::string("<config>") : sorted.back().mark.file) << ": " << omitted_text() << '\n';
}

std::string format_mark(const SourceMark& mark) {
  std::string s = mark.file.empty() ? "<config>" : mark.file;
  if (mark.line > 0) {
    s += ':' + std::to_string(mark.line);
    s += ':' + std::to_string(mark.column > 0 ? mark.column : 1);
  }
  return s;
}

}  // namespace rackwatch
