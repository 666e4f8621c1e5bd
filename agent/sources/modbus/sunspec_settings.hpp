// SunSpec as a Modbus source is configured with it: the model a profile
// describes (its `sunspec:` block), and, for a source with `sunspec:`,
// where to look for the device's map so that the model is found wherever
// the device's chain puts it.
#pragma once

#include <cstdint>
#include <vector>

namespace rackwatch::modbus {

// A profile of one SunSpec model: its ID and length (from the model's
// definition), and where the profile's addresses assume its data begins —
// the layout most devices have, so that the profile also serves as a fixed
// map. Discovery moves every address by (found data start − data_start).
struct SunSpecModel {
  std::uint16_t id = 0;
  std::uint16_t length = 0;
  std::uint16_t data_start = 0;
};

struct SunSpecSettings {
  std::vector<std::uint16_t> bases;  // where to look for "SunS", in order
  bool base_auto = true;             // `base: auto` (for messages)
  SunSpecModel model;
};

}  // namespace rackwatch::modbus
