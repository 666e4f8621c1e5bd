#include "sources/registry.hpp"

namespace rackwatch {

SourceTypes& SourceTypes::add(const SourceType& type) {
  types_.push_back(&type);
  return *this;
}

const SourceType* SourceTypes::find(std::string_view name) const {
  for (const auto* t : types_) {
    if (t->name() == name) return t;
  }
  return nullptr;
}

std::string SourceTypes::names() const {
  std::string out;
  for (const auto* t : types_) {
    if (!out.empty()) out += ", ";
    out += t->name();
  }
  return out;
}

}  // namespace rackwatch
