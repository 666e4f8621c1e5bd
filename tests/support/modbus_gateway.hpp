// The 300-point gateway of the Modbus tests and benchmark: four unit ids
// behind one TCP gateway, their profiles and what the peer serves for them.
//
// Unit 1: 75 u16 at holding 0..74            → 1 read (75 registers)
// Unit 2: 75 u32 at holding 100..249         → 2 reads (150 registers > 125)
// Unit 3: 40 f32 cdab at input 0..79, and 35 s16 at holding 1000..1034
//                                           → 2 reads (two tables)
// Unit 4: 50 u16 at every other holding register 0..98 (read through the
//         one-register gaps, max_gap 1), and 25 coils 0..24
//                                           → 2 reads
// Minimum: 7 requests a tick for 300 points.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rackwatch::test {

inline constexpr int kGatewayUnits = 4;
inline constexpr int kGatewayPoints = 300;
inline constexpr int kGatewayMinimumReads = 7;

struct GatewayPoint {
  std::string yaml;   // the point's profile entry
  std::string table;  // as the served log names it
  std::uint16_t address;
  std::uint16_t count;
  std::string type;
};

inline std::vector<GatewayPoint> unit_points(int unit) {
  std::vector<GatewayPoint> out;
  auto add = [&](const std::string& name, const std::string& table, int address, const std::string& type,
                 std::uint16_t count, const std::string& extra = "") {
    out.push_back({"  - {name: " + name + ", table: " + table + ", address: " + std::to_string(address) +
                       ", type: " + type + ", quantity: power" + extra + "}\n",
                   table, static_cast<std::uint16_t>(address), count, type});
  };
  switch (unit) {
    case 1:
      for (int i = 0; i < 75; ++i) add("p" + std::to_string(i), "holding", i, "u16", 1);
      break;
    case 2:
      for (int i = 0; i < 75; ++i) add("p" + std::to_string(i), "holding", 100 + 2 * i, "u32", 2);
      break;
    case 3:
      for (int i = 0; i < 40; ++i) add("f" + std::to_string(i), "input", 2 * i, "f32", 2, ", order: cdab");
      for (int i = 0; i < 35; ++i) add("s" + std::to_string(i), "holding", 1000 + i, "s16", 1, ", sentinels: false");
      break;
    case 4:
      for (int i = 0; i < 50; ++i) add("h" + std::to_string(i), "holding", 2 * i, "u16", 1);
      for (int i = 0; i < 25; ++i) add("c" + std::to_string(i), "coil", i, "bit", 1);
      break;
    default:
      break;
  }
  return out;
}

// The profile of unit `unit`; unit 4 is to be read with max_gap: 1.
inline std::string unit_profile(int unit) {
  std::string profile = "description: gateway unit " + std::to_string(unit) + "\npoints:\n";
  for (const auto& p : unit_points(unit)) profile += p.yaml;
  return profile;
}

// What the peer serves for unit `unit`: every point's registers with a
// generator, so values change with the clock.
inline std::string unit_map(int unit) {
  std::string map;
  for (const auto& p : unit_points(unit)) {
    const auto a = std::to_string(p.address);
    if (p.table == "coil") {
      map += "coil " + a + " ramp " + std::to_string(p.address % 2) + " 1\n";
    } else if (p.type == "f32") {
      map += "input " + a + " f32:cdab sine " + std::to_string(100 + p.address) + " 25.5 60\n";
    } else if (p.type == "s16") {
      map += "holding " + a + " s16 ramp " + std::to_string(-500 + p.address) + " 7\n";
    } else if (p.type == "u32") {
      map += "holding " + a + " u32 ramp " + std::to_string(70000 + 1000 * p.address) + " 13\n";
    } else {
      map += "holding " + a + " u16 ramp " + std::to_string(unit * 1000 + p.address) + " 3\n";
    }
  }
  return map;
}

}  // namespace rackwatch::test
