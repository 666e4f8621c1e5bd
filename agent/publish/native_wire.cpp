#include "publish/wire_format.hpp"

namespace rackwatch {

std::vector<Message> NativeWire::birth(const std::vector<Record>& state) {
  std::vector<Message> out;
  out.reserve(state.size());
  for (const auto& r : state) out.push_back(stored_form(r));
  return out;
}

}  // namespace rackwatch
