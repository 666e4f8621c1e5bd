#include "sources/registry.hpp"

#include <array>

#include "sources/hwmon/hwmon_source.hpp"
#include "sources/modbus/modbus_source.hpp"
#include "sources/sim/sim_source.hpp"
#include "sources/source.hpp"

namespace rackwatch {
namespace {

// One line a protocol.
const std::array<const SourceType*, 3>& all_types() {
  static const std::array<const SourceType*, 3> types{&hwmon_source_type(), &modbus::modbus_source_type(),
                                                      &sim_source_type()};
  return types;
}

}  // namespace

const SourceType* find_source_type(std::string_view name) {
  for (const auto* t : all_types()) {
    if (t->name() == name) return t;
  }
  return nullptr;
}

std::string source_type_names() {
  std::string out;
  for (const auto* t : all_types()) {
    if (!out.empty()) out += ", ";
    out += t->name();
  }
  return out;
}

}  // namespace rackwatch
