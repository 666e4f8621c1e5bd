// A SunSpec device image for the `modbus_peer`'s register map: the marker
// "SunS" at a base, model blocks one after another (the common model with
// its strings, a float meter 213 with a few values, any other block as its
// header only), the end marker. The test writes the profile's model's data
// itself (support/modbus_profile_maps.hpp), where `header` says it is.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace rackwatch::test {

// `text` as registers, two characters a register, high byte first, NULs
// after: the map's literal values.
inline std::string text_registers(const std::string& text, std::size_t registers) {
  std::string out;
  for (std::size_t r = 0; r < registers; ++r) {
    const auto at = [&](std::size_t i) { return i < text.size() ? static_cast<unsigned char>(text[i]) : 0u; };
    out += " " + std::to_string(at(2 * r) << 8 | at(2 * r + 1));
  }
  return out;
}

struct Strings {
  std::string manufacturer = "Rackwatch Test Meters";  // 21 characters: more than one register's worth
  std::string model = "RT-3Y 400V";
  std::string version = "4.2.0";
  std::string serial = "RT0042-0815";
};

struct Block {
  std::uint16_t id;
  std::uint16_t length;
  // The ID register as a map value other than the ID itself: a generator
  // ("u16 ramp 203 1 100": 203, then 204 from clock 100) makes a chain that
  // changes while the connection stays.
  std::string id_value = {};
};

// "SunS" at `base`, then `blocks` one after another, then the end marker:
// the headers, the common model's strings, some floats in a 213, and where
// each block's data begins. The profile's model's data is left to the
// MapWriter.
struct Skeleton {
  std::string map;
  std::map<std::uint16_t, std::uint32_t> header;  // by model ID: its header's address
  std::uint32_t end = 0;
};

inline Skeleton skeleton(std::uint32_t base, const std::vector<Block>& blocks, const Strings& s) {
  Skeleton out;
  out.map = "holding " + std::to_string(base) + " 0x5375 0x6E53   # \"SunS\"\n";
  std::uint32_t at = base + 2;
  for (const auto& b : blocks) {
    out.header[b.id] = at;
    if (b.id_value.empty()) {
      out.map += "holding " + std::to_string(at) + " " + std::to_string(b.id) + " " + std::to_string(b.length) +
                 "   # model " + std::to_string(b.id) + "\n";
    } else {
      out.map += "holding " + std::to_string(at) + " " + b.id_value + "   # model " + std::to_string(b.id) + "\n";
      out.map += "holding " + std::to_string(at + 1) + " " + std::to_string(b.length) + "\n";
    }
    const std::uint32_t data = at + 2;
    if (b.id == 1) {
      out.map += "holding " + std::to_string(data) + text_registers(s.manufacturer, 16) + text_registers(s.model, 16) +
                 text_registers("", 8) + text_registers(s.version, 8) + text_registers(s.serial, 16) + " 1 0\n";
    } else if (b.id == 213) {
      out.map += "holding " + std::to_string(data) + " f32 12.5 4.1 4.2 4.2 230.4 230.1\n";
    }
    at = data + b.length;
  }
  out.end = at;
  out.map += "holding " + std::to_string(at) + " 0xFFFF 0   # end\n";
  return out;
}

}  // namespace rackwatch::test
