#include "sources/snmp/snmp_oid.hpp"

#include <algorithm>
#include <charconv>

namespace rackwatch::snmp {

namespace {
constexpr std::size_t kMaxArcs = 128;
}

std::optional<Oid> parse_oid(std::string_view text) {
  if (!text.empty() && text.front() == '.') text.remove_prefix(1);
  Oid out;
  while (true) {
    const auto dot = text.find('.');
    const auto arc = text.substr(0, dot);
    if (arc.empty() || arc.size() > 10 || out.size() == kMaxArcs) return std::nullopt;
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(arc.data(), arc.data() + arc.size(), value);
    if (ec != std::errc{} || end != arc.data() + arc.size() || value > 0xFFFF'FFFFull) return std::nullopt;
    out.push_back(static_cast<std::uint32_t>(value));
    if (dot == std::string_view::npos) break;
    text.remove_prefix(dot + 1);
  }
  if (out.size() < 2 || out[0] > 2 || (out[0] < 2 && out[1] >= 40)) return std::nullopt;
  return out;
}

std::string format_oid(const Oid& oid) {
  std::string out;
  for (std::size_t i = 0; i < oid.size(); ++i) {
    if (i) out += '.';
    out += std::to_string(oid[i]);
  }
  return out;
}

bool starts_with(const Oid& oid, const Oid& prefix) {
  return oid.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), oid.begin());
}

}  // namespace rackwatch::snmp
