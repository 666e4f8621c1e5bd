// The source types a program knows, looked up by their `type:` name. Each
// program fills one with the protocols it was built with (sources/builtin/).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/source_parser.hpp"
#include "sources/source.hpp"

namespace rackwatch {

class SourceTypes final : public SourceParsers {
 public:
  // Types are listed (in messages) in the order they were added. `type` must
  // outlive this set: protocols hand out statics.
  SourceTypes& add(const SourceType& type);

  // nullptr when no type has that name.
  const SourceType* find(std::string_view name) const override;
  std::string names() const override;

 private:
  std::vector<const SourceType*> types_;
};

// advise() of every type over its sources in `config`, type by type in
// the order of their first source.
std::vector<std::string> source_advice(const Config& config, const SourceTypes& types);

}  // namespace rackwatch
