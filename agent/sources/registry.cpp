#include "sources/registry.hpp"

#include <algorithm>

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

std::vector<std::string> source_advice(const Config& config, const SourceTypes& types) {
  std::vector<std::string> out;
  std::vector<std::string> seen;
  for (const auto& first : config.sources) {
    if (std::find(seen.begin(), seen.end(), first.type) != seen.end()) continue;
    seen.push_back(first.type);
    const auto* type = types.find(first.type);
    if (!type) continue;
    std::vector<const SourceConfig*> of_type;
    for (const auto& s : config.sources) {
      if (s.type == first.type) of_type.push_back(&s);
    }
    for (auto& advice : type->advise(of_type)) out.push_back(std::move(advice));
  }
  return out;
}

}  // namespace rackwatch
